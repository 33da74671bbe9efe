-- crm_private.chunk_source_visible(p_event_id, p_node_id, p_principals, p_grants, p_actor) —
-- the exact visibility of a chunk's source for a caller described by its principals, grants
-- and acting user: the slow path of crm_private.search_chunks, for the chunks its acl copy
-- does not decide (callers with node grants; events about nothing).
-- Guarantees: with p_event_id, the events policy's rules for that caller (acl overlapping the
-- principals; with node grants, an event about a node the acl or grants show; an event about
-- nothing recorded by p_actor); without, the nodes policy's rules for p_node_id (acl NULL or
-- overlapping; a read grant). Admins are decided by the caller (never reaches here). Reads
-- the tables as the calling function's owner; not granted to anyone.
CREATE OR REPLACE FUNCTION crm_private.chunk_source_visible(p_event_id uuid, p_node_id uuid, p_principals uuid[],
                                                            p_grants jsonb, p_actor uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN p_event_id IS NOT NULL THEN
                EXISTS (SELECT 1 FROM crm.events e
                         WHERE e.id = p_event_id
                           AND (e.acl && p_principals
                                OR (p_grants <> '[]'::jsonb
                                    AND EXISTS (SELECT 1 FROM crm.nodes n
                                                 WHERE n.id = ANY (e.about)
                                                   AND (n.acl IS NULL OR n.acl && p_principals
                                                        OR crm_private.node_grant_match(p_grants, 'read', n.node_type,
                                                                                        n.attrs, n.acl))))
                                OR (e.about = '{}' AND p_actor IS NOT NULL AND e.recorded_by = p_actor)))
           ELSE
                EXISTS (SELECT 1 FROM crm.nodes n
                         WHERE n.id = p_node_id
                           AND (n.acl IS NULL OR n.acl && p_principals
                                OR (p_grants <> '[]'::jsonb
                                    AND crm_private.node_grant_match(p_grants, 'read', n.node_type, n.attrs, n.acl))))
           END
$$;

COMMENT ON FUNCTION crm_private.chunk_source_visible(uuid, uuid, uuid[], jsonb, uuid) IS
    'Internal (crm_private.search_chunks): whether a chunk''s source event, else node, is visible to the caller with these principals, grants and acting user, by the events / nodes policies'' rules.';
