-- Row-level security on crm.node_sources: a source link is visible with its node (the
-- caller's node policies apply inside the EXISTS); written by reconciliation and merges
-- (SECURITY DEFINER, as owner) and by admins.
ALTER TABLE crm.node_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.node_sources FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS node_sources_select ON crm.node_sources;
CREATE POLICY node_sources_select ON crm.node_sources FOR SELECT TO crm_reader, crm_connector
USING (
    (SELECT crm_private.actor_is_admin())
    OR EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = node_id)
);

DROP POLICY IF EXISTS node_sources_admin ON crm.node_sources;
CREATE POLICY node_sources_admin ON crm.node_sources FOR ALL TO crm_admin USING (true) WITH CHECK (true);
