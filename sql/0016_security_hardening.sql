-- 0016 security hardening (issue 11): what the access model needs in tables and registry
-- data to hold against an ordinary login role acting as an attacker.
-- Sections: tables, columns, registry data, backfill, retired objects, grants.
--
-- * crm_private.instance_secret — a random secret only crm_owner can read. It binds a
--   pooled service's crm.act_as() identity to one transaction without a transaction id
--   (so it also works in read-only transactions on a hot standby) and salts the advisory
--   lock keys crm360 serialises on, so nobody else can compute (and hold) them.
-- * write scopes in the registry: node, edge and event types say who may write them —
--   'member' (writers, under the row policies), 'admin' (admins only: users, teams,
--   memberships, pipelines, territories, campaigns) or 'system' (only crm360's own
--   functions, running as crm_owner: audit and access events, merges, what reconciliation
--   derives from source systems).
-- * crm.events.about — the nodes an event is about (its subject participants, else its
--   account, else every access-checked participant). An event is visible when one of them
--   is: a ticket comment needs its ticket, not merely its account.
-- * crm_raw.connector_sources — which sources a connector login may land and reconcile.
-- * The bulk-apply proof of 0014 (a registration table plus statement-level guard triggers
--   and a GUC) is retired: the per-row validation triggers are skipped only for statements
--   running as crm_owner with crm.bulk_apply on, and every SECURITY DEFINER function pins
--   crm.bulk_apply (and the other crm.* flags) off in its SET clause, so no caller's setting
--   ever reaches crm360's code (see crm_private.rc_apply).
-- * Internal helpers whose signatures change (they now take the caller's role and answer
--   only for a role the session may become) are dropped; the repeatable files re-create
--   them and the views and policies that use them.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm_private.instance_secret (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret     text NOT NULL CHECK (length(secret) >= 64),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm_private.instance_secret IS
    'A random secret of this database, readable by crm_owner only: binds crm.act_as identities to their transaction (crm_private.act_as_token) and salts crm360''s advisory lock keys (crm_private.xact_lock).';
INSERT INTO crm_private.instance_secret (secret)
SELECT encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text
                                || clock_timestamp()::text, 'UTF8')), 'hex')
    || encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex')
ON CONFLICT (singleton) DO NOTHING;

CREATE TABLE IF NOT EXISTS crm_raw.connector_sources (
    login_role name NOT NULL,
    source     text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL DEFAULT current_user,
    PRIMARY KEY (login_role, source)
);
COMMENT ON TABLE crm_raw.connector_sources IS
    'Least privilege for connectors: the sources (salesforce, zendesk, clm, stripe, ... or * for all) a connector role may land raw records for and reconcile. A crm_connector role without a row here may land and reconcile nothing. Managed by admins with crm.allow_source / crm.disallow_source.';

-- ---------------------------------------------------------------- columns
ALTER TABLE crm.node_types ADD COLUMN IF NOT EXISTS write_scope text NOT NULL DEFAULT 'member';
ALTER TABLE crm.edge_types ADD COLUMN IF NOT EXISTS write_scope text NOT NULL DEFAULT 'member';
ALTER TABLE crm.event_types ADD COLUMN IF NOT EXISTS write_scope text NOT NULL DEFAULT 'member';
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'node_types_write_scope') THEN
        ALTER TABLE crm.node_types ADD CONSTRAINT node_types_write_scope CHECK (write_scope IN ('member', 'admin', 'system'));
        ALTER TABLE crm.edge_types ADD CONSTRAINT edge_types_write_scope CHECK (write_scope IN ('member', 'admin', 'system'));
        ALTER TABLE crm.event_types ADD CONSTRAINT event_types_write_scope CHECK (write_scope IN ('member', 'admin', 'system'));
    END IF;
END
$$;
COMMENT ON COLUMN crm.node_types.write_scope IS 'Who may create and change nodes of this type: member (writers, under the row policies), admin (admins only: users, teams, pipelines, territories, campaigns — shared nodes everyone sees), system (crm360''s own functions only)';
COMMENT ON COLUMN crm.edge_types.write_scope IS 'Who may create and change edges of this type: member (writers who may write the source node), admin (admins only: member_of), system (crm360''s own functions only: merged_into)';
COMMENT ON COLUMN crm.event_types.write_scope IS 'Who may record events of this type: member (activities people log: email, meeting, call, note, offer, stage change), system (only crm360''s own functions: access and system audit events, ownership claims, what reconciliation derives from source systems). A system event is never written by a direct INSERT, so the audit trail cannot be forged.';

ALTER TABLE crm.events ADD COLUMN IF NOT EXISTS about uuid[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN crm.events.about IS 'The access-checked nodes the event is about (maintained from its participants): those taking part as subject, else as account, else every access-checked participant. The event is visible to whoever can see one of them; events.acl is the union of their acl.';

-- ---------------------------------------------------------------- registry data
UPDATE crm.node_types SET write_scope = 'admin'
 WHERE node_type IN ('user', 'team', 'pipeline', 'territory', 'campaign') AND write_scope <> 'admin';
UPDATE crm.edge_types SET write_scope = 'admin' WHERE edge_type = 'member_of' AND write_scope <> 'admin';
UPDATE crm.edge_types SET write_scope = 'system' WHERE edge_type = 'merged_into' AND write_scope <> 'system';
UPDATE crm.event_types SET write_scope = 'system'
 WHERE (event_group IN ('access', 'system', 'support', 'billing', 'contracts')
        OR event_type IN ('owner_claimed', 'owner_released', 'opportunity_created'))
   AND write_scope <> 'system';

INSERT INTO crm.error_codes (sqlstate, name, meaning, hint) VALUES
 ('CR032', 'write_scope', 'The type may only be written by admins or by crm360 itself (write_scope of the node, edge or event type)', 'use the admin function for it (crm.create_team, crm.add_user_to_team, ...), or ask an admin'),
 ('CR033', 'source_key', 'External keys of a registered source belong to reconciliation: only crm.reconcile creates or changes nodes and events keyed by one', 'create it without external_source/external_id (or with external_source internal); ingest the source record instead'),
 ('CR034', 'session_leftovers', 'The pooled connection still holds state of an earlier transaction (a WITH HOLD cursor or a temporary table, type, domain or function) that could carry another user''s rows or capture them', 'configure the pooler to reset connections (pgbouncer: server_reset_query = DISCARD ALL, server_reset_query_always = 1) or close the cursor / drop the table')
ON CONFLICT (sqlstate) DO NOTHING;

-- ---------------------------------------------------------------- backfill: what events are about
-- (the same rule as crm_private.refresh_event_acl, written out: migrations never call
-- repeatable functions). As the tables' owner with row-level security not forced for the
-- length of this transaction, so every row is reached whatever policies exist right now
-- (nobody else sees the tables in this state: ALTER TABLE holds them until commit).
ALTER TABLE crm.events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.event_participants NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.artifacts NO FORCE ROW LEVEL SECURITY;
SET LOCAL crm.acl_maintenance = 'on';
WITH ranked AS (
    SELECT p.event_id, p.node_id, p.acl,
           rank() OVER (PARTITION BY p.event_id
                        ORDER BY CASE p.role WHEN 'subject' THEN 1 WHEN 'account' THEN 2 ELSE 3 END) AS rk
      FROM crm.event_participants p
     WHERE p.acl IS NOT NULL
), about AS (
    SELECT r.event_id, array_agg(DISTINCT r.node_id ORDER BY r.node_id) AS about
      FROM ranked r WHERE r.rk = 1 GROUP BY r.event_id
), acl AS (
    SELECT r.event_id, array_agg(DISTINCT x ORDER BY x) AS acl
      FROM ranked r CROSS JOIN LATERAL unnest(r.acl) AS x WHERE r.rk = 1 GROUP BY r.event_id
), comp AS (
    SELECT e.id, coalesce(a.about, '{}') AS about, coalesce(c.acl, '{}') AS acl
      FROM crm.events e
      LEFT JOIN about a ON a.event_id = e.id
      LEFT JOIN acl c ON c.event_id = e.id
)
UPDATE crm.events e SET about = comp.about, acl = comp.acl
  FROM comp
 WHERE comp.id = e.id AND (e.about IS DISTINCT FROM comp.about OR e.acl IS DISTINCT FROM comp.acl);
UPDATE crm.event_participants p SET event_acl = e.acl
  FROM crm.events e WHERE e.id = p.event_id AND p.event_acl IS DISTINCT FROM e.acl;
UPDATE crm.artifacts a SET acl = e.acl
  FROM crm.events e WHERE e.id = a.event_id AND a.node_id IS NULL AND a.acl IS DISTINCT FROM e.acl;
SET LOCAL crm.acl_maintenance = 'off';
ALTER TABLE crm.events FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.event_participants FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.artifacts FORCE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------- retired objects (after the backfill:
-- dropping them CASCADE drops the policies that use them until sql/rls re-creates them)
DROP TRIGGER IF EXISTS tg_nodes__bulk_guard ON crm.nodes;
DROP TRIGGER IF EXISTS tg_edges__bulk_guard ON crm.edges;
DROP TRIGGER IF EXISTS tg_assertions__bulk_guard ON crm.assertions;
DROP TRIGGER IF EXISTS tg_events__bulk_guard ON crm.events;
DROP TRIGGER IF EXISTS tg_event_participants__bulk_guard ON crm.event_participants;
DROP TRIGGER IF EXISTS tg_artifacts__bulk_guard ON crm.artifacts;
DROP FUNCTION IF EXISTS crm_private.tg_bulk_guard();
DROP FUNCTION IF EXISTS crm_private.bulk_apply_begin();
DROP FUNCTION IF EXISTS crm_private.bulk_apply_end();
DROP FUNCTION IF EXISTS crm_private.bulk_apply_ok();
DROP TABLE IF EXISTS crm_private.bulk_apply_xacts;
DROP FUNCTION IF EXISTS crm_private.session_actor() CASCADE;
DROP FUNCTION IF EXISTS crm_private.event_recorded_by(uuid) CASCADE;
DROP FUNCTION IF EXISTS crm_private.event_visible_by_grants(uuid, uuid[], jsonb) CASCADE;
DROP FUNCTION IF EXISTS crm_private.visible_node_ids(text) CASCADE;
DROP FUNCTION IF EXISTS crm_private.account_quality_of(uuid) CASCADE;
DROP FUNCTION IF EXISTS crm_private.quality_items(timestamptz, timestamptz) CASCADE;
DROP FUNCTION IF EXISTS crm_private.source_freshness_at(timestamptz) CASCADE;
DROP FUNCTION IF EXISTS crm_private.sync_runs_between(timestamptz, timestamptz) CASCADE;
DROP FUNCTION IF EXISTS crm_private.log_access_event(text, text, jsonb, uuid[]) CASCADE;
DROP FUNCTION IF EXISTS crm_private.log_restriction_events(uuid[], uuid[], boolean) CASCADE;


-- ---------------------------------------------------------------- grants
REVOKE ALL ON crm_private.instance_secret FROM PUBLIC;
REVOKE ALL ON crm_raw.connector_sources FROM PUBLIC;
