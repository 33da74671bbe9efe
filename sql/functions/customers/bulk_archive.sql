-- crm.bulk_archive(p_ids, p_reason) — archive (soft-delete) every given node (seed 002: no
-- hard delete of customers; archive/restore).
-- Guarantees: all or nothing: every id must be visible and writable for the caller (CR055
-- lists refused ids; nothing changes); one set-based UPDATE setting archived_at; crm360 logs
-- node_archived with the reason per node (the existing audit trigger, as crm.archive_node);
-- nodes already archived are skipped; edges, events, assertions, tags and segment history are
-- kept (dynamic segments drop archived customers at their next refresh, reason archived).
-- Returns how many were archived.
CREATE OR REPLACE FUNCTION crm.bulk_archive(p_ids uuid[], p_reason text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ids uuid[];
    v_n   integer;
BEGIN
    v_ids := crm_private.require_writable(p_ids, NULL, 'bulk archive');
    PERFORM pg_catalog.set_config('crm.change_reason', coalesce(p_reason, ''), true);
    UPDATE crm.nodes n SET archived_at = now() WHERE n.id = ANY (v_ids) AND n.archived_at IS NULL;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    PERFORM pg_catalog.set_config('crm.change_reason', '', true);
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm.bulk_archive(uuid[], text) IS
$c$Bulk archive (soft delete, seed 002: never a hard delete): every given node, all or nothing; logs node_archived with the reason per node. Returns how many were archived. Errors: CR055 some ids hidden, missing or outside your write scope (listed in DETAIL; nothing changed), 22023 empty array. Example: SELECT crm.bulk_archive(ARRAY['<uuid>']::uuid[], 'left the company');$c$;
