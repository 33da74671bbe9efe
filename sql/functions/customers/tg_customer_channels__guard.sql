-- crm_private.tg_customer_channels__guard() — BEFORE INSERT OR UPDATE on crm.edges (owned_by,
-- has_channel) and crm.assertions (channel_status): what ties a channel to its customer, and
-- whether it may be used, is written only by those who may write that customer.
-- Guarantees, for members (anyone but admins not acting for a user, crm360's own code — e.g.
-- crm.add_channel's crm_private.add_channel_as, which checks the caller itself — and the DBA):
-- * an owned_by edge from a channel, or a has_channel edge to one (new, changed or archived):
--   the caller may write the person on the other end and every person the channel already
--   belongs to (42501); a has_channel edge to a channel another person already has is refused
--   (CR051) — so nobody re-points a colleague's customer's channel or borrows it to reach a
--   suppressed customer through their own;
-- * a channel_status assertion (crm.mark_channel, crm.supersede_assertion): the caller may
--   write every person the channel belongs to (42501).
-- The verdict comes from crm_private.channel_edge_check (SECURITY DEFINER, for current_user).
CREATE OR REPLACE FUNCTION crm_private.tg_customer_channels__guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_verdict text;
BEGIN
    IF current_user = 'crm_owner' OR pg_catalog.current_setting('is_superuser') = 'on'
       OR crm_private.actor_is_admin() THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'assertions' THEN
        v_verdict := crm_private.channel_edge_check(NEW.subject_node_id, NULL, false, current_user);
    ELSE
        IF TG_OP = 'UPDATE' AND OLD.edge_type IN ('owned_by', 'has_channel') THEN
            v_verdict := CASE OLD.edge_type
                         WHEN 'has_channel' THEN crm_private.channel_edge_check(OLD.target_id, OLD.source_id, false, current_user)
                         ELSE crm_private.channel_edge_check(OLD.source_id, OLD.target_id, false, current_user) END;
        END IF;
        IF v_verdict IS NULL AND NEW.edge_type IN ('owned_by', 'has_channel') THEN
            v_verdict := CASE NEW.edge_type
                         WHEN 'has_channel' THEN crm_private.channel_edge_check(NEW.target_id, NEW.source_id,
                                                                                NEW.archived_at IS NULL, current_user)
                         ELSE crm_private.channel_edge_check(NEW.source_id, NEW.target_id, false, current_user) END;
        END IF;
    END IF;
    IF v_verdict = 'taken' THEN
        RAISE EXCEPTION 'this channel belongs to another customer' USING ERRCODE = 'CR051',
              HINT = 'merge the two customers (crm.merge_nodes) or remove the channel from the other one';
    ELSIF v_verdict IS NOT NULL THEN
        RAISE EXCEPTION 'you may not change this channel or its customer' USING ERRCODE = '42501',
              HINT = 'a channel is written by those who may write its customer (seed 002 scoping)';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_customer_channels__guard() IS
    'Trigger: channel ties (owned_by / has_channel edges) and channel_status assertions only by writers of the channel''s person (42501); one person per channel (CR051).';

CREATE OR REPLACE TRIGGER tg_edges_customer__channel_guard
    BEFORE INSERT OR UPDATE ON crm.edges
    FOR EACH ROW
    WHEN (NEW.edge_type IN ('owned_by', 'has_channel'))
    EXECUTE FUNCTION crm_private.tg_customer_channels__guard();

CREATE OR REPLACE TRIGGER tg_assertions_customer__channel_guard
    BEFORE INSERT OR UPDATE ON crm.assertions
    FOR EACH ROW
    WHEN (NEW.assertion_type = 'channel_status')
    EXECUTE FUNCTION crm_private.tg_customer_channels__guard();
