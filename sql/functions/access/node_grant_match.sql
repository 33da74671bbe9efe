-- crm_private.node_grant_match(p_grants, p_level, p_node_type, p_attrs, p_acl) — does one of the
-- grants allow p_level ('read' or 'write') on a node with these attributes?
-- Every scope key must match (AND, never OR — the predecessor's bug): node_type, and teams
-- (the node is tagged with one of the team names in attrs.teams, or restricted to one of the
-- teams). A write grant implies read.
CREATE OR REPLACE FUNCTION crm_private.node_grant_match(p_grants jsonb, p_level text, p_node_type text,
                                                       p_attrs jsonb, p_acl uuid[])
RETURNS boolean
LANGUAGE sql
IMMUTABLE
-- restricted, not safe: the nodes select policy evaluates it per row (the grants arm's filter),
-- and a policy qual that may run in a worker let the planner pick a parallel bitmap scan for
-- a rep's count(*) whose worker start-up cost more than the scan (17 ms vs 5 ms serial at
-- 100k nodes; issue 16 item 2). Admins' reads (the folded admin policy) stay parallel.
PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1 FROM jsonb_array_elements(p_grants) g
         WHERE g ->> 'resource_type' = 'node'
           AND (p_level = 'read' OR g ->> 'access_level' = 'write')
           AND (jsonb_typeof(g -> 'node_types') IS DISTINCT FROM 'array' OR (g -> 'node_types') ? p_node_type)
           AND (jsonb_typeof(g -> 'teams') IS DISTINCT FROM 'array'
                OR (jsonb_typeof(p_attrs -> 'teams') = 'array'
                    AND (p_attrs -> 'teams') ?| ARRAY(SELECT jsonb_array_elements_text(g -> 'teams')))
                OR p_acl && ARRAY(SELECT (jsonb_array_elements_text(g -> 'team_ids'))::uuid)))
$$;

COMMENT ON FUNCTION crm_private.node_grant_match(jsonb, text, text, jsonb, uuid[]) IS
    'True when one of the grants gives p_level access to a node of that type/tags/acl; all scope keys must match.';
