-- crm_private.chunk_acl_of(p_event_id, p_node_id) — who may see a chunk (crm.chunks.acl), the
-- one definition (migration 0023 spells it out for its backfill; ACL maintenance writes the
-- same values set-based).
-- Guarantees: for an event chunk, the event's acl — or, for an event about nothing (which
-- the events policy shows to admins and to the user who recorded it), its recorder ('{}'
-- without one); for a node chunk, the node's acl (NULL: not access-checked, everyone). So
-- for any caller without node grants, "acl overlaps my principals, or acl is NULL on a node
-- chunk" is the chunks policy's source rule exactly. Reads the source row FOR SHARE: a
-- concurrent acl change either waits for the caller's transaction (and its ACL maintenance
-- then rewrites this chunk) or has committed and is read here — the copy is never left
-- wider than the source. Runs as the writer of crm.chunks (crm_owner); not granted.
CREATE OR REPLACE FUNCTION crm_private.chunk_acl_of(p_event_id uuid, p_node_id uuid)
RETURNS uuid[]
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_acl uuid[];
BEGIN
    IF p_event_id IS NOT NULL THEN
        SELECT CASE WHEN e.about = '{}' THEN CASE WHEN e.recorded_by IS NULL THEN '{}'::uuid[]
                                                  ELSE ARRAY[e.recorded_by] END
                    ELSE e.acl END
          INTO v_acl
          FROM crm.events e WHERE e.id = p_event_id
           FOR SHARE;
        RETURN coalesce(v_acl, '{}');
    END IF;
    SELECT n.acl INTO v_acl FROM crm.nodes n WHERE n.id = p_node_id FOR SHARE;
    RETURN v_acl;
END;
$$;

COMMENT ON FUNCTION crm_private.chunk_acl_of(uuid, uuid) IS
    'Internal (tg_chunks__acl): who may see a chunk of this event (its acl, or its recorder when it is about nothing) or of this node (its acl), reading the source FOR SHARE.';
