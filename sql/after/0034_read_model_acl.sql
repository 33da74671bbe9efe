-- After 0034 (crm360.migrator: runs once, as crm_owner, right after the repeatable files of
-- the migrate that applied 0034 — so crm_private.typed_acl and the trigger
-- crm_private.tg_nodes__read_model_acl exist; safe to run twice).
-- 1. The typed acl index of crm.nodes (its expression is the repeatable function
--    crm_private.typed_acl): crm_private.visible_node_ids reads only the nodes of the type it
--    is asked for through it, instead of every node of the caller's principals.
-- 2. Refresh the two rebuilt read models now that acl changes are logged: the refresh removes
--    the "trust no stored acl" rows 0034 wrote, and the wrappers use the stored acls again.
CREATE INDEX IF NOT EXISTS nodes_typed_acl ON crm.nodes USING gin (crm_private.typed_acl(node_type, acl));

SELECT crm_private.refresh_read_model(m.read_model)
  FROM crm_private.read_models m
 WHERE m.read_model IN ('crm_private.opportunities_active_mv', 'crm_private.contacts_directory_mv')
 ORDER BY m.refresh_order;
