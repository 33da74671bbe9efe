-- transactional: false
-- 0013 a partial index on crm.nodes (node_type) WHERE acl IS NULL.
-- Why: crm_private.visible_node_ids (the member branch of the materialized wrapper views
-- crm.opportunities_active / crm.contacts_directory) unions the caller's acl matches with the
-- nodes of the type that are not access-checked (acl IS NULL). For an access-checked type
-- (opportunity, person, ...) that arm is empty, but without this index it was answered by
-- reading every node of the type through nodes_type — O(nodes of the type) per query for a
-- sales rep who sees 1/200 of them. With it, the arm costs O(matching rows) (nothing for
-- checked types); the index holds only the nodes of non-checked types (teams, users, ...).
-- Built CONCURRENTLY (DESIGN §3), hence not transactional; safe to run twice.
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS nodes_type_acl_null ON crm.nodes (node_type) WHERE acl IS NULL;
RESET lock_timeout;
