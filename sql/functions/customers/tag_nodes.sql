-- crm_private.tag_nodes(p_ids, p_tag, p_add, p_bulk) — the one implementation behind crm.tag,
-- crm.untag, crm.bulk_tag and crm.bulk_untag (seed 002 Tags, Bulk operations).
-- Guarantees, evaluated as the caller (row-level security applies to every read and write):
-- * scope: every id must be visible and writable for the caller (seed 002: own or unclaimed,
--   admins all): in bulk mode all-or-nothing with CR055 listing the refused ids; for a single
--   node 42501 (the same whether it is hidden or does not exist);
-- * the tag: added by name (created in the library when missing, crm.create_tag); removed
--   only when it exists (P0002 otherwise); bot: tags only by system roles (CR052);
-- * history: adding opens a crm.node_tags row (nothing when the tag is already on), removing
--   closes the open one (removed_at; nothing when it is not on) — rows are never deleted or
--   reopened; crm360 logs a tag_added / tag_removed event per change (trigger);
-- * set-based: one INSERT or UPDATE for all ids, one transaction.
-- Returns the number of nodes changed.
CREATE OR REPLACE FUNCTION crm_private.tag_nodes(p_ids uuid[], p_tag text, p_add boolean, p_bulk boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ids   uuid[];
    v_tag   uuid;
    v_actor uuid := crm.current_actor();
    v_n     integer;
BEGIN
    IF p_tag IS NULL OR btrim(p_tag) = '' THEN
        RAISE EXCEPTION 'tag name must not be blank' USING ERRCODE = '22023';
    END IF;
    IF lower(btrim(p_tag)) LIKE 'bot:%' AND NOT crm_private.is_system_role() THEN
        RAISE EXCEPTION 'bot: tags are system tags: only system roles set or remove them' USING ERRCODE = 'CR052',
              HINT = 'system roles: admins not acting for a user, crm360 itself (docs/customers.md)';
    END IF;
    IF p_bulk THEN
        v_ids := crm_private.require_writable(p_ids, NULL, CASE WHEN p_add THEN 'bulk tag' ELSE 'bulk untag' END);
    ELSE
        IF p_ids[1] IS NULL OR NOT crm_private.can_write_node(p_ids[1]) THEN
            RAISE EXCEPTION 'node % does not exist or you may not write it', p_ids[1]
                USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
        END IF;
        v_ids := p_ids[1:1];
    END IF;
    IF p_add THEN
        v_tag := crm.create_tag(p_tag);
        INSERT INTO crm.node_tags (node_id, tag_id, added_by)
        SELECT i, v_tag, v_actor FROM unnest(v_ids) AS i
         WHERE NOT EXISTS (SELECT 1 FROM crm.node_tags t WHERE t.node_id = i AND t.tag_id = v_tag AND t.removed_at IS NULL);
    ELSE
        SELECT t.id INTO v_tag FROM crm.tags t WHERE lower(t.name) = lower(btrim(p_tag)) AND t.archived_at IS NULL;
        IF v_tag IS NULL THEN
            RAISE EXCEPTION 'unknown tag %', p_tag USING ERRCODE = 'P0002', HINT = 'see crm.tags';
        END IF;
        UPDATE crm.node_tags t SET removed_at = now(), removed_by = v_actor
         WHERE t.node_id = ANY (v_ids) AND t.tag_id = v_tag AND t.removed_at IS NULL;
    END IF;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.tag_nodes(uuid[], text, boolean, boolean) IS
    'Internal: sets or removes a tag on nodes as the caller (scope checked for every id, history rows, events by trigger).';
