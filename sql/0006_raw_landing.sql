-- 0006 raw landing (issue 5, DESIGN §7, docs/graph_contract.md): the crm_raw tables that
-- connectors (and ELT tools: dlt, Airbyte, Fivetran) write, and their configuration.
-- One row per source record VERSION in crm_raw.records; sync runs, cursors, schedules;
-- the free-mail list and the ownership -> team mapping used by reconciliation.
-- Never calls a repeatable function; safe to run twice. Sections: tables, indexes, data.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm_raw.source_objects (
    source       text NOT NULL CHECK (source ~ '^[a-z][a-z0-9_]*$'),
    object       text NOT NULL CHECK (btrim(object) <> ''),
    key_field    text NOT NULL,
    cursor_field text,
    full_refresh boolean NOT NULL DEFAULT false,
    apply_order  integer NOT NULL,
    description  text NOT NULL,
    PRIMARY KEY (source, object)
);
COMMENT ON TABLE crm_raw.source_objects IS 'The source objects crm360 can reconcile (source, object), with the payload field that is the record key, the cursor field, whether the source delivers daily full refreshes, and the order crm.reconcile applies them in.';
COMMENT ON COLUMN crm_raw.source_objects.key_field IS 'Top-level payload field holding the record key (becomes records.external_id); a record without it is rejected';
COMMENT ON COLUMN crm_raw.source_objects.cursor_field IS 'Top-level payload field holding the source modification time (records.source_updated_at, the incremental cursor)';
COMMENT ON COLUMN crm_raw.source_objects.full_refresh IS 'true: each run delivers the full set (CLM, Stripe); for contracts and invoices a record missing from the latest full run is archived as removed at source';
COMMENT ON COLUMN crm_raw.source_objects.apply_order IS 'crm.reconcile applies objects in this order (accounts before their children)';

CREATE TABLE IF NOT EXISTS crm_raw.source_schedules (
    source            text NOT NULL,
    object            text NOT NULL,
    expected_interval interval NOT NULL CHECK (expected_interval > interval '0'),
    freshness_group   text NOT NULL,
    PRIMARY KEY (source, object),
    FOREIGN KEY (source, object) REFERENCES crm_raw.source_objects (source, object)
);
COMMENT ON TABLE crm_raw.source_schedules IS 'How often each source object is expected to sync (seed 000 "Stale data feeling fresh"): a source whose last successful run is older than expected_interval is stale.';
COMMENT ON COLUMN crm_raw.source_schedules.freshness_group IS 'Group shown to users as one "last synced" time: crm, tickets, clm, billing';

CREATE TABLE IF NOT EXISTS crm_raw.sync_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text NOT NULL,
    object        text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    landed_at     timestamptz,
    finished_at   timestamptz,
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
    full_refresh  boolean NOT NULL DEFAULT false,
    files         text[] NOT NULL DEFAULT '{}',
    received      integer NOT NULL DEFAULT 0 CHECK (received >= 0),
    landed        integer NOT NULL DEFAULT 0 CHECK (landed >= 0),
    duplicates    integer NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
    rejected      integer NOT NULL DEFAULT 0 CHECK (rejected >= 0),
    applied       integer NOT NULL DEFAULT 0 CHECK (applied >= 0),
    orphans       integer NOT NULL DEFAULT 0 CHECK (orphans >= 0),
    error         text,
    cursor_before text,
    cursor_after  text,
    FOREIGN KEY (source, object) REFERENCES crm_raw.source_objects (source, object)
);
COMMENT ON TABLE crm_raw.sync_runs IS 'One row per ingest run of one source object: when it started, landed and finished, its status (running, succeeded, failed, partial = finished with rejected records), record counts, the error of a failed run and the cursor before/after.';
COMMENT ON COLUMN crm_raw.sync_runs.landed_at IS 'When the run''s records were committed to crm_raw.records (a full-refresh run counts for removals only once landed)';
COMMENT ON COLUMN crm_raw.sync_runs.full_refresh IS 'The run delivered the complete set of the object (records missing from it are removed at source)';
COMMENT ON COLUMN crm_raw.sync_runs.received IS 'Records read from the files (including rejected ones and identical re-landings)';
COMMENT ON COLUMN crm_raw.sync_runs.landed IS 'New record versions stored';
COMMENT ON COLUMN crm_raw.sync_runs.duplicates IS 'Records identical to a version already stored (no-op)';
COMMENT ON COLUMN crm_raw.sync_runs.rejected IS 'Records of the run rejected (at landing or by reconciliation)';
COMMENT ON COLUMN crm_raw.sync_runs.applied IS 'Records of the run applied to the graph by reconciliation';
COMMENT ON COLUMN crm_raw.sync_runs.orphans IS 'Records of the run that could not be resolved to an account (crm.orphans)';
COMMENT ON COLUMN crm_raw.sync_runs.error IS 'Why a failed run failed (e.g. a file that cannot be read)';
COMMENT ON COLUMN crm_raw.sync_runs.cursor_before IS 'The cursor of the source object when the run started';
COMMENT ON COLUMN crm_raw.sync_runs.cursor_after IS 'The cursor after the run: the source''s own cursor (Zendesk after_cursor) or the newest source_updated_at seen';
CREATE INDEX IF NOT EXISTS sync_runs_source ON crm_raw.sync_runs (source, object, id);

CREATE TABLE IF NOT EXISTS crm_raw.records (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source            text NOT NULL,
    object            text NOT NULL,
    external_id       text,
    payload           jsonb NOT NULL,
    payload_hash      text NOT NULL GENERATED ALWAYS AS (md5(payload::text)) STORED,
    source_updated_at timestamptz,
    run_id            bigint,
    last_seen_run_id  bigint,
    received_at       timestamptz NOT NULL DEFAULT now(),
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'rejected', 'orphan')),
    reason            text,
    applied_at        timestamptz,
    node_id           uuid,
    account_id        uuid,
    match             jsonb,
    FOREIGN KEY (source, object) REFERENCES crm_raw.source_objects (source, object),
    CONSTRAINT records_rejected_have_reason CHECK (status NOT IN ('rejected', 'orphan') OR reason IS NOT NULL)
);
COMMENT ON TABLE crm_raw.records IS 'Raw landing (DESIGN §7): one row per source record version as received. Connectors and ELT tools insert (source, object, external_id, payload[, source_updated_at, run_id]) with status pending; crm.reconcile applies pending rows to the graph and sets status, reason, node_id, account_id, match. Re-landing an identical record (same source, object, external_id, payload) stores nothing new.';
COMMENT ON COLUMN crm_raw.records.external_id IS 'The record key in its source (crm_raw.source_objects.key_field); NULL only for rejected rows';
COMMENT ON COLUMN crm_raw.records.payload IS 'The record exactly as the source exported it (unknown fields kept)';
COMMENT ON COLUMN crm_raw.records.payload_hash IS 'md5 of the canonical jsonb text of the payload (generated): identical versions are stored once';
COMMENT ON COLUMN crm_raw.records.source_updated_at IS 'Source modification time (LastModifiedDate, updated_at, ...): orders versions; an older version never overwrites a newer one';
COMMENT ON COLUMN crm_raw.records.run_id IS 'The sync run (crm_raw.sync_runs.id) that first landed this version (NULL for ELT loads without a run). Not a foreign key on purpose: the landing INSERT is the hot path (crm_raw.land_staged checks the run)';
COMMENT ON COLUMN crm_raw.records.last_seen_run_id IS 'The latest sync run that delivered this version (moves on identical re-landings; full-refresh removal compares it with the latest full run)';
COMMENT ON COLUMN crm_raw.records.status IS 'pending (to reconcile), applied (in the graph), rejected (bad record: see reason), orphan (no account could be resolved: see reason/match, retried by crm.reconcile_orphans)';
COMMENT ON COLUMN crm_raw.records.reason IS 'Why the record was rejected or orphaned, or a note (superseded in the batch, stale)';
COMMENT ON COLUMN crm_raw.records.node_id IS 'The graph node (or, for activities, the event) the record was applied to; not a foreign key: erasure removes the raw rows first';
COMMENT ON COLUMN crm_raw.records.account_id IS 'The account (org node) the record resolved to when applied — compared across versions to detect identity drift';
COMMENT ON COLUMN crm_raw.records.match IS 'Evidence of the account resolution: {"by": crm_id|ref|domain|person, "crm_id", "domain", "domain_account_id", "domain_candidates", ...}';

CREATE UNIQUE INDEX IF NOT EXISTS records_version
    ON crm_raw.records (source, object, external_id, payload_hash) NULLS NOT DISTINCT;
CREATE INDEX IF NOT EXISTS records_open ON crm_raw.records (source, object, status) WHERE status IN ('pending', 'orphan');
CREATE INDEX IF NOT EXISTS records_run ON crm_raw.records (run_id);
CREATE INDEX IF NOT EXISTS records_last_seen_run ON crm_raw.records (last_seen_run_id);
CREATE INDEX IF NOT EXISTS records_node ON crm_raw.records (node_id) WHERE node_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_account ON crm_raw.records (account_id) WHERE account_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS crm_raw.cursors (
    source            text NOT NULL,
    object            text NOT NULL,
    cursor_value      text,
    source_updated_at timestamptz,
    run_id            bigint REFERENCES crm_raw.sync_runs (id),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, object),
    FOREIGN KEY (source, object) REFERENCES crm_raw.source_objects (source, object)
);
COMMENT ON TABLE crm_raw.cursors IS 'The incremental cursor per source object (seed 000 "Cursor on LastModifiedDate / updated_at"): where the next incremental export should start.';
COMMENT ON COLUMN crm_raw.cursors.cursor_value IS 'The source''s own cursor (Zendesk after_cursor) or the newest source_updated_at as ISO text';
COMMENT ON COLUMN crm_raw.cursors.source_updated_at IS 'Newest source modification time landed so far';
COMMENT ON COLUMN crm_raw.cursors.run_id IS 'The run that last moved the cursor';
CREATE INDEX IF NOT EXISTS cursors_run ON crm_raw.cursors (run_id);

CREATE TABLE IF NOT EXISTS crm_raw.free_mail_domains (
    pattern text PRIMARY KEY CHECK (pattern = lower(pattern) AND btrim(pattern) <> '')
);
COMMENT ON TABLE crm_raw.free_mail_domains IS 'Free-mail / consumer email domains (LIKE patterns, e.g. gmx.%): an email or website on one of them never identifies an account.';

CREATE TABLE IF NOT EXISTS crm_raw.ownership_mapping (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    mode         text NOT NULL CHECK (mode IN ('none', 'per_owner', 'per_region')),
    default_team text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm_raw.ownership_mapping IS 'How CRM account ownership maps to teams at ingestion (seed 000 "Permissions"): per_owner = a team per account owner (named after the Salesforce owner user), per_region = BillingCountry -> team (crm_raw.region_teams), none = no restriction. Accounts are restricted to the team (children inherit through owned_by).';
COMMENT ON COLUMN crm_raw.ownership_mapping.default_team IS 'per_region: team for countries without a mapping row (NULL: leave the account unrestricted = admins and grants only)';

CREATE TABLE IF NOT EXISTS crm_raw.region_teams (
    country   text PRIMARY KEY CHECK (country = lower(btrim(country)) AND country <> ''),
    team_name text NOT NULL CHECK (btrim(team_name) <> '')
);
COMMENT ON TABLE crm_raw.region_teams IS 'per_region ownership mapping: Salesforce Account BillingCountry (lower case, as written in the CRM: "germany" or "de") -> team name.';

-- ---------------------------------------------------------------- data
INSERT INTO crm_raw.source_objects (source, object, key_field, cursor_field, full_refresh, apply_order, description) VALUES
 ('salesforce', 'User',            'Id',          'LastModifiedDate', false,  10, 'Salesforce users (account owners)'),
 ('salesforce', 'Account',         'Id',          'LastModifiedDate', false,  20, 'Salesforce accounts: the canonical accounts'),
 ('salesforce', 'Contact',         'Id',          'LastModifiedDate', false,  30, 'Salesforce contacts -> people'),
 ('salesforce', 'Opportunity',     'Id',          'LastModifiedDate', false,  40, 'Salesforce opportunities'),
 ('salesforce', 'Event',           'Id',          'LastModifiedDate', false,  50, 'Salesforce events (meetings)'),
 ('salesforce', 'Task',            'Id',          'LastModifiedDate', false,  60, 'Salesforce tasks (calls, emails, notes)'),
 ('zendesk',    'organizations',   'id',          'updated_at',       false, 110, 'Zendesk organizations -> their account'),
 ('zendesk',    'users',           'id',          'updated_at',       false, 120, 'Zendesk users -> people'),
 ('zendesk',    'tickets',         'id',          'updated_at',       false, 130, 'Zendesk tickets'),
 ('zendesk',    'ticket_comments', 'id',          'created_at',       false, 140, 'Zendesk ticket comments -> events'),
 ('clm',        'contracts',       'contract_id', 'updated_at',       true,  210, 'CLM contracts (daily full refresh)'),
 ('stripe',     'customers',       'id',          'created',          true,  310, 'Stripe customers -> people'),
 ('stripe',     'invoices',        'number',      'created',          true,  320, 'Stripe invoices, keyed by number (daily full refresh)')
ON CONFLICT (source, object) DO NOTHING;

INSERT INTO crm_raw.source_schedules (source, object, expected_interval, freshness_group)
SELECT o.source, o.object,
       CASE o.source WHEN 'salesforce' THEN interval '1 hour' WHEN 'zendesk' THEN interval '1 hour' ELSE interval '1 day' END,
       CASE o.source WHEN 'salesforce' THEN 'crm' WHEN 'zendesk' THEN 'tickets' WHEN 'clm' THEN 'clm' ELSE 'billing' END
  FROM crm_raw.source_objects o
ON CONFLICT (source, object) DO NOTHING;

INSERT INTO crm_raw.free_mail_domains (pattern) VALUES
 ('gmail.com'), ('googlemail.com'), ('yahoo.com'), ('yahoo.%'), ('ymail.com'), ('hotmail.com'), ('hotmail.%'),
 ('outlook.com'), ('outlook.%'), ('live.com'), ('msn.com'), ('icloud.com'), ('me.com'), ('mac.com'),
 ('aol.com'), ('gmx.%'), ('web.de'), ('proton.me'), ('protonmail.com'), ('pm.me'), ('mail.com'),
 ('yandex.%'), ('mail.ru'), ('zoho.com'), ('tutanota.com'), ('fastmail.com'), ('hey.com'), ('qq.com'),
 ('163.com'), ('126.com'), ('comcast.net'), ('t-online.de'), ('orange.fr'), ('free.fr'), ('libero.it')
ON CONFLICT (pattern) DO NOTHING;

INSERT INTO crm_raw.ownership_mapping (singleton, mode) VALUES (true, 'per_owner')
ON CONFLICT (singleton) DO NOTHING;
