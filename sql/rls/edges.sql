-- Row-level security on crm.edges: an edge is visible only when both of its ends are (fast
-- path on the copied source_acl/target_acl; grant holders fall back to the nodes policy).
-- Writing needs the edge type to be writable by the role (crm.edge_types.write_scope:
-- member_of — team membership — is admin-only, merged_into crm360-only), both ends visible
-- (checked by the trigger, 42501) and the right to write the source node, or an edge write
-- grant for the edge type.
ALTER TABLE crm.edges ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.edges FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS edges_select ON crm.edges;
CREATE POLICY edges_select ON crm.edges FOR SELECT TO crm_reader, crm_connector
USING (
    (SELECT crm_private.actor_is_admin())
    OR ((source_acl IS NULL OR source_acl && (SELECT crm_private.actor_principals()))
        AND (target_acl IS NULL OR target_acl && (SELECT crm_private.actor_principals())))
    OR ((SELECT crm_private.actor_has_grants('node'))
        AND crm_private.node_visible(source_id) AND crm_private.node_visible(target_id))
);

-- admins read every row: the select policy's first arm as a policy of its own, for crm_admin.
-- Its USING (true) is a constant the planner folds into the combined policy, so an admin's
-- reads plan like the table owner's (an index-only count instead of the policy evaluated per
-- row: issue 16). Same rows as before: an admin role never acts for a user (crm.act_as refuses
-- crm_admin members; they SET LOCAL ROLE crm_service first, which is not an admin).
DROP POLICY IF EXISTS edges_select_admin ON crm.edges;
CREATE POLICY edges_select_admin ON crm.edges FOR SELECT TO crm_admin USING (true);

DROP POLICY IF EXISTS edges_insert ON crm.edges;
CREATE POLICY edges_insert ON crm.edges FOR INSERT TO crm_writer
WITH CHECK (
    edge_type = ANY ((SELECT crm_private.writable_edge_types())::text[])
    AND ((SELECT crm_private.actor_is_admin())
         OR ((SELECT crm.current_actor()) IS NOT NULL
             AND (crm_private.can_write_node(source_id)
                  OR crm_private.type_grant_match((SELECT crm_private.actor_grants()), 'edge', 'write', edge_type))))
);

DROP POLICY IF EXISTS edges_update ON crm.edges;
CREATE POLICY edges_update ON crm.edges FOR UPDATE TO crm_writer
USING (
    edge_type = ANY ((SELECT crm_private.writable_edge_types())::text[])
    AND ((SELECT crm_private.actor_is_admin())
         OR ((SELECT crm.current_actor()) IS NOT NULL
             AND ((source_acl IS NULL OR source_acl && (SELECT crm_private.actor_principals()))
                   AND (target_acl IS NULL OR target_acl && (SELECT crm_private.actor_principals()))
                  OR (crm_private.node_visible(source_id) AND crm_private.node_visible(target_id)))
             AND (crm_private.can_write_node(source_id)
                  OR crm_private.type_grant_match((SELECT crm_private.actor_grants()), 'edge', 'write', edge_type))))
)
WITH CHECK (
    edge_type = ANY ((SELECT crm_private.writable_edge_types())::text[])
    AND ((SELECT crm_private.actor_is_admin())
         OR ((SELECT crm.current_actor()) IS NOT NULL
             AND (crm_private.can_write_node(source_id)
                  OR crm_private.type_grant_match((SELECT crm_private.actor_grants()), 'edge', 'write', edge_type))))
);

DROP POLICY IF EXISTS edges_delete ON crm.edges;
CREATE POLICY edges_delete ON crm.edges FOR DELETE TO crm_admin USING (true);
