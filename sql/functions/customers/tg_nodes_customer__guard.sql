-- crm_private.tg_nodes_customer__guard() — BEFORE INSERT OR UPDATE on crm.nodes, for segment
-- and channel nodes; runs after crm_private.tg_nodes__validate (triggers fire in name order:
-- "tg_nodes__" sorts before "tg_nodes_c"), so a member's new segment is already claimed by them.
-- Guarantees:
-- * segments, for everyone (admins and crm360 included): kind, purpose and definition obey
--   crm_private.check_segment_properties (a definition is validated and capped however it is
--   written — so crm.refresh_segments never meets one that does not compile);
-- * dynamic segments are admins' (review F3/F4: a filter is evaluated by crm.refresh_segments
--   over every customer, company and event, so a member's filter would reveal what they cannot
--   see): a member may not create one nor set a dynamic segment's definition (42501);
-- * segments, for members (anyone but admins not acting for a user, crm360's own code and the
--   DBA): a segment is changed (label, properties, archive, claim) only by its owner — the
--   user holding its claim: its creator, unless an admin reassigned it. A segment an admin
--   created is unclaimed: only admins change it (claiming it is a change too) — 42501;
-- * channels, for members: a channel node is changed (value, archive, ...) only by those who
--   may write every person it belongs to (crm_private.channel_edge_check) — 42501.
-- Nothing a caller sets (a GUC, a temp object) switches this off: the identity is current_user
-- and crm_private.actor_is_admin, the search_path is pinned.
CREATE OR REPLACE FUNCTION crm_private.tg_nodes_customer__guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_crm360 boolean := current_user = 'crm_owner' OR pg_catalog.current_setting('is_superuser') = 'on';
    v_old_seg boolean := TG_OP = 'UPDATE' AND OLD.node_type = 'segment';
BEGIN
    IF NEW.node_type = 'segment' AND (NOT v_old_seg OR NEW.properties IS DISTINCT FROM OLD.properties) THEN
        PERFORM crm_private.check_segment_properties(NEW.properties, CASE WHEN v_old_seg THEN OLD.properties END);
    END IF;
    IF v_crm360 OR crm_private.actor_is_admin() THEN
        RETURN NEW;
    END IF;
    IF NEW.node_type = 'segment' AND NEW.properties ->> 'kind' = 'dynamic'
       AND (NOT v_old_seg OR (NEW.properties -> 'definition') IS DISTINCT FROM (OLD.properties -> 'definition')) THEN
        RAISE EXCEPTION 'dynamic segments are defined by admins' USING ERRCODE = '42501',
              HINT = 'a filter is evaluated over every customer, also those you cannot see: ask an admin, or use a static segment';
    END IF;
    IF TG_OP = 'INSERT' THEN
        RETURN NEW;
    END IF;
    IF v_old_seg OR NEW.node_type = 'segment' THEN
        IF OLD.claimed_by IS NULL OR OLD.claimed_by IS DISTINCT FROM crm.current_actor() THEN
            RAISE EXCEPTION 'you may not change segment %', OLD.id USING ERRCODE = '42501',
                  HINT = 'a segment is changed by its creator (who holds its claim) or an admin';
        END IF;
    ELSIF (OLD.node_type = 'channel' OR NEW.node_type = 'channel')
          AND crm_private.channel_edge_check(OLD.id, NULL, false, current_user) IS NOT NULL THEN
        RAISE EXCEPTION 'you may not change channel %', OLD.id USING ERRCODE = '42501',
              HINT = 'a channel is written by those who may write its customer';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_nodes_customer__guard() IS
    'Trigger: segment properties validated for everyone; segments changed only by their owner (claimer) or admins; channels only by writers of their person (42501).';

CREATE OR REPLACE TRIGGER tg_nodes_customer__guard_insert
    BEFORE INSERT ON crm.nodes
    FOR EACH ROW
    WHEN (NEW.node_type = 'segment')
    EXECUTE FUNCTION crm_private.tg_nodes_customer__guard();

CREATE OR REPLACE TRIGGER tg_nodes_customer__guard_update
    BEFORE UPDATE ON crm.nodes
    FOR EACH ROW
    WHEN (OLD.node_type IN ('segment', 'channel') OR NEW.node_type IN ('segment', 'channel'))
    EXECUTE FUNCTION crm_private.tg_nodes_customer__guard();
