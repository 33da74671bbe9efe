-- crm_private.tg_tags__validate() — BEFORE INSERT OR UPDATE on crm.tags (the tag library).
-- Guarantees: bot: tags (system tags) are created or changed only by system roles (CR052,
-- crm_private.is_system_role) — also by a direct INSERT; a tag cannot be renamed into or out
-- of the bot: prefix by anyone else; created_by is the acting CRM user and created_at the
-- transaction's time at insert, and never change.
CREATE OR REPLACE FUNCTION crm_private.tg_tags__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- legal erasure (crm.purge_node): the foreign keys clear references to the erased node
    IF current_user = 'crm_owner' AND pg_catalog.current_setting('crm.purge', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF (lower(NEW.name) LIKE 'bot:%' OR (TG_OP = 'UPDATE' AND lower(OLD.name) LIKE 'bot:%'))
       AND NOT crm_private.is_system_role() THEN
        RAISE EXCEPTION 'bot: tags are system tags' USING ERRCODE = 'CR052',
              HINT = 'only system roles (admins not acting for a user, crm360 itself) create or change them';
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.created_by := crm.current_actor();
        NEW.created_at := now();
    ELSE
        NEW.created_by := OLD.created_by;
        NEW.created_at := OLD.created_at;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_tags__validate() IS
    'Trigger: bot: tags only by system roles (CR052); created_by/created_at set by crm360.';

CREATE OR REPLACE TRIGGER tg_tags__validate
    BEFORE INSERT OR UPDATE ON crm.tags
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_tags__validate();
