-- 0010 Account 360 placeholders — MINIMAL stand-ins for what issue 5 (ingestion) owns, so
-- that the Account 360 read models (issue 6) compile and can be tested on their own.
-- DROP THIS FILE (and its rollback) AT MERGE TIME: issue 5 creates the real objects.
-- Only the columns named in docs/graph_contract.md exist here; everything is IF NOT EXISTS,
-- so running it against a database that already has issue 5's objects changes nothing.
--   crm_raw.sync_runs       (source, object, started_at, finished_at, status, rows_received,
--                            rows_applied, rows_rejected, error, cursor_before, cursor_after)
--   crm_raw.source_schedules(source, object, expected_interval)
--   crm.orphans / crm.identity_mismatches / crm.duplicate_candidates
--                           (account_id, detected_at, source, evidence) — TABLES here so tests
--                           can insert rows; issue 5 makes them views.
--   event types of the contract (ticket_*, invoice_*, contract_*, opportunity_created).
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- sync runs and schedules
CREATE TABLE IF NOT EXISTS crm_raw.sync_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text NOT NULL,
    object        text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
    rows_received bigint NOT NULL DEFAULT 0,
    rows_applied  bigint NOT NULL DEFAULT 0,
    rows_rejected bigint NOT NULL DEFAULT 0,
    error         text,
    cursor_before text,
    cursor_after  text
);
COMMENT ON TABLE crm_raw.sync_runs IS 'PLACEHOLDER (issue 6, replaced by issue 5): one row per ingest run of a source object.';
CREATE INDEX IF NOT EXISTS sync_runs_source_object ON crm_raw.sync_runs (source, object, started_at);

CREATE TABLE IF NOT EXISTS crm_raw.source_schedules (
    source            text NOT NULL,
    object            text NOT NULL,
    expected_interval interval NOT NULL,
    PRIMARY KEY (source, object)
);
COMMENT ON TABLE crm_raw.source_schedules IS 'PLACEHOLDER (issue 6, replaced by issue 5): how often each source object is expected to sync.';

ALTER TABLE crm_raw.sync_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.sync_runs FORCE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.source_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.source_schedules FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS sync_runs_connector ON crm_raw.sync_runs;
CREATE POLICY sync_runs_connector ON crm_raw.sync_runs FOR ALL TO crm_connector, crm_admin
    USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS source_schedules_connector ON crm_raw.source_schedules;
CREATE POLICY source_schedules_connector ON crm_raw.source_schedules FOR ALL TO crm_connector, crm_admin
    USING (true) WITH CHECK (true);
REVOKE ALL ON crm_raw.sync_runs, crm_raw.source_schedules FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON crm_raw.sync_runs, crm_raw.source_schedules TO crm_connector, crm_admin;

-- ---------------------------------------------------------------- data-quality relations
CREATE TABLE IF NOT EXISTS crm.orphans (
    account_id  uuid,
    detected_at timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    evidence    jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE crm.orphans IS 'PLACEHOLDER (issue 6, replaced by issue 5''s view): source records that could not be matched to an account.';
CREATE TABLE IF NOT EXISTS crm.identity_mismatches (
    account_id  uuid,
    detected_at timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    evidence    jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE crm.identity_mismatches IS 'PLACEHOLDER (issue 6, replaced by issue 5''s view): records whose stored CRM id and domain point to different accounts.';
CREATE TABLE IF NOT EXISTS crm.duplicate_candidates (
    account_id  uuid,
    detected_at timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    evidence    jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE crm.duplicate_candidates IS 'PLACEHOLDER (issue 6, replaced by issue 5''s view): accounts that look like duplicates of each other.';
CREATE INDEX IF NOT EXISTS orphans_account ON crm.orphans (account_id);
CREATE INDEX IF NOT EXISTS identity_mismatches_account ON crm.identity_mismatches (account_id);
CREATE INDEX IF NOT EXISTS duplicate_candidates_account ON crm.duplicate_candidates (account_id);

DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['orphans', 'identity_mismatches', 'duplicate_candidates'] LOOP
        EXECUTE format('ALTER TABLE crm.%I ENABLE ROW LEVEL SECURITY', v_table);
        EXECUTE format('ALTER TABLE crm.%I FORCE ROW LEVEL SECURITY', v_table);
        EXECUTE format('DROP POLICY IF EXISTS %I ON crm.%I', v_table || '_select', v_table);
        -- a row is visible with its account (rows without an account: admins and connectors)
        EXECUTE format($p$CREATE POLICY %I ON crm.%I FOR SELECT TO crm_reader, crm_connector
                          USING (pg_catalog.pg_has_role(current_user, 'crm_admin', 'MEMBER')
                                 OR pg_catalog.pg_has_role(current_user, 'crm_connector', 'MEMBER')
                                 OR EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = account_id))$p$,
                       v_table || '_select', v_table);
        EXECUTE format('DROP POLICY IF EXISTS %I ON crm.%I', v_table || '_write', v_table);
        EXECUTE format('CREATE POLICY %I ON crm.%I FOR ALL TO crm_connector, crm_admin USING (true) WITH CHECK (true)',
                       v_table || '_write', v_table);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------- contract event types
INSERT INTO crm.event_types (event_type, description, event_group, key_properties) VALUES
 ('opportunity_created',  'An opportunity was first seen (CRM)', 'crm', '{stage,amount}'),
 ('ticket_opened',        'A support ticket was opened', 'support', '{status,priority}'),
 ('ticket_status_changed','A support ticket changed status', 'support', '{from_status,to_status}'),
 ('ticket_solved',        'A support ticket was solved or closed', 'support', '{status}'),
 ('ticket_comment',       'A comment on a support ticket (body in crm.artifacts)', 'support', '{public,author}'),
 ('contract_signed',      'A contract became active', 'contracts', '{annual_value,end_date}'),
 ('contract_renewed',     'A contract''s end date moved later', 'contracts', '{from_end_date,to_end_date}'),
 ('contract_expired',     'A contract expired', 'contracts', '{end_date}'),
 ('contract_terminated',  'A contract was terminated', 'contracts', '{}'),
 ('invoice_issued',       'An invoice was issued (first seen open)', 'billing', '{amount_due,due_date}'),
 ('invoice_paid',         'An invoice was paid', 'billing', '{amount_paid}'),
 ('invoice_voided',       'An invoice was voided', 'billing', '{}')
ON CONFLICT (event_type) DO NOTHING;
