-- crm_private.add_channel_as(p_person, p_kind, p_value, p_preferred, p_role) — the work of
-- crm.add_channel, as crm360 (SECURITY DEFINER: a member cannot create a channel node, which
-- is visible only through its person's owned_by edge, nor its source key).
-- Guarantees: p_role (the caller's current_user, trusted only when the session may become it)
-- must be allowed to write the person (crm_private.role_can_write_node; 42501 otherwise — a
-- writer calling this directly with another role gets the same refusal); then the rules of
-- crm.add_channel, in one transaction. The existing-channel lookup and the uniqueness are by
-- the key (external_source 'channel', external_id kind:normalised — reconciliation's key for
-- emails and phones, so a channel added here and one landed by a connector are one node).
CREATE OR REPLACE FUNCTION crm_private.add_channel_as(p_person uuid, p_kind text, p_value text,
                                                      p_preferred boolean, p_role name)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_person  record;
    v_norm    text := crm_private.normalize_channel(p_kind, p_value);
    v_channel uuid;
    v_owner   uuid;
BEGIN
    IF p_person IS NULL OR NOT crm_private.role_can_write_node(p_role, p_person) THEN
        RAISE EXCEPTION 'customer % does not exist or you may not write it', p_person
            USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
    END IF;
    SELECT n.node_type, n.archived_at, n.label INTO v_person FROM crm.nodes n WHERE n.id = p_person FOR NO KEY UPDATE;
    IF v_person.node_type <> 'person' THEN
        RAISE EXCEPTION 'channels belong to people, not to a %', v_person.node_type USING ERRCODE = 'CR012';
    END IF;
    IF v_person.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'customer % is archived', v_person.label USING ERRCODE = 'CR020',
              HINT = 'restore it first (crm.restore_node)';
    END IF;
    IF v_norm IS NULL THEN
        RAISE EXCEPTION 'invalid % channel: %', coalesce(p_kind, 'NULL'), coalesce(p_value, 'NULL')
            USING ERRCODE = 'CR050',
                  HINT = 'kinds: email, phone (7-15 digits), linkedin (linkedin.com/in/<handle>), telegram (numeric chat id)';
    END IF;

    -- serialise adders of the same key (two customers racing for one address)
    PERFORM crm_private.xact_lock('channel:' || p_kind || ':' || v_norm);
    SELECT c.id INTO v_channel FROM crm.nodes c
     WHERE ARRAY[c.external_source, c.external_id] = ARRAY['channel', p_kind || ':' || v_norm]
       AND c.external_id IS NOT NULL AND c.archived_at IS NULL;
    IF v_channel IS NOT NULL THEN
        SELECT h.source_id INTO v_owner FROM crm.edges h
         WHERE h.target_id = v_channel AND h.edge_type = 'has_channel' AND h.archived_at IS NULL
         ORDER BY (h.source_id = p_person) LIMIT 1;   -- another customer's first: CR051
        IF v_owner IS DISTINCT FROM p_person AND v_owner IS NOT NULL THEN
            RAISE EXCEPTION 'this % channel belongs to another customer', p_kind
                USING ERRCODE = 'CR051',
                      HINT = 'merge the two customers (crm.merge_nodes) or remove the channel from the other one';
        END IF;
    ELSE
        INSERT INTO crm.nodes (node_type, label, properties, external_source, external_id)
        VALUES ('channel', v_norm, jsonb_build_object('channel_type', p_kind, 'value', v_norm),
                'channel', p_kind || ':' || v_norm)
        RETURNING id INTO v_channel;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.edges o WHERE o.source_id = v_channel AND o.edge_type = 'owned_by'
                      AND o.target_id = p_person AND o.archived_at IS NULL) THEN
        INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('owned_by', v_channel, p_person);
    END IF;
    IF v_owner IS NULL THEN
        INSERT INTO crm.edges (edge_type, source_id, target_id, properties)
        VALUES ('has_channel', p_person, v_channel, jsonb_build_object('primary', coalesce(p_preferred, false)));
    END IF;
    IF p_preferred THEN
        UPDATE crm.edges h
           SET properties = h.properties || jsonb_build_object('primary', h.target_id = v_channel)
          FROM crm.nodes c
         WHERE h.source_id = p_person AND h.edge_type = 'has_channel' AND h.archived_at IS NULL
           AND c.id = h.target_id AND c.properties ->> 'channel_type' = p_kind
           AND (h.properties -> 'primary') IS DISTINCT FROM to_jsonb(h.target_id = v_channel);
    END IF;
    IF p_kind = 'email' THEN
        PERFORM crm_private.match_companies_for(ARRAY[p_person], p_role);
    END IF;
    RETURN v_channel;
END;
$$;

COMMENT ON FUNCTION crm_private.add_channel_as(uuid, text, text, boolean, name) IS
    'Internal: crm.add_channel as crm360, for a caller role that may write the person.';
