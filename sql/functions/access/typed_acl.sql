-- crm_private.typed_acl(p_node_type, p_acl) — the acl of a node of p_node_type as tokens of
-- that type: one uuid per principal, md5(node_type || ':' || principal).
-- Guarantees: IMMUTABLE and STRICT (NULL for a NULL acl, NULL for an empty one); the same
-- (type, principal) always gives the same token and tokens of different types differ (a
-- collision would need an md5 collision, and every reader re-checks `acl && principals`
-- anyway). It is the expression of the GIN index crm.nodes_typed_acl: a reader that wants the
-- nodes of one type a set of principals can see asks
--   typed_acl(n.node_type, n.acl) && typed_acl('<type>', principals)
-- and reads only those nodes' rows (the plain acl index returns every node of the principals,
-- of every type). Never change what it returns without rebuilding that index (REINDEX).
CREATE OR REPLACE FUNCTION crm_private.typed_acl(p_node_type text, p_acl uuid[])
RETURNS uuid[]
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.array_agg(pg_catalog.md5(p_node_type || ':' || a.principal::text)::uuid)
      FROM pg_catalog.unnest(p_acl) AS a (principal)
$$;

COMMENT ON FUNCTION crm_private.typed_acl(text, uuid[]) IS
    'The acl of a node of the given type as per-type tokens (md5 of type and principal): the expression of the GIN index crm.nodes_typed_acl, so that the nodes of one type a set of principals can see are read without the nodes of other types.';
