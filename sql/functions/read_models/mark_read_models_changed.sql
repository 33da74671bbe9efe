-- crm_private.mark_read_models_changed(p_inputs) — data some read models read has changed.
-- Guarantees: every registered read model (crm_private.read_models) whose inputs include one
-- of p_inputs ('source/object'), or that reads every source object (inputs NULL), or every
-- read model when p_inputs is NULL, gets change_seq + 1 and data_changed_at = now(): it is
-- stale until a refresh that started after this commit (crm_private.refresh_read_model reads
-- change_seq before it refreshes). Called by crm360's own functions (reconciliation, merges)
-- as crm_owner; one reconciler at a time holds the reconcile lock, so these few rows see no
-- contention from ordinary writes. EXECUTE for nobody else. Returns the read models marked.
CREATE OR REPLACE FUNCTION crm_private.mark_read_models_changed(p_inputs text[])
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH m AS (
        UPDATE crm_private.read_models r
           SET change_seq = r.change_seq + 1, data_changed_at = now()
         WHERE p_inputs IS NULL OR r.inputs IS NULL OR r.inputs && p_inputs
        RETURNING 1
    )
    SELECT count(*)::integer FROM m
$$;

COMMENT ON FUNCTION crm_private.mark_read_models_changed(text[]) IS
    'Marks the read models fed by the given source objects (NULL: all) as changed (stale until refreshed). Internal.';
