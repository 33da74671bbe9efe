-- 0007 node sources (issue 5, docs/graph_contract.md): which source records each graph node
-- was made from (many source records -> one node), and the index reconciliation uses to
-- resolve accounts by domain. Never calls a repeatable function; safe to run twice.
SET LOCAL lock_timeout = '5s';

CREATE TABLE IF NOT EXISTS crm.node_sources (
    source            text NOT NULL,
    object            text NOT NULL,
    external_id       text NOT NULL,
    node_id           uuid NOT NULL REFERENCES crm.nodes (id),
    first_seen        timestamptz NOT NULL DEFAULT now(),
    last_seen         timestamptz NOT NULL DEFAULT now(),
    source_updated_at timestamptz,
    last_record_id    bigint,
    PRIMARY KEY (source, object, external_id)
);
COMMENT ON TABLE crm.node_sources IS 'Source links: each source record (source, object, external_id) -> the graph node it describes. Many records map to one node (a Salesforce Contact, a Zendesk user and a Stripe customer -> one person; a Zendesk organization -> its account). crm.merge_nodes moves the links to the kept node, so lookups by an old source id keep working.';
COMMENT ON COLUMN crm.node_sources.first_seen IS 'When reconciliation first applied a record with this key';
COMMENT ON COLUMN crm.node_sources.last_seen IS 'When reconciliation last applied a version of this record';
COMMENT ON COLUMN crm.node_sources.source_updated_at IS 'Source modification time of the version last applied (older versions arriving later are skipped as stale)';
COMMENT ON COLUMN crm.node_sources.last_record_id IS 'crm_raw.records.id of the version last applied';
CREATE INDEX IF NOT EXISTS node_sources_node ON crm.node_sources (node_id);

-- Accounts by their normalized website domain (resolution of other systems' records by domain).
CREATE INDEX IF NOT EXISTS nodes_org_domain ON crm.nodes ((properties ->> 'domain'))
    WHERE node_type = 'org' AND archived_at IS NULL;
