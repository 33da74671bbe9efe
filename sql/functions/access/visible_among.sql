-- crm_private.visible_among(p_ids, p_principals, p_grants) — how many of these nodes the
-- given principals and grants may see, by the nodes policy's rules (acl NULL, acl overlapping
-- the principals, or a node read grant). Internal: the caller passes principals it computed
-- for a trusted role (crm_private.caller_principals); EXECUTE for crm_owner only, so nobody
-- can ask it about other people's principals.
CREATE OR REPLACE FUNCTION crm_private.visible_among(p_ids uuid[], p_principals uuid[], p_grants jsonb)
RETURNS integer
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*)::integer
      FROM crm.nodes n
     WHERE n.id = ANY (p_ids)
       AND crm_private.node_read_rule(n.acl, n.node_type, n.attrs, false, p_principals, p_grants)
$$;

COMMENT ON FUNCTION crm_private.visible_among(uuid[], uuid[], jsonb) IS
    'Internal: the number of the given nodes visible to the given principals/grants (nodes policy rules).';
