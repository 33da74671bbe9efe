-- crm_private.raise_not_visible(p_what, p_id) — the one error for "you cannot reference that
-- node": 42501 for non-admins whether the node is hidden or does not exist (no existence
-- oracle through foreign keys, which skip RLS); 23503 for admins, who see everything.
CREATE OR REPLACE FUNCTION crm_private.raise_not_visible(p_what text, p_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF crm_private.actor_is_admin() THEN
        RAISE EXCEPTION '% node % does not exist', p_what, p_id
            USING ERRCODE = '23503', HINT = 'create the node first';
    END IF;
    RAISE EXCEPTION '% node % does not exist or is not visible to you', p_what, p_id
        USING ERRCODE = '42501', HINT = 'you can only reference nodes you can see';
END;
$$;

COMMENT ON FUNCTION crm_private.raise_not_visible(text, uuid) IS
    'Raises 42501 (non-admin) or 23503 (admin) for a referenced node that is not visible or does not exist.';
