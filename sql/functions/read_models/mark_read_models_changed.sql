-- crm_private.mark_read_models_changed(p_inputs) — data some read models read has changed.
-- Guarantees: every registered read model (crm_private.read_models) whose inputs include one
-- of p_inputs ('source/object'), or that reads every source object (inputs NULL), or every
-- read model when p_inputs is NULL, gets change_seq + 1 and data_changed_at = now(): it is
-- stale until a refresh that started after this commit (crm_private.refresh_read_model reads
-- change_seq before it refreshes). Called by crm360's own functions (reconciliation, merges)
-- as crm_owner; parallel reconciliation runs (crm.reconcile_plan) lock these few rows in key
-- order, so they wait for each other and never deadlock. EXECUTE for nobody else. Returns the
-- read models marked.
CREATE OR REPLACE FUNCTION crm_private.mark_read_models_changed(p_inputs text[])
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    -- rows locked in key order first: reconciliation runs in parallel (crm.reconcile_plan) mark
    -- overlapping read models and wait for each other, never deadlock
    WITH l AS (
        SELECT r.read_model FROM crm_private.read_models r
         WHERE p_inputs IS NULL OR r.inputs IS NULL OR r.inputs && p_inputs
         ORDER BY r.read_model
           FOR NO KEY UPDATE
    ), m AS (
        UPDATE crm_private.read_models r
           SET change_seq = r.change_seq + 1, data_changed_at = now()
          FROM l
         WHERE r.read_model = l.read_model
        RETURNING 1
    )
    SELECT count(*)::integer FROM m
$$;

COMMENT ON FUNCTION crm_private.mark_read_models_changed(text[]) IS
    'Marks the read models fed by the given source objects (NULL: all) as changed (stale until refreshed). Internal.';
