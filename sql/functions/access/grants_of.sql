-- crm_private.grants_of(p_principals) — the live access grants of a set of principals, resolved.
-- Returns a jsonb array of {resource_type, access_level, node_types, teams, team_ids,
-- assertion_types, edge_types, event_types}; absent scope keys are JSON null (= any).
-- SECURITY DEFINER: crm.access_grants is admin-only to read directly.
CREATE OR REPLACE FUNCTION crm_private.grants_of(p_principals uuid[])
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'resource_type', g.resource_type,
               'access_level', g.access_level,
               'node_types', crm_private.scope_list(g.scope -> 'node_type'),
               'teams', crm_private.scope_list(g.scope -> 'teams'),
               'team_ids', CASE WHEN g.scope ? 'teams' THEN
                   (SELECT coalesce(jsonb_agg(t.id), '[]') FROM crm.nodes t
                     WHERE t.node_type = 'team' AND t.archived_at IS NULL
                       AND t.properties ->> 'name' IN (SELECT jsonb_array_elements_text(crm_private.scope_list(g.scope -> 'teams'))))
                 END,
               'assertion_types', crm_private.scope_list(g.scope -> 'assertion_type'),
               'edge_types', crm_private.scope_list(g.scope -> 'edge_type'),
               'event_types', crm_private.scope_list(g.scope -> 'event_type'))), '[]')
      FROM crm.access_grants g
     WHERE g.revoked_at IS NULL
       AND g.grantee_id = ANY (p_principals)
$$;

COMMENT ON FUNCTION crm_private.grants_of(uuid[]) IS
    'Live access grants whose grantee is one of the principals, with scopes normalised to arrays (null = any).';
