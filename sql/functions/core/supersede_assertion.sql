-- crm.supersede_assertion(...) — record a new claim about a subject, superseding the current one.
-- Guarantees:
-- * exactly one current assertion per (subject, assertion_type, assertion_key): concurrent
--   callers on the same key are serialized by a transaction-level advisory lock plus the
--   partial unique indexes assertions_current_node/_edge;
-- * a complete history chain: the old row gets superseded_at = now() and superseded_by = the
--   new row, in the same transaction as the insert;
-- * p_old_assertion_id NULL means "whatever is current (if anything)"; when given it must be
--   the current assertion of that subject/type/key, otherwise 40001 (someone superseded it
--   first: re-read and retry), P0002 (no such assertion) or 22023 (different subject/type);
-- * the new claim is validated by the assertions trigger (CR010/CR013/CR014);
-- * time runs forward along the chain: the old row's superseded_at and the new row's
--   asserted_at are one clock_timestamp() taken after the lock, so a transaction that
--   started earlier but got the lock later never records a time before its predecessor.
-- Parameter names are the seed's (seed 001 §5.2); p_assertion_key is an addition.
CREATE OR REPLACE FUNCTION crm.supersede_assertion(
    p_old_assertion_id    uuid,
    p_new_assertion_type  text,
    p_new_subject_node_id uuid,
    p_new_subject_edge_id uuid,
    p_new_claim           jsonb,
    p_new_source_event_id uuid DEFAULT NULL,
    p_new_confidence      numeric DEFAULT 1.0,
    p_assertion_key       text DEFAULT ''
)
RETURNS uuid
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    -- the work is crm_private.supersede_assertion_as's, as the caller, for the caller's role
    SELECT crm_private.supersede_assertion_as(current_user, p_old_assertion_id, p_new_assertion_type,
                                              p_new_subject_node_id, p_new_subject_edge_id, p_new_claim,
                                              p_new_source_event_id, p_new_confidence, p_assertion_key)
$$;

COMMENT ON FUNCTION crm.supersede_assertion(uuid, text, uuid, uuid, jsonb, uuid, numeric, text) IS
$c$Record a new claim about a node or edge and supersede the current one of the same (subject, type, key), keeping the history chain (superseded_at/superseded_by). p_old_assertion_id NULL = supersede whatever is current. Exactly one current assertion per key, even under concurrency. Errors: 22023 bad arguments, P0002 unknown old assertion, 40001 old assertion no longer current (retry), CR010/CR013/CR014 claim validation. Example: SELECT crm.supersede_assertion(NULL, 'ticket_status', '<ticket uuid>', NULL, '{"status":"open"}');$c$;
