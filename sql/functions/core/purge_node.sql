-- crm.purge_node(p_node_id, p_reason) — legal erasure (GDPR Art. 17): the one true delete.
-- Guarantees: admin only (42501); removes the node and, for a person, its channel nodes;
-- their edges, assertions (with history), login mappings, attached artifacts and their
-- participation rows; events they took part in keep existing for the other participants
-- but lose summary, properties and artifacts (they may quote the person); source payloads
-- in crm_raw that describe them are deleted (crm_private.purge_raw). A node_purged tombstone
-- event records that an erasure happened (node id, type, reason — no personal data: do not
-- put any in p_reason). Returns the number of nodes erased. P0002 unknown node.
CREATE OR REPLACE FUNCTION crm.purge_node(p_node_id uuid, p_reason text DEFAULT 'legal erasure request')
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.require_admin('purge personal data');
    RETURN crm_private.purge_node_data(p_node_id, p_reason, coalesce(crm.current_actor()::text, session_user::text));
END;
$$;

COMMENT ON FUNCTION crm.purge_node(uuid, text) IS
$c$Legal erasure of a node's personal data everywhere (graph rows, history, artifacts, raw source payloads), leaving a tombstone event without personal data. Admin only. Errors: 42501 not admin, P0002 unknown node. Example: SELECT crm.purge_node('<person uuid>', 'GDPR request #123');$c$;
