-- crm_private.actor_grant_node_types() — the node types the current actor's node grants
-- reach (any level: a write grant also reads). Guarantees: a superset of the types
-- crm_private.node_grant_match can ever accept for the actor's grants — a grant with no
-- node_type scope reaches every registered type (crm.nodes.node_type references
-- crm.node_types); '{}' when the actor holds no node grant. Used in the nodes select policy
-- as (select …) so the grants arm starts with an indexable node_type = ANY(…) and the whole
-- policy plans as one BitmapOr (acl IS NULL, acl && principals, node_type): a rep's read
-- costs what the rep can see (issue 16 item 2).
CREATE OR REPLACE FUNCTION crm_private.actor_grant_node_types()
RETURNS text[]
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH g AS (
        SELECT x AS grant
          FROM jsonb_array_elements(crm_private.actor_grants()) AS x
         WHERE x ->> 'resource_type' = 'node'
    )
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM g WHERE jsonb_typeof(g.grant -> 'node_types') IS DISTINCT FROM 'array')
            THEN ARRAY(SELECT t.node_type::text FROM crm.node_types t)
        ELSE ARRAY(SELECT DISTINCT y FROM g CROSS JOIN LATERAL jsonb_array_elements_text(g.grant -> 'node_types') AS y)
    END
$$;

COMMENT ON FUNCTION crm_private.actor_grant_node_types() IS
    'The node types the current actor''s node grants reach (every registered type for a grant without a node_type scope; empty without node grants): the indexable prefilter of the nodes select policy''s grants arm.';
