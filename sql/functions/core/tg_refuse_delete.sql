-- crm_private.tg_refuse_delete() — BEFORE DELETE / TRUNCATE (statement) on the core tables.
-- Guarantees: no hard delete of graph rows (seed 002: "No hard-delete on customers ... it
-- breaks relationships"); the statement fails with 42501 and a hint to archive. The one
-- exception is legal erasure: a SECURITY DEFINER purge running as the table owner that
-- has set crm.purge = 'on' for its own transaction. An ordinary role setting crm.purge
-- gains nothing, because it is not the table owner.
CREATE OR REPLACE FUNCTION crm_private.tg_refuse_delete()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_setting('crm.purge', true) = 'on'
       AND current_user = (SELECT c.relowner::regrole::text FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% on %.% is not allowed', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = '42501',
              DETAIL = 'crm360 never hard-deletes graph rows: history, relationships and audit depend on them',
              HINT = CASE TG_TABLE_NAME
                       WHEN 'nodes' THEN 'archive instead: SELECT crm.archive_node(id) (restore with crm.restore_node)'
                       WHEN 'edges' THEN 'end the relationship (effective_to) or archive it (archived_at = now())'
                       WHEN 'assertions' THEN 'supersede the claim with crm.supersede_assertion'
                       WHEN 'artifacts' THEN 'archive it (archived_at = now())'
                       ELSE 'history is kept; legal erasure is done with crm.purge_node by an admin'
                     END;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_refuse_delete() IS
    'Trigger: refuses DELETE and TRUNCATE on the core graph tables (42501, hint: archive).';

CREATE OR REPLACE TRIGGER tg_nodes__refuse_delete BEFORE DELETE ON crm.nodes
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_nodes__refuse_truncate BEFORE TRUNCATE ON crm.nodes
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_edges__refuse_delete BEFORE DELETE ON crm.edges
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_edges__refuse_truncate BEFORE TRUNCATE ON crm.edges
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_events__refuse_delete BEFORE DELETE ON crm.events
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_events__refuse_truncate BEFORE TRUNCATE ON crm.events
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_event_participants__refuse_delete BEFORE DELETE ON crm.event_participants
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_event_participants__refuse_truncate BEFORE TRUNCATE ON crm.event_participants
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_assertions__refuse_delete BEFORE DELETE ON crm.assertions
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_assertions__refuse_truncate BEFORE TRUNCATE ON crm.assertions
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_artifacts__refuse_delete BEFORE DELETE ON crm.artifacts
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
CREATE OR REPLACE TRIGGER tg_artifacts__refuse_truncate BEFORE TRUNCATE ON crm.artifacts
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_refuse_delete();
