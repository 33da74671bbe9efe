-- crm_private.principals_of(p_user_id) — the user and every team it belongs to, transitively.
-- Guarantees: follows live member_of edges (user→team, team→team) that are in effect now
-- (effective_from <= now() < effective_to); nesting cycles terminate; NULL user → '{}'.
-- SECURITY DEFINER: reading edges must not re-enter the edge policies (which call this).
CREATE OR REPLACE FUNCTION crm_private.principals_of(p_user_id uuid)
RETURNS uuid[]
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    WITH RECURSIVE p(id) AS (
        SELECT p_user_id WHERE p_user_id IS NOT NULL
        UNION
        SELECT e.target_id
          FROM p
          JOIN crm.edges e ON e.source_id = p.id AND e.edge_type = 'member_of'
         WHERE e.archived_at IS NULL
           AND (e.effective_from IS NULL OR e.effective_from <= now())
           AND (e.effective_to IS NULL OR e.effective_to > now())
    )
    SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM p
$$;

COMMENT ON FUNCTION crm_private.principals_of(uuid) IS
    'The user node id plus the ids of all teams it is a member of, directly or through nested teams (current member_of edges).';
