-- crm_private.tg_segment_memberships__validate() — BEFORE INSERT OR UPDATE on
-- crm.segment_memberships, for every statement that is not crm360's own (the WHEN clause:
-- crm.refresh_segments, as crm_owner, writes rows it computed and validated set-based).
-- Guarantees (also for direct writes, which the row policies scope to customers the caller
-- may write): the segment is a live static segment (CR054 for dynamic: its members come from
-- its filter; CR020 archived; P0002 not a segment); the member is a person (CR012); a new row
-- is open, entered now by the acting user (reason manual); an update may only close an open
-- row (left now, by the acting user, reason manual) — history is never rewritten (CR015);
-- members of a static segment are added and removed only by the segment's owner (the user
-- holding its claim: its creator) or an admin (42501) — a segment an admin created (unclaimed)
-- is changed by admins only.
CREATE OR REPLACE FUNCTION crm_private.tg_segment_memberships__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_seg record;
BEGIN
    SELECT s.node_type, s.archived_at, s.claimed_by, s.properties ->> 'kind' AS kind INTO v_seg FROM crm.nodes s WHERE s.id = NEW.segment_id;
    IF NOT FOUND OR v_seg.node_type <> 'segment' THEN
        RAISE EXCEPTION 'segment % not found', NEW.segment_id USING ERRCODE = 'P0002';
    END IF;
    IF v_seg.kind <> 'static' THEN
        RAISE EXCEPTION 'segment % is dynamic: its members come from its filter', NEW.segment_id USING ERRCODE = 'CR054';
    END IF;
    IF NOT crm_private.actor_is_admin()
       AND (v_seg.claimed_by IS NULL OR v_seg.claimed_by IS DISTINCT FROM crm.current_actor()) THEN
        RAISE EXCEPTION 'you may not change the members of segment %', NEW.segment_id USING ERRCODE = '42501',
              HINT = 'a segment''s members are changed by its creator (who holds its claim) or an admin';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF v_seg.archived_at IS NOT NULL THEN
            RAISE EXCEPTION 'segment % is archived', NEW.segment_id USING ERRCODE = 'CR020';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = NEW.node_id AND n.node_type = 'person') THEN
            RAISE EXCEPTION 'segment members are customers (people)' USING ERRCODE = 'CR012';
        END IF;
        NEW.entered_at := now();
        NEW.entered_by := crm.current_actor();
        NEW.entered_reason := 'manual';
        NEW.left_at := NULL;
        NEW.left_by := NULL;
        NEW.left_reason := NULL;
        RETURN NEW;
    END IF;
    IF NEW.segment_id <> OLD.segment_id OR NEW.node_id <> OLD.node_id OR NEW.entered_at <> OLD.entered_at
       OR NEW.entered_by IS DISTINCT FROM OLD.entered_by OR NEW.entered_reason <> OLD.entered_reason
       OR OLD.left_at IS NOT NULL OR NEW.left_at IS NULL THEN
        RAISE EXCEPTION 'segment history cannot be rewritten: only an open membership can be closed'
            USING ERRCODE = 'CR015', HINT = 'use crm.remove_from_segment / crm.add_to_segment';
    END IF;
    NEW.left_at := greatest(now(), OLD.entered_at);
    NEW.left_by := crm.current_actor();
    NEW.left_reason := 'manual';
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_segment_memberships__validate() IS
    'Trigger: manual segment membership changes — static live segments only (CR054/CR020), people only (CR012), history rows only closed (CR015), by the segment''s owner or an admin (42501).';

CREATE OR REPLACE TRIGGER tg_segment_memberships__validate
    BEFORE INSERT OR UPDATE ON crm.segment_memberships
    FOR EACH ROW
    WHEN (current_user <> 'crm_owner')
    EXECUTE FUNCTION crm_private.tg_segment_memberships__validate();
