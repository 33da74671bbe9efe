-- 0003 core: the six tables of seed 001 §1 (nodes, edges, events, event_participants,
-- assertions, artifacts). Validation and delete-refusal triggers live with their
-- functions in sql/functions/ (re-applied on every migrate). Sections: tables, indexes.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- nodes
CREATE TABLE IF NOT EXISTS crm.nodes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    node_type       text NOT NULL REFERENCES crm.node_types (node_type),
    label           text NOT NULL,
    properties      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    attrs           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attrs) = 'object'),
    external_id     text,
    external_source text,
    restricted_to   uuid[] NOT NULL DEFAULT '{}',
    acl             uuid[],
    claimed_by      uuid REFERENCES crm.nodes (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    archived_at     timestamptz,
    CONSTRAINT nodes_external_pair CHECK ((external_id IS NULL) = (external_source IS NULL)),
    CONSTRAINT nodes_label_not_blank CHECK (btrim(label) <> '')
);
COMMENT ON TABLE crm.nodes IS 'Every entity of the graph: accounts (org), people, opportunities, tickets, contracts, invoices, users, teams, channels, ... (node_type from crm.node_types). Never hard-deleted: archive_node/restore_node.';
COMMENT ON COLUMN crm.nodes.label IS 'Display name; derived from properties (name, or first_name last_name, subject, title, number) when not given';
COMMENT ON COLUMN crm.nodes.properties IS 'Static facts of the node (seed 001 §2.1 required/optional properties; code in properties->>''code'')';
COMMENT ON COLUMN crm.nodes.attrs IS 'System attributes (e.g. teams tags of seed 001 §7.1)';
COMMENT ON COLUMN crm.nodes.external_id IS 'Key in external_source (a CRM Id, a Zendesk id, or the crm360 code when external_source = ''internal''); unique per source among live nodes';
COMMENT ON COLUMN crm.nodes.restricted_to IS 'Principals (team or user node ids) this node itself is restricted to (restrict_access_to_team/_user)';
COMMENT ON COLUMN crm.nodes.acl IS 'Effective ACL, maintained by triggers: NULL when the node type is not access-checked; otherwise restricted_to, or when empty the union of the owned_by parents'' acl. An empty array means admins and grants only.';
COMMENT ON COLUMN crm.nodes.claimed_by IS 'The user who owns (claimed) this person/org/opportunity (seed 002 Customer.claimedById)';
COMMENT ON COLUMN crm.nodes.archived_at IS 'Set when archived (soft delete); NULL for live nodes';

CREATE UNIQUE INDEX IF NOT EXISTS nodes_external_key_live
    ON crm.nodes (external_source, external_id) WHERE archived_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS nodes_external_key ON crm.nodes (external_id, external_source);
CREATE INDEX IF NOT EXISTS nodes_type_live ON crm.nodes (node_type, created_at) WHERE archived_at IS NULL;
CREATE INDEX IF NOT EXISTS nodes_code ON crm.nodes ((properties ->> 'code') text_pattern_ops);
CREATE INDEX IF NOT EXISTS nodes_properties ON crm.nodes USING gin (properties jsonb_path_ops);
CREATE INDEX IF NOT EXISTS nodes_acl ON crm.nodes USING gin (acl);
CREATE INDEX IF NOT EXISTS nodes_claimed_by ON crm.nodes (claimed_by) WHERE claimed_by IS NOT NULL;

-- ---------------------------------------------------------------- edges
CREATE TABLE IF NOT EXISTS crm.edges (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    edge_type      text NOT NULL REFERENCES crm.edge_types (edge_type),
    source_id      uuid NOT NULL REFERENCES crm.nodes (id),
    target_id      uuid NOT NULL REFERENCES crm.nodes (id),
    properties     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    effective_from timestamptz,
    effective_to   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    archived_at    timestamptz,
    CONSTRAINT edges_no_self_loop CHECK (source_id <> target_id),
    CONSTRAINT edges_effective_range CHECK (effective_to IS NULL OR effective_from IS NULL OR effective_to >= effective_from)
);
COMMENT ON TABLE crm.edges IS 'Typed, directed relationships between nodes (edge_type from crm.edge_types). Temporal edges (employs, assigned_to, affiliated_with, member_of) end by setting effective_to; edges are archived, never deleted.';
COMMENT ON COLUMN crm.edges.effective_from IS 'When the relationship started (temporal edge types; defaults to now())';
COMMENT ON COLUMN crm.edges.effective_to IS 'When the relationship ended; NULL while current';
COMMENT ON COLUMN crm.edges.archived_at IS 'Set when the edge was archived (entered in error, merged away); NULL for live edges';

CREATE INDEX IF NOT EXISTS edges_source ON crm.edges (source_id, edge_type);
CREATE INDEX IF NOT EXISTS edges_target ON crm.edges (target_id, edge_type);
-- No two identical relationships open at once (a person may leave and rejoin: ended edges do not count).
CREATE UNIQUE INDEX IF NOT EXISTS edges_open_unique
    ON crm.edges (edge_type, source_id, target_id) WHERE archived_at IS NULL AND effective_to IS NULL;

-- ---------------------------------------------------------------- events
CREATE TABLE IF NOT EXISTS crm.events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_type      text NOT NULL REFERENCES crm.event_types (event_type),
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    summary         text,
    properties      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    actor_system    text,
    external_id     text,
    external_source text,
    CONSTRAINT events_external_pair CHECK ((external_id IS NULL) = (external_source IS NULL))
);
COMMENT ON TABLE crm.events IS 'Things that happened (emails, calls, meetings, notes, stage changes, ticket and invoice changes, access changes): occurred_at is when it happened, recorded_at when crm360 learned of it. History: never updated or deleted.';
COMMENT ON COLUMN crm.events.occurred_at IS 'When the event happened in the world (source time)';
COMMENT ON COLUMN crm.events.recorded_at IS 'When crm360 recorded the event';
COMMENT ON COLUMN crm.events.actor_system IS 'Who or what caused it: a CRM user id, a connector name (salesforce, zendesk, ...), or a service';
COMMENT ON COLUMN crm.events.external_id IS 'Source key of the event (e.g. a Salesforce Task Id) so replays do not duplicate it';

CREATE UNIQUE INDEX IF NOT EXISTS events_external_key
    ON crm.events (external_source, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_occurred ON crm.events (occurred_at);

CREATE TABLE IF NOT EXISTS crm.event_participants (
    event_id uuid NOT NULL REFERENCES crm.events (id),
    node_id  uuid NOT NULL REFERENCES crm.nodes (id),
    role     text NOT NULL CHECK (btrim(role) <> ''),
    PRIMARY KEY (event_id, node_id, role)
);
COMMENT ON TABLE crm.event_participants IS 'Which nodes took part in an event and how (role: subject, from, to, attendee, organizer, account, owner, ...). Unique per (event, node, role).';
CREATE INDEX IF NOT EXISTS event_participants_node ON crm.event_participants (node_id, event_id);

-- ---------------------------------------------------------------- assertions
CREATE TABLE IF NOT EXISTS crm.assertions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    assertion_type  text NOT NULL REFERENCES crm.assertion_types (assertion_type),
    subject_node_id uuid REFERENCES crm.nodes (id),
    subject_edge_id uuid REFERENCES crm.edges (id),
    assertion_key   text NOT NULL DEFAULT '',
    claim           jsonb NOT NULL CHECK (jsonb_typeof(claim) = 'object'),
    confidence      numeric(4,3) NOT NULL DEFAULT 1.0 CHECK (confidence BETWEEN 0 AND 1),
    asserted_at     timestamptz NOT NULL DEFAULT now(),
    superseded_at   timestamptz,
    superseded_by   uuid REFERENCES crm.assertions (id) DEFERRABLE INITIALLY DEFERRED,
    source_event_id uuid REFERENCES crm.events (id),
    CONSTRAINT assertions_one_subject CHECK (num_nonnulls(subject_node_id, subject_edge_id) = 1),
    CONSTRAINT assertions_superseded_pair CHECK (superseded_by IS NULL OR superseded_at IS NOT NULL),
    CONSTRAINT assertions_not_self CHECK (superseded_by <> id)
);
COMMENT ON TABLE crm.assertions IS 'Time-varying claims about a node or an edge (deal stage, value, ticket status, ...). Exactly one current (superseded_at IS NULL) assertion per (subject, assertion_type, assertion_key); a change supersedes the current one (crm.supersede_assertion), keeping the full history chain.';
COMMENT ON COLUMN crm.assertions.assertion_key IS 'Distinguishes several concurrent assertions of one type about one subject (e.g. one lead_score per model); '''' by default';
COMMENT ON COLUMN crm.assertions.claim IS 'The claim, shaped as registered in crm.assertion_types';
COMMENT ON COLUMN crm.assertions.confidence IS 'Confidence 0..1 of the claim';
COMMENT ON COLUMN crm.assertions.superseded_at IS 'When this claim stopped being current; NULL = current';
COMMENT ON COLUMN crm.assertions.superseded_by IS 'The assertion that replaced this one (the next link of the history chain)';
COMMENT ON COLUMN crm.assertions.source_event_id IS 'The event that caused the claim (e.g. the stage_change event)';

CREATE UNIQUE INDEX IF NOT EXISTS assertions_current_node
    ON crm.assertions (subject_node_id, assertion_type, assertion_key)
    WHERE superseded_at IS NULL AND subject_node_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS assertions_current_edge
    ON crm.assertions (subject_edge_id, assertion_type, assertion_key)
    WHERE superseded_at IS NULL AND subject_edge_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS assertions_subject_node ON crm.assertions (subject_node_id, assertion_type, asserted_at);
CREATE INDEX IF NOT EXISTS assertions_subject_edge ON crm.assertions (subject_edge_id) WHERE subject_edge_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS assertions_superseded_by ON crm.assertions (superseded_by) WHERE superseded_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS assertions_source_event ON crm.assertions (source_event_id) WHERE source_event_id IS NOT NULL;

-- ---------------------------------------------------------------- artifacts
CREATE TABLE IF NOT EXISTS crm.artifacts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    artifact_type text NOT NULL CHECK (artifact_type ~ '^[a-z][a-z0-9_]*$'),
    node_id       uuid REFERENCES crm.nodes (id),
    event_id      uuid REFERENCES crm.events (id),
    title         text,
    body          text,
    uri           text,
    mime_type     text,
    content_hash  text,
    properties    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    archived_at   timestamptz,
    CONSTRAINT artifacts_anchor CHECK (num_nonnulls(node_id, event_id) >= 1),
    CONSTRAINT artifacts_content CHECK (num_nonnulls(body, uri) >= 1)
);
COMMENT ON TABLE crm.artifacts IS 'Documents and bodies attached to a node or an event: ticket descriptions and comments, meeting notes, email bodies, contract files. Searched by crm.search_in_account.';
COMMENT ON COLUMN crm.artifacts.artifact_type IS 'e.g. ticket_body, ticket_comment, meeting_notes, email_body, note, contract_document';
COMMENT ON COLUMN crm.artifacts.uri IS 'Where the original lives when the body is not stored';
COMMENT ON COLUMN crm.artifacts.content_hash IS 'sha256 of the body, to skip re-embedding unchanged text';

CREATE INDEX IF NOT EXISTS artifacts_node ON crm.artifacts (node_id) WHERE node_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS artifacts_event ON crm.artifacts (event_id) WHERE event_id IS NOT NULL;
