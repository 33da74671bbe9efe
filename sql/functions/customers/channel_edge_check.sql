-- crm_private.channel_edge_check(p_channel, p_person, p_has_channel, p_role) — may p_role
-- (the caller's current_user, trusted only when the session may become it) change what ties
-- channel p_channel to people (its node, its channel_status, an owned_by or has_channel edge
-- to p_person; p_person NULL: the channel itself)? SECURITY DEFINER: the people a channel
-- belongs to are read whatever the caller sees, and only a verdict is returned.
-- Returns NULL when allowed (also when p_channel is not a channel: not this rule's business);
-- 'denied' when the role may not write p_person or one of the people the channel already
-- belongs to (has_channel from them, or owned_by them) — a channel is written by those who
-- may write its person (seed 002 scoping); 'taken' (p_has_channel) when another person
-- already has the channel (a channel belongs to one customer: crm.merge_nodes joins two).
CREATE OR REPLACE FUNCTION crm_private.channel_edge_check(p_channel uuid, p_person uuid, p_has_channel boolean,
                                                          p_role name)
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_people uuid[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM crm.nodes c WHERE c.id = p_channel AND c.node_type = 'channel') THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(DISTINCT x.p) INTO v_people FROM (
        SELECT h.source_id FROM crm.edges h
         WHERE h.target_id = p_channel AND h.edge_type = 'has_channel' AND h.archived_at IS NULL
        UNION ALL
        SELECT o.target_id FROM crm.edges o
         WHERE o.source_id = p_channel AND o.edge_type = 'owned_by' AND o.archived_at IS NULL) AS x(p);
    IF (p_person IS NOT NULL AND NOT crm_private.role_can_write_node(p_role, p_person))
       OR EXISTS (SELECT 1 FROM unnest(v_people) AS q WHERE NOT crm_private.role_can_write_node(p_role, q)) THEN
        RETURN 'denied';
    END IF;
    IF p_has_channel AND EXISTS (SELECT 1 FROM crm.edges h
                                  WHERE h.target_id = p_channel AND h.edge_type = 'has_channel'
                                    AND h.archived_at IS NULL AND h.source_id <> p_person) THEN
        RETURN 'taken';
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.channel_edge_check(uuid, uuid, boolean, name) IS
    'Internal: NULL when the role may change the ties of a channel to a person (it writes the person and every person the channel belongs to), else denied / taken.';
