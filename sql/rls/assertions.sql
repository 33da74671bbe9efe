-- Row-level security on crm.assertions: visible when the subject is (copied acl; edge
-- subjects through the edges policy) AND, for sensitive types (deal_value,
-- negotiation_stance), the caller holds an assertion grant for the type. Writing (new
-- claims and supersession) needs the subject writable or an assertion write grant; sensitive
-- types additionally need a grant for the type.
ALTER TABLE crm.assertions ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.assertions FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS assertions_select ON crm.assertions;
CREATE POLICY assertions_select ON crm.assertions FOR SELECT TO crm_reader, crm_connector
USING (
    (SELECT crm_private.actor_is_admin())
    OR ((acl IS NULL OR acl && (SELECT crm_private.actor_principals())
         OR ((SELECT crm_private.actor_has_grants('node')) AND crm_private.node_visible(subject_node_id))
         OR (subject_edge_id IS NOT NULL AND EXISTS (SELECT 1 FROM crm.edges e WHERE e.id = subject_edge_id)))
        AND (NOT sensitive
             OR crm_private.type_grant_match((SELECT crm_private.actor_grants()), 'assertion', 'read', assertion_type)))
);

-- admins read every row: the select policy's first arm as a policy of its own, for crm_admin.
-- Its USING (true) is a constant the planner folds into the combined policy, so an admin's
-- reads plan like the table owner's (an index-only count instead of the policy evaluated per
-- row: issue 16). Same rows as before: an admin role never acts for a user (crm.act_as refuses
-- crm_admin members; they SET LOCAL ROLE crm_service first, which is not an admin).
DROP POLICY IF EXISTS assertions_select_admin ON crm.assertions;
CREATE POLICY assertions_select_admin ON crm.assertions FOR SELECT TO crm_admin USING (true);

DROP POLICY IF EXISTS assertions_insert ON crm.assertions;
CREATE POLICY assertions_insert ON crm.assertions FOR INSERT TO crm_writer
WITH CHECK (
    (SELECT crm_private.actor_is_admin())
    OR ((SELECT crm.current_actor()) IS NOT NULL
        AND (crm_private.can_write_node(subject_node_id)
             OR (subject_edge_id IS NOT NULL AND EXISTS (SELECT 1 FROM crm.edges e WHERE e.id = subject_edge_id))
             OR crm_private.type_grant_match((SELECT crm_private.actor_grants()), 'assertion', 'write', assertion_type))
        AND (NOT sensitive
             OR crm_private.type_grant_match((SELECT crm_private.actor_grants()), 'assertion', 'read', assertion_type)))
);

DROP POLICY IF EXISTS assertions_update ON crm.assertions;
CREATE POLICY assertions_update ON crm.assertions FOR UPDATE TO crm_writer
USING (
    (SELECT crm_private.actor_is_admin())
    OR ((SELECT crm.current_actor()) IS NOT NULL
        AND (crm_private.can_write_node(subject_node_id)
             OR (subject_edge_id IS NOT NULL AND EXISTS (SELECT 1 FROM crm.edges e WHERE e.id = subject_edge_id))
             OR crm_private.type_grant_match((SELECT crm_private.actor_grants()), 'assertion', 'write', assertion_type))
        AND (NOT sensitive
             OR crm_private.type_grant_match((SELECT crm_private.actor_grants()), 'assertion', 'read', assertion_type)))
);

DROP POLICY IF EXISTS assertions_delete ON crm.assertions;
CREATE POLICY assertions_delete ON crm.assertions FOR DELETE TO crm_admin USING (true);
