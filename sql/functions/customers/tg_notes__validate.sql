-- crm_private.tg_notes__validate() — BEFORE INSERT OR UPDATE on crm.notes.
-- Guarantees: at insert the author is the acting CRM user (the row policy insists), version 1,
-- created_at/updated_at the transaction's time; the anchor and author never change; when the
-- body changes the previous text is copied to crm.note_versions (valid_from = the note's
-- updated_at, valid_to = now, edited_by = the acting user) and version is incremented — so
-- no edit ever loses a version; an unchanged body keeps version and updated_at.
CREATE OR REPLACE FUNCTION crm_private.tg_notes__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- legal erasure (crm.purge_node): the foreign keys clear references to the erased node
    IF current_user = 'crm_owner' AND pg_catalog.current_setting('crm.purge', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
        NEW.created_at := now();
        NEW.updated_at := now();
        NEW.archived_at := NULL;
        RETURN NEW;
    END IF;
    IF current_user <> 'crm_owner' THEN   -- crm360's merges move notes to the kept node
        NEW.anchor_id := OLD.anchor_id;
    END IF;
    NEW.author_id := OLD.author_id;
    NEW.created_at := OLD.created_at;
    IF NEW.body IS DISTINCT FROM OLD.body THEN
        PERFORM crm_private.keep_note_version(OLD.id, OLD.version, OLD.body, OLD.updated_at);
        NEW.version := OLD.version + 1;
        NEW.updated_at := greatest(now(), OLD.updated_at);
    ELSE
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_notes__validate() IS
    'Trigger: notes — author/anchor fixed, every replaced text kept in crm.note_versions, version counted.';

CREATE OR REPLACE TRIGGER tg_notes__validate
    BEFORE INSERT OR UPDATE ON crm.notes
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_notes__validate();
