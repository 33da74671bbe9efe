-- crm_private.node_by_key(p_source, p_key, p_role) — the live node with this source key, if
-- p_role can see it.
-- Guarantees: the lookup uses the key index as crm_owner (no row-level security filter runs
-- after it, so a caller's EXPLAIN shows nothing of it); the id is returned only when p_role
-- (the caller's current_user, trusted only when the session may become it) may see the node
-- by the rules of the nodes policy — a hidden node and a missing one both give NULL.
CREATE OR REPLACE FUNCTION crm_private.node_by_key(p_source text, p_key text, p_role name)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT n.id
      FROM crm.nodes n
     WHERE ARRAY[n.external_source, n.external_id] = ARRAY[p_source, p_key]
       AND n.external_id IS NOT NULL AND n.external_source <> 'internal' AND n.archived_at IS NULL
       AND (crm_private.role_is_admin(p_role)
            OR n.acl IS NULL
            OR n.acl && crm_private.caller_principals(p_role)
            OR crm_private.node_grant_match(crm_private.caller_grants(p_role), 'read', n.node_type, n.attrs, n.acl))
$$;

COMMENT ON FUNCTION crm_private.node_by_key(text, text, name) IS
    'The live node with a source key (index lookup as crm360), returned only if the caller role may see it (else NULL, as for a missing key).';
