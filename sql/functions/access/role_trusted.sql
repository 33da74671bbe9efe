-- crm_private.role_trusted(p_role) — may this session evaluate access as p_role?
-- Guarantees: true only when p_role is an existing role that the session's login
-- (session_user) may become with SET ROLE — i.e. asking "what does p_role see" reveals
-- nothing the session could not see by switching to it. Every helper that takes the
-- caller's role as a parameter (because SECURITY DEFINER code cannot see the caller's
-- current_user) answers only for a trusted role; for anything else it answers as for a
-- role without identity. NULL or unknown role → false (never an error).
CREATE OR REPLACE FUNCTION crm_private.role_trusted(p_role name)
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_role IS NOT NULL
       AND pg_catalog.to_regrole(pg_catalog.quote_ident(p_role)) IS NOT NULL
       AND pg_catalog.pg_has_role(session_user, p_role, 'SET')
$$;

COMMENT ON FUNCTION crm_private.role_trusted(name) IS
    'True when the session''s login may SET ROLE to p_role (so evaluating access as p_role reveals nothing new); false for NULL/unknown roles.';
