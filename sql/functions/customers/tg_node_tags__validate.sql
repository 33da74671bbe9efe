-- crm_private.tg_node_tags__validate() — BEFORE INSERT OR UPDATE on crm.node_tags.
-- Guarantees (also for direct INSERT/UPDATE by writers, which the row policies scope):
-- * insert: the tag is live (P0002 otherwise); a system (bot:) tag only by a system role
--   (CR052); added_at is the transaction's time and added_by the acting CRM user (crm360's
--   own code keeps what it wrote); a new row is open (removed_at NULL);
-- * update: history is never rewritten — only closing an open row (removed_at from NULL to a
--   time, removed_by the acting user) is allowed (CR015 otherwise); removing a system tag
--   needs a system role (CR052).
CREATE OR REPLACE FUNCTION crm_private.tg_node_tags__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tag record;
BEGIN
    -- legal erasure (crm.purge_node): the foreign keys clear references to the erased node
    IF current_user = 'crm_owner' AND pg_catalog.current_setting('crm.purge', true) = 'on' THEN
        RETURN NEW;
    END IF;
    SELECT t.is_system, t.archived_at INTO v_tag FROM crm.tags t WHERE t.id = NEW.tag_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tag %', NEW.tag_id USING ERRCODE = 'P0002';
    END IF;
    IF v_tag.is_system AND NOT crm_private.is_system_role() THEN
        RAISE EXCEPTION 'bot: tags are system tags: only system roles set or remove them' USING ERRCODE = 'CR052';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF v_tag.archived_at IS NOT NULL THEN
            RAISE EXCEPTION 'tag % is archived', NEW.tag_id USING ERRCODE = 'P0002';
        END IF;
        IF current_user <> 'crm_owner' THEN
            NEW.added_at := now();
            NEW.added_by := crm.current_actor();
        END IF;
        NEW.removed_at := NULL;
        NEW.removed_by := NULL;
        RETURN NEW;
    END IF;
    IF NEW.node_id <> OLD.node_id OR NEW.tag_id <> OLD.tag_id OR NEW.added_at <> OLD.added_at
       OR NEW.added_by IS DISTINCT FROM OLD.added_by OR OLD.removed_at IS NOT NULL OR NEW.removed_at IS NULL THEN
        RAISE EXCEPTION 'tag history cannot be rewritten: only an open tag can be removed'
            USING ERRCODE = 'CR015', HINT = 'use crm.untag / crm.tag';
    END IF;
    IF current_user <> 'crm_owner' THEN
        NEW.removed_at := greatest(now(), OLD.added_at);
        NEW.removed_by := crm.current_actor();
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_node_tags__validate() IS
    'Trigger: tag assignments — live tag, bot: tags only by system roles (CR052), history rows only closed, never rewritten (CR015).';

CREATE OR REPLACE TRIGGER tg_node_tags__validate
    BEFORE INSERT OR UPDATE ON crm.node_tags
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_node_tags__validate();
