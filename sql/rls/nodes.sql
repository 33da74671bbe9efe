-- Row-level security on crm.nodes (DESIGN §6). Visible: admins (nodes_select_admin); nodes of types that are not
-- access-checked; nodes whose effective acl overlaps the actor's principals (user + teams,
-- transitively; the claimer is in the acl); nodes a node grant covers. Writable: admins;
-- members on nodes their teams/claims make visible that are unclaimed or claimed by them,
-- and nodes a write grant covers (a read grant never gives write) — and in every case only
-- nodes of the types the role may write (crm.node_types.write_scope: users, teams,
-- pipelines, territories and campaigns are shared by everyone and written by admins only).
-- External keys of registered sources belong to reconciliation (tg_nodes__validate, CR033).
ALTER TABLE crm.nodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.nodes FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS nodes_select ON crm.nodes;
CREATE POLICY nodes_select ON crm.nodes FOR SELECT TO crm_reader, crm_connector
USING (
    acl IS NULL
    OR acl && (SELECT crm_private.actor_principals())
    OR (node_type = ANY ((SELECT crm_private.actor_grant_node_types())::text[])
        AND crm_private.node_grant_match((SELECT crm_private.actor_grants()), 'read', node_type, attrs, acl))
);

-- Every arm of the members' policy above is indexable (nodes_type_acl_null, the GIN nodes_acl,
-- nodes_type with node_grant_match as a filter), so a rep's read plans as one BitmapOr over
-- the rows the rep can see instead of the policy evaluated on every row (issue 16 item 2).
-- It has no admin arm: admins read through the policy below.
--
-- admins read every row: a policy of its own, for crm_admin. Its USING (true) is a constant
-- the planner folds into the combined policy, so an admin's reads plan like the table owner's
-- (an index-only count instead of the policy evaluated per row: issue 16). It applies to
-- exactly the roles crm_private.actor_is_admin() is true for (privileges of crm_admin; an
-- admin role never acts for a user: crm.act_as refuses crm_admin members, who SET LOCAL ROLE
-- crm_service first, and crm_private.caller_identity stops acting for a role that gains
-- crm_admin), so the members' policy needs no admin arm of its own.
DROP POLICY IF EXISTS nodes_select_admin ON crm.nodes;
CREATE POLICY nodes_select_admin ON crm.nodes FOR SELECT TO crm_admin USING (true);

DROP POLICY IF EXISTS nodes_insert ON crm.nodes;
CREATE POLICY nodes_insert ON crm.nodes FOR INSERT TO crm_writer
WITH CHECK (
    node_type = ANY ((SELECT crm_private.writable_node_types())::text[])
    AND ((SELECT crm_private.actor_is_admin())
         OR ((SELECT crm.current_actor()) IS NOT NULL
             AND (acl IS NULL OR acl && (SELECT crm_private.actor_principals())
                  OR crm_private.node_grant_match((SELECT crm_private.actor_grants()), 'write', node_type, attrs, acl))))
);

DROP POLICY IF EXISTS nodes_update ON crm.nodes;
CREATE POLICY nodes_update ON crm.nodes FOR UPDATE TO crm_writer
USING (
    node_type = ANY ((SELECT crm_private.writable_node_types())::text[])
    AND ((SELECT crm_private.actor_is_admin())
         OR ((SELECT crm.current_actor()) IS NOT NULL
             AND (((acl IS NULL OR acl && (SELECT crm_private.actor_principals()))
                   AND (claimed_by IS NULL OR claimed_by = (SELECT crm.current_actor())))
                  OR crm_private.node_grant_match((SELECT crm_private.actor_grants()), 'write', node_type, attrs, acl))))
)
WITH CHECK (
    node_type = ANY ((SELECT crm_private.writable_node_types())::text[])
    AND ((SELECT crm_private.actor_is_admin())
         OR ((SELECT crm.current_actor()) IS NOT NULL
             AND (claimed_by IS NULL OR claimed_by = (SELECT crm.current_actor())
                  OR crm_private.node_grant_match((SELECT crm_private.actor_grants()), 'write', node_type, attrs, acl))))
);

DROP POLICY IF EXISTS nodes_delete ON crm.nodes;
CREATE POLICY nodes_delete ON crm.nodes FOR DELETE TO crm_admin USING (true);
