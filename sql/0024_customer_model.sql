-- 0024 The customer model of seed 002 (issue 15; docs/customers.md): channels, tags with
-- history, segments (static and dynamic) with membership history, fit scoring per product,
-- notes with versions, tasks, suppression, the EDGR deal pipeline and the activity-log event
-- types with their detail shapes. Customers are person nodes; channels are channel nodes
-- (owned_by their person, so they are seen by whoever sees the person); segments and products
-- are nodes; fit assessments, lead reviews and suppression are assertions (history chains).
-- Tag assignments, segment memberships, notes and tasks are satellite tables of the graph:
-- every row names its node, history rows are closed (removed_at / left_at / valid_to), never
-- overwritten, and every change is also an event (written by crm360's triggers, write scope
-- system). Nothing is deleted (refuse-delete triggers) except by legal erasure (crm.purge_node,
-- which deletes the erased node; the foreign keys then remove its rows here and clear
-- references to an erased user — ON DELETE CASCADE / SET NULL). Functions, policies and views live in sql/functions/customers, sql/rls, sql/views.
-- Never calls a repeatable function; safe to run twice. Sections: registry, tables, indexes,
-- data, backfill, grants.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- registry
ALTER TABLE crm.event_types ADD COLUMN IF NOT EXISTS detail_required text[] NOT NULL DEFAULT '{}';
ALTER TABLE crm.event_types ADD COLUMN IF NOT EXISTS detail_shape jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(detail_shape) = 'object');
ALTER TABLE crm.event_types ADD COLUMN IF NOT EXISTS counts_as_activity boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN crm.event_types.detail_required IS 'Keys events.properties must carry (non-null) for this type; checked on every insert (CR013)';
COMMENT ON COLUMN crm.event_types.detail_shape IS 'Key -> JSON type (string, number, boolean, object, array, date, any) of events.properties: a present key must have that type (CR013); the seed 002 activity-log detail shape';
COMMENT ON COLUMN crm.event_types.counts_as_activity IS 'true: an event of this type is customer activity (last activity in crm.customers, the last_activity filter of dynamic segments); false for bookkeeping (tags, segments, scoring, access, system)';
UPDATE crm.event_types SET counts_as_activity = false
 WHERE event_group IN ('access', 'system') AND counts_as_activity;

INSERT INTO crm.node_types (node_type, description, required_properties, optional_properties, access_checked, code_prefix, claimable, write_scope) VALUES
 ('segment', 'A customer segment (seed 002 Segments): static (explicit members) or dynamic (a JSON filter, crm.refresh_segments); a campaign target', '{name,kind}', '{description,definition,purpose}', false, NULL, true, 'member'),
 ('product', 'A product that customers are scored against (seed 002 Scoring: fit criteria per product)', '{name}', '{description}', false, NULL, false, 'admin')
ON CONFLICT (node_type) DO NOTHING;

UPDATE crm.edge_types SET target_types = '{person,segment}'
 WHERE edge_type = 'campaign_target' AND target_types = '{person}';

INSERT INTO crm.assertion_types (assertion_type, description, subject_types, claim_required, claim_properties, claim_rule, sensitive) VALUES
 ('fit_assessment', 'How well a customer fits a product on one criterion (seed 002 CustomerFitAssessment): score 0..100 with rationale, by a human or a model; assertion_key = the criterion id', '{person}',
   '{product_id,criterion,score,assessed_by}',
   '{"product_id":"string","criterion":"string","score":"number","rationale":"string","assessed_by":"string","assessor":"string"}',
   '$.score >= 0 && $.score <= 100 && $.assessed_by like_regex "^(human|model)$"', false),
 ('lead_review', 'Human review of a customer as a lead for a product (seed 002 Leads): pending, approved or rejected; assertion_key = the product id', '{person}',
   '{status}', '{"status":"string","note":"string","reviewer":"string"}',
   '$.status like_regex "^(pending|approved|rejected)$"', false),
 ('channel_status', 'Whether a contact channel is usable: active, bounced or invalid (seed 002: a channel can be marked bounced)', '{channel}',
   '{status}', '{"status":"string","reason":"string"}',
   '$.status like_regex "^(active|bounced|invalid)$"', false)
ON CONFLICT (assertion_type) DO NOTHING;
-- suppression (seed 002 "Exit — Suppress") is the do_not_contact assertion of seed 001; lifting
-- it supersedes the claim with lifted = true (history kept)
UPDATE crm.assertion_types
   SET claim_properties = '{"reason":"string","set_by":"string","expires":"date","lifted":"boolean"}'
 WHERE assertion_type = 'do_not_contact' AND NOT claim_properties ? 'lifted';

INSERT INTO crm.event_types (event_type, description, event_group, key_properties, channel, write_scope, counts_as_activity, detail_required, detail_shape) VALUES
 ('email_sent',       'An email was sent to the customer', 'outreach', '{subject,channel_id,message_id,campaign_id}', 'email', 'member', true, '{subject}', '{"subject":"string","channel_id":"string","message_id":"string","campaign_id":"string"}'),
 ('email_opened',     'The customer opened an email', 'outreach', '{message_id,channel_id}', 'email', 'member', true, '{message_id}', '{"message_id":"string","channel_id":"string"}'),
 ('email_clicked',    'The customer clicked a link in an email', 'outreach', '{message_id,url}', 'email', 'member', true, '{message_id,url}', '{"message_id":"string","url":"string","channel_id":"string"}'),
 ('email_replied',    'The customer replied to an email', 'outreach', '{message_id,subject}', 'email', 'member', true, '{}', '{"message_id":"string","subject":"string","channel_id":"string"}'),
 ('email_bounced',    'An email to the customer bounced (the channel is marked bounced)', 'outreach', '{channel_id,reason}', 'email', 'member', true, '{channel_id}', '{"channel_id":"string","reason":"string","message_id":"string"}'),
 ('linkedin_sent',    'A LinkedIn message was sent to the customer', 'outreach', '{channel_id,text}', 'linkedin', 'member', true, '{}', '{"channel_id":"string","text":"string","campaign_id":"string"}'),
 ('linkedin_replied', 'The customer replied on LinkedIn', 'outreach', '{channel_id,text}', 'linkedin', 'member', true, '{}', '{"channel_id":"string","text":"string"}'),
 ('telegram_sent',    'A Telegram message was sent to the customer', 'outreach', '{channel_id,text}', 'telegram', 'member', true, '{}', '{"channel_id":"string","text":"string","campaign_id":"string"}'),
 ('telegram_replied', 'The customer replied on Telegram', 'outreach', '{channel_id,text}', 'telegram', 'member', true, '{}', '{"channel_id":"string","text":"string"}'),
 ('bot_replied',      'The autoreply bot answered the customer', 'outreach', '{channel_id,text,bot}', 'bot', 'member', true, '{}', '{"channel_id":"string","text":"string","bot":"string"}'),
 ('bot_escalated',    'The autoreply bot handed the conversation to a human', 'outreach', '{reason,bot}', 'bot', 'member', true, '{}', '{"reason":"string","bot":"string","channel_id":"string"}'),
 ('deal_created',     'A deal was created for the customer (seed 002 Deal created)', 'crm', '{deal_id,pipeline,stage}', 'deal', 'member', true, '{deal_id}', '{"deal_id":"string","pipeline":"string","stage":"string"}'),
 ('tag_added',        'A tag was put on the node (crm.tag)', 'customer', '{tag,tag_id}', 'tag', 'system', false, '{tag}', '{"tag":"string","tag_id":"string"}'),
 ('tag_removed',      'A tag was taken off the node (crm.untag)', 'customer', '{tag,tag_id}', 'tag', 'system', false, '{tag}', '{"tag":"string","tag_id":"string"}'),
 ('segment_joined',   'The customer entered a segment (added, or matched by its filter)', 'customer', '{segment,segment_id,reason}', 'segment', 'system', false, '{segment_id}', '{"segment":"string","segment_id":"string","reason":"string"}'),
 ('segment_left',     'The customer left a segment (removed, or no longer matched)', 'customer', '{segment,segment_id,reason}', 'segment', 'system', false, '{segment_id}', '{"segment":"string","segment_id":"string","reason":"string"}'),
 ('task_created',     'A task was created on the node', 'customer', '{task_id,title,due_at,assignee}', 'task', 'system', false, '{task_id}', '{"task_id":"string","title":"string","due_at":"string","assignee":"string"}'),
 ('task_completed',   'A task on the node was completed', 'customer', '{task_id,title}', 'task', 'system', true, '{task_id}', '{"task_id":"string","title":"string"}'),
 ('profile_scored',   'A fit assessment of the customer was recorded (seed 002 Profile scored)', 'customer', '{product_id,criterion,score,assessed_by}', 'scoring', 'system', false, '{product_id}', '{"product_id":"string","criterion":"string","score":"number","assessed_by":"string"}'),
 ('note_added',       'An internal note was written on the node', 'customer', '{note_id}', 'note', 'system', true, '{note_id}', '{"note_id":"string"}'),
 ('company_matched',  'The customer was linked to a company by their email domain (domain auto-match)', 'customer', '{domain,company_id}', 'customer', 'system', false, '{domain}', '{"domain":"string","company_id":"string"}')
ON CONFLICT (event_type) DO NOTHING;
-- ownership events (seed 002 Owner claimed / released) are bookkeeping, not customer activity
UPDATE crm.event_types SET counts_as_activity = false
 WHERE event_type IN ('owner_claimed', 'owner_released') AND counts_as_activity;

INSERT INTO crm.error_codes (sqlstate, name, meaning, hint) VALUES
 ('CR050', 'invalid_channel', 'The contact channel value is not a valid email, phone number, LinkedIn profile URL or Telegram chat id (or the kind is unknown)', 'kinds: email, phone (7-15 digits, optional +), linkedin (linkedin.com/in/<handle>), telegram (numeric chat id)'),
 ('CR051', 'channel_taken', 'The channel (same kind, same normalised value) already belongs to another customer', 'merge the two customers (crm.merge_nodes), or remove the channel from the other one'),
 ('CR052', 'system_tag', 'Tags named bot:... are system tags: only system roles (admins not acting for a user, crm360 itself) create, set or remove them', 'use a tag without the bot: prefix, or run the automation as a system role'),
 ('CR053', 'invalid_segment_filter', 'The dynamic segment definition is not valid in the filter language (docs/customers.md)', 'see the DETAIL for the path of the offending part; fields, operators and value types are listed in docs/customers.md'),
 ('CR054', 'segment_kind', 'The operation does not fit the segment''s kind (members of a dynamic segment come from its filter; a static segment has no filter)', 'add members to a static segment, or change the filter of a dynamic one'),
 ('CR055', 'bulk_refused', 'A bulk operation was refused as a whole: some ids are outside the caller''s write scope (or not visible, or do not exist); nothing was changed', 'the DETAIL lists the refused ids; retry without them'),
 ('CR056', 'suppressed', 'The customer is suppressed (do_not_contact): no outreach', 'lift the suppression (crm.unsuppress) first')
ON CONFLICT (sqlstate) DO NOTHING;

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm.tags (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (name = btrim(name) AND name <> '' AND length(name) <= 64
                                     AND name !~ '[[:cntrl:],]'),
    description text,
    colour      text CHECK (colour ~ '^#[0-9a-f]{6}$'),
    is_system   boolean GENERATED ALWAYS AS (lower(name) LIKE 'bot:%') STORED,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  uuid REFERENCES crm.nodes (id) ON DELETE SET NULL,
    archived_at timestamptz
);
COMMENT ON TABLE crm.tags IS 'The tag library (seed 002 Tags: system tags + custom): name (unique, case-insensitive), description, colour. Names starting with bot: are system tags (autoreply control) that only system roles create, set or remove (CR052).';
COMMENT ON COLUMN crm.tags.name IS 'Display name, unique case-insensitively among live tags; no commas (tags are listed comma-separated)';
COMMENT ON COLUMN crm.tags.colour IS 'Display colour as #rrggbb (lower-case hex)';
COMMENT ON COLUMN crm.tags.is_system IS 'true for bot:... tags: only system roles (admins not acting for a user, crm360 itself) may create, set or remove them';
COMMENT ON COLUMN crm.tags.created_by IS 'The CRM user who created the tag (NULL: an admin or crm360 without identity)';
COMMENT ON COLUMN crm.tags.archived_at IS 'Set when the tag was retired: it can no longer be set; existing assignments and history stay';
CREATE UNIQUE INDEX IF NOT EXISTS tags_name_live ON crm.tags (lower(name)) WHERE archived_at IS NULL;
CREATE INDEX IF NOT EXISTS tags_created_by ON crm.tags (created_by);

CREATE TABLE IF NOT EXISTS crm.node_tags (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    node_id     uuid NOT NULL REFERENCES crm.nodes (id) ON DELETE CASCADE,
    tag_id      uuid NOT NULL REFERENCES crm.tags (id),
    added_at    timestamptz NOT NULL DEFAULT now(),
    added_by    uuid REFERENCES crm.nodes (id) ON DELETE SET NULL,
    removed_at  timestamptz,
    removed_by  uuid REFERENCES crm.nodes (id) ON DELETE SET NULL,
    CONSTRAINT node_tags_range CHECK (removed_at IS NULL OR removed_at >= added_at)
);
COMMENT ON TABLE crm.node_tags IS 'Tags on nodes with their history (seed 002 CustomerTag): one row per time a tag was on a node, from added_at until removed_at (NULL while it is on). Rows are never deleted or reopened; crm.tag / crm.untag write them and crm360 logs tag_added / tag_removed events.';
COMMENT ON COLUMN crm.node_tags.added_by IS 'The CRM user who set the tag (NULL: an admin or crm360 without identity)';
COMMENT ON COLUMN crm.node_tags.removed_at IS 'When the tag was taken off; NULL while it is on the node';
COMMENT ON COLUMN crm.node_tags.removed_by IS 'The CRM user who took the tag off';
CREATE UNIQUE INDEX IF NOT EXISTS node_tags_current ON crm.node_tags (node_id, tag_id) WHERE removed_at IS NULL;
CREATE INDEX IF NOT EXISTS node_tags_node ON crm.node_tags (node_id, added_at);
CREATE INDEX IF NOT EXISTS node_tags_tag ON crm.node_tags (tag_id, node_id) WHERE removed_at IS NULL;
CREATE INDEX IF NOT EXISTS node_tags_tag_all ON crm.node_tags (tag_id);
CREATE INDEX IF NOT EXISTS node_tags_added_by ON crm.node_tags (added_by) WHERE added_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS node_tags_removed_by ON crm.node_tags (removed_by) WHERE removed_by IS NOT NULL;

CREATE TABLE IF NOT EXISTS crm.segment_memberships (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    segment_id    uuid NOT NULL REFERENCES crm.nodes (id) ON DELETE CASCADE,
    node_id       uuid NOT NULL REFERENCES crm.nodes (id) ON DELETE CASCADE,
    entered_at    timestamptz NOT NULL DEFAULT now(),
    entered_by    uuid REFERENCES crm.nodes (id) ON DELETE SET NULL,
    entered_reason text NOT NULL DEFAULT 'manual' CHECK (entered_reason IN ('manual', 'rule')),
    left_at       timestamptz,
    left_by       uuid REFERENCES crm.nodes (id) ON DELETE SET NULL,
    left_reason   text CHECK (left_reason IN ('manual', 'rule', 'archived', 'merged')),
    CONSTRAINT segment_memberships_range CHECK (left_at IS NULL OR left_at >= entered_at),
    CONSTRAINT segment_memberships_left CHECK ((left_at IS NULL) = (left_reason IS NULL))
);
COMMENT ON TABLE crm.segment_memberships IS 'Segment membership with history (seed 002 CustomerSegment): one row per stay of a customer in a segment, entered_at until left_at (NULL while a member). Never overwritten: leaving closes the row, re-entering opens a new one, so "who was in segment X on date D" is entered_at <= D < coalesce(left_at, infinity) (crm.segment_members_at). segment_joined / segment_left events are logged by crm360.';
COMMENT ON COLUMN crm.segment_memberships.entered_by IS 'The CRM user who added the customer (static segments); NULL when the filter matched (dynamic)';
COMMENT ON COLUMN crm.segment_memberships.entered_reason IS 'manual (added to a static segment) or rule (matched by the dynamic filter at a refresh)';
COMMENT ON COLUMN crm.segment_memberships.left_at IS 'When the customer left the segment; NULL while a member';
COMMENT ON COLUMN crm.segment_memberships.left_reason IS 'manual (removed), rule (no longer matched at a refresh), archived (the customer was archived) or merged (the customer was merged into another, who continues the membership)';
CREATE UNIQUE INDEX IF NOT EXISTS segment_memberships_current ON crm.segment_memberships (segment_id, node_id) WHERE left_at IS NULL;
CREATE INDEX IF NOT EXISTS segment_memberships_segment ON crm.segment_memberships (segment_id, entered_at);
CREATE INDEX IF NOT EXISTS segment_memberships_node ON crm.segment_memberships (node_id, entered_at);
CREATE INDEX IF NOT EXISTS segment_memberships_entered_by ON crm.segment_memberships (entered_by) WHERE entered_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS segment_memberships_left_by ON crm.segment_memberships (left_by) WHERE left_by IS NOT NULL;

CREATE TABLE IF NOT EXISTS crm.fit_criteria (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id  uuid NOT NULL REFERENCES crm.nodes (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name = btrim(name) AND name <> ''),
    weight      numeric(6,3) NOT NULL CHECK (weight > 0 AND weight <= 100),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz
);
COMMENT ON TABLE crm.fit_criteria IS 'Fit criteria per product (seed 002 Scoring): name, weight (> 0) and description. A customer''s overall fit for a product is the weight-averaged score of its current assessments on the live criteria. Admins manage them (crm.set_fit_criterion).';
COMMENT ON COLUMN crm.fit_criteria.weight IS 'Relative weight of the criterion in the overall fit (weighted average)';
COMMENT ON COLUMN crm.fit_criteria.archived_at IS 'Set when the criterion was retired: its assessments stay in history but no longer count';
CREATE UNIQUE INDEX IF NOT EXISTS fit_criteria_name_live ON crm.fit_criteria (product_id, lower(name)) WHERE archived_at IS NULL;
CREATE INDEX IF NOT EXISTS fit_criteria_product ON crm.fit_criteria (product_id);

CREATE TABLE IF NOT EXISTS crm.notes (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    anchor_id   uuid NOT NULL REFERENCES crm.nodes (id) ON DELETE CASCADE,
    author_id   uuid NOT NULL REFERENCES crm.nodes (id) ON DELETE CASCADE,
    body        text NOT NULL CHECK (btrim(body) <> ''),
    version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz
);
COMMENT ON TABLE crm.notes IS 'Internal markdown notes on a customer, deal or company (seed 002 CustomerNote): visible to whoever sees the anchor (and to the author), edited only by the author (crm.edit_note); every earlier version is kept in crm.note_versions. A note_added event is logged.';
COMMENT ON COLUMN crm.notes.anchor_id IS 'The person, org or opportunity the note is about';
COMMENT ON COLUMN crm.notes.author_id IS 'The CRM user who wrote it: the only one who may edit it';
COMMENT ON COLUMN crm.notes.body IS 'The current text (markdown)';
COMMENT ON COLUMN crm.notes.version IS 'The current version number (1 = never edited)';
CREATE INDEX IF NOT EXISTS notes_anchor ON crm.notes (anchor_id, created_at);
CREATE INDEX IF NOT EXISTS notes_author ON crm.notes (author_id);

CREATE TABLE IF NOT EXISTS crm.note_versions (
    note_id    uuid NOT NULL REFERENCES crm.notes (id) ON DELETE CASCADE,
    version    integer NOT NULL CHECK (version >= 1),
    body       text NOT NULL,
    valid_from timestamptz NOT NULL,
    valid_to   timestamptz NOT NULL,
    edited_by  uuid REFERENCES crm.nodes (id) ON DELETE SET NULL,
    PRIMARY KEY (note_id, version)
);
COMMENT ON TABLE crm.note_versions IS 'Earlier versions of notes (history never overwritten): the text a note had from valid_from until valid_to, when edited_by replaced it. Written by crm360 when a note''s body changes.';
COMMENT ON COLUMN crm.note_versions.edited_by IS 'The user whose edit ended this version';
CREATE INDEX IF NOT EXISTS note_versions_edited_by ON crm.note_versions (edited_by);

CREATE TABLE IF NOT EXISTS crm.task_items (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    anchor_id    uuid NOT NULL REFERENCES crm.nodes (id) ON DELETE CASCADE,
    title        text NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 500),
    description  text,
    due_at       timestamptz,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    assignee_id  uuid REFERENCES crm.nodes (id) ON DELETE SET NULL,
    created_by   uuid REFERENCES crm.nodes (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    completed_by uuid REFERENCES crm.nodes (id) ON DELETE SET NULL,
    CONSTRAINT task_items_completed CHECK ((status = 'open') = (completed_at IS NULL))
);
COMMENT ON TABLE crm.task_items IS 'To-dos (seed 002 CustomerTask) with a polymorphic anchor (any node): title, due date, status, an assignee or the pool (assignee NULL). Members claim pool tasks (crm.claim_task) and work their own; task_created / task_completed events are logged. Read through crm.tasks, crm.my_tasks, crm.task_pool, crm.overdue_tasks.';
COMMENT ON COLUMN crm.task_items.anchor_id IS 'The node the task is about (a customer, deal, company, ticket, ...)';
COMMENT ON COLUMN crm.task_items.status IS 'open, done or cancelled';
COMMENT ON COLUMN crm.task_items.assignee_id IS 'The user who must do it; NULL = in the pool (anyone who may write the anchor can claim it)';
COMMENT ON COLUMN crm.task_items.created_by IS 'The CRM user who created the task';
COMMENT ON COLUMN crm.task_items.completed_at IS 'When the task was done or cancelled; NULL while open';
CREATE INDEX IF NOT EXISTS task_items_anchor ON crm.task_items (anchor_id, created_at);
CREATE INDEX IF NOT EXISTS task_items_assignee ON crm.task_items (assignee_id, due_at) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS task_items_assignee_all ON crm.task_items (assignee_id);
CREATE INDEX IF NOT EXISTS task_items_pool ON crm.task_items (due_at) WHERE status = 'open' AND assignee_id IS NULL;
CREATE INDEX IF NOT EXISTS task_items_created_by ON crm.task_items (created_by);
CREATE INDEX IF NOT EXISTS task_items_completed_by ON crm.task_items (completed_by) WHERE completed_by IS NOT NULL;

-- ---------------------------------------------------------------- indexes
-- dynamic segments: fit, suppression and channel-status conditions read the current assertions
-- of one type set-based; last-activity conditions read the events of the activity types in a
-- time range (the customer model's own bookkeeping events — segment and tag changes — are the
-- bulk of recent events and must not be scanned). On a large existing database build the second
-- one first with CREATE INDEX CONCURRENTLY (this migration then finds it and skips it).
CREATE INDEX IF NOT EXISTS assertions_type_current
    ON crm.assertions (assertion_type, subject_node_id) WHERE superseded_at IS NULL;
CREATE INDEX IF NOT EXISTS events_type_occurred ON crm.events (event_type, occurred_at);

-- ---------------------------------------------------------------- data
-- The EDGR pipeline (seed 002 DealDealStage: open / negotiating / won / lost) next to the
-- Salesforce-style PL-SALES. Plain SQL: migrations never call repeatable functions.
INSERT INTO crm.nodes (node_type, label, properties, external_id, external_source)
SELECT 'pipeline', 'EDGR Pipeline',
       '{
         "name": "EDGR Pipeline",
         "code": "PL-EDGR",
         "stages": [
           {"key": "open",        "label": "Open",        "order": 1, "terminal": false},
           {"key": "negotiating", "label": "Negotiating", "order": 2, "terminal": false},
           {"key": "won",         "label": "Won",         "order": 3, "terminal": true},
           {"key": "lost",        "label": "Lost",        "order": 4, "terminal": true}
         ],
         "default_stage": "open"
       }'::jsonb,
       'PL-EDGR', 'internal'
 WHERE NOT EXISTS (SELECT 1 FROM crm.nodes n
                    WHERE n.node_type = 'pipeline' AND n.properties ->> 'code' = 'PL-EDGR')
ON CONFLICT DO NOTHING;

-- ---------------------------------------------------------------- backfill
-- Channels landed by reconciliation before this migration were reached through nothing
-- (acl '{}': admins only). A channel now belongs to its person (owned_by channel -> person),
-- so whoever sees the person sees its channels: add the edge and copy the person's acl
-- (what crm_private.recompute_acl computes, written out). No-op on a new database.
ALTER TABLE crm.nodes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.edges NO FORCE ROW LEVEL SECURITY;
SET LOCAL crm.acl_maintenance = 'on';
INSERT INTO crm.edges (edge_type, source_id, target_id, source_acl, target_acl)
SELECT DISTINCT ON (c.id) 'owned_by', c.id, p.id, p.acl, p.acl
  FROM crm.edges h
  JOIN crm.nodes c ON c.id = h.target_id AND c.node_type = 'channel'
  JOIN crm.nodes p ON p.id = h.source_id AND p.node_type = 'person'
 WHERE h.edge_type = 'has_channel' AND h.archived_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM crm.edges o WHERE o.source_id = c.id AND o.edge_type = 'owned_by' AND o.archived_at IS NULL)
 ORDER BY c.id, h.created_at
ON CONFLICT DO NOTHING;
UPDATE crm.nodes c SET acl = p.acl
  FROM crm.edges o JOIN crm.nodes p ON p.id = o.target_id
 WHERE o.source_id = c.id AND o.edge_type = 'owned_by' AND o.archived_at IS NULL
   AND c.node_type = 'channel' AND cardinality(c.restricted_to) = 0 AND c.acl IS DISTINCT FROM coalesce(p.acl, '{}');
UPDATE crm.edges e SET target_acl = c.acl
  FROM crm.nodes c WHERE c.id = e.target_id AND c.node_type = 'channel' AND e.target_acl IS DISTINCT FROM c.acl;
UPDATE crm.edges e SET source_acl = c.acl
  FROM crm.nodes c WHERE c.id = e.source_id AND c.node_type = 'channel' AND e.source_acl IS DISTINCT FROM c.acl;
SET LOCAL crm.acl_maintenance = 'off';
ALTER TABLE crm.nodes FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.edges FORCE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------- grants (the rest: sql/rls)
REVOKE ALL ON crm.tags, crm.node_tags, crm.segment_memberships, crm.fit_criteria, crm.notes, crm.note_versions,
              crm.task_items FROM PUBLIC;
