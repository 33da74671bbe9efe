-- crm_private.tg_chunks__acl() — BEFORE INSERT OR UPDATE OF acl, acl_tsv, event_id, node_id
-- trigger on crm.chunks: the one place a chunk's acl and acl_tsv are written.
-- Guarantees: NEW.acl := crm_private.chunk_acl_of(event, node) (the source's acl, read FOR
-- SHARE), whatever the writer put there — except inside crm360's ACL maintenance (only
-- crm360's own code, as the schema owner, can be in it: crm_private.acl_maintenance), which
-- writes the new acl in the statement that changes the source's and is trusted; then
-- NEW.acl_tsv := crm_private.chunk_acl_tsv(NEW.acl, NEW.event_id), always. So neither column
-- can be forgotten or forged.
CREATE OR REPLACE FUNCTION crm_private.tg_chunks__acl()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT (TG_OP = 'UPDATE' AND crm_private.acl_maintenance()) THEN
        NEW.acl := crm_private.chunk_acl_of(NEW.event_id, NEW.node_id);
    END IF;
    NEW.acl_tsv := crm_private.chunk_acl_tsv(NEW.acl, NEW.event_id);
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_chunks__acl() IS
    'Trigger: sets crm.chunks.acl (who may see the chunk: its source''s acl, read FOR SHARE) and acl_tsv on every insert and on updates of acl, acl_tsv, event_id or node_id.';

CREATE OR REPLACE TRIGGER tg_chunks__acl
    BEFORE INSERT OR UPDATE OF acl, acl_tsv, event_id, node_id ON crm.chunks
    FOR EACH ROW
    EXECUTE FUNCTION crm_private.tg_chunks__acl();
