-- crm_private.tg_bulk_guard() — BEFORE INSERT OR UPDATE (statement) on the graph tables,
-- fired only while the setting crm.bulk_apply is 'on' (its WHEN clause).
-- Guarantees: under that setting, a statement runs only inside crm360's own bulk
-- reconciliation (crm_private.bulk_apply_ok()); anyone else — including a SECURITY
-- DEFINER function called after a caller set the GUC — gets 42501, so the per-row
-- validation triggers (skipped under the setting) cannot be bypassed.
CREATE OR REPLACE FUNCTION crm_private.tg_bulk_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NOT crm_private.bulk_apply_ok() THEN
        RAISE EXCEPTION 'crm.bulk_apply is reserved for crm360''s reconciliation'
            USING ERRCODE = '42501',
                  DETAIL = format('%s on %s.%s refused while crm.bulk_apply = on', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME),
                  HINT = 'RESET crm.bulk_apply; load data through crm_raw and crm.reconcile()';
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_bulk_guard() IS
    'Trigger: refuses writes under crm.bulk_apply = on outside crm360''s bulk reconciliation (42501).';

CREATE OR REPLACE TRIGGER tg_nodes__bulk_guard BEFORE INSERT OR UPDATE ON crm.nodes
    FOR EACH STATEMENT WHEN (pg_catalog.current_setting('crm.bulk_apply', true) = 'on')
    EXECUTE FUNCTION crm_private.tg_bulk_guard();
CREATE OR REPLACE TRIGGER tg_edges__bulk_guard BEFORE INSERT OR UPDATE ON crm.edges
    FOR EACH STATEMENT WHEN (pg_catalog.current_setting('crm.bulk_apply', true) = 'on')
    EXECUTE FUNCTION crm_private.tg_bulk_guard();
CREATE OR REPLACE TRIGGER tg_assertions__bulk_guard BEFORE INSERT OR UPDATE ON crm.assertions
    FOR EACH STATEMENT WHEN (pg_catalog.current_setting('crm.bulk_apply', true) = 'on')
    EXECUTE FUNCTION crm_private.tg_bulk_guard();
CREATE OR REPLACE TRIGGER tg_events__bulk_guard BEFORE INSERT OR UPDATE ON crm.events
    FOR EACH STATEMENT WHEN (pg_catalog.current_setting('crm.bulk_apply', true) = 'on')
    EXECUTE FUNCTION crm_private.tg_bulk_guard();
CREATE OR REPLACE TRIGGER tg_event_participants__bulk_guard BEFORE INSERT OR UPDATE ON crm.event_participants
    FOR EACH STATEMENT WHEN (pg_catalog.current_setting('crm.bulk_apply', true) = 'on')
    EXECUTE FUNCTION crm_private.tg_bulk_guard();
CREATE OR REPLACE TRIGGER tg_artifacts__bulk_guard BEFORE INSERT OR UPDATE ON crm.artifacts
    FOR EACH STATEMENT WHEN (pg_catalog.current_setting('crm.bulk_apply', true) = 'on')
    EXECUTE FUNCTION crm_private.tg_bulk_guard();
