-- crm_private.read_model_status() — the state of each materialized read model, now.
-- Guarantees: one row per registered read model (crm_private.read_models): its public view,
-- the materialized view behind it, as_of (when its last refresh started; NULL = never
-- refreshed), the last refresh's duration, when reconciliation last applied data it reads, and
-- stale = data it reads was applied after its last refresh started (or it was never
-- refreshed). Metadata only (no account data): SECURITY DEFINER so every crm role can read it
-- through crm.read_models without access to crm_private; EXECUTE for crm_reader.
CREATE OR REPLACE FUNCTION crm_private.read_model_status()
RETURNS TABLE (read_model text, materialized_view text, as_of timestamptz, refresh_duration_ms numeric,
               data_changed_at timestamptz, stale boolean, inputs text[])
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT m.public_view, m.read_model, v.refreshed_at, v.duration_ms, m.data_changed_at,
           v.refreshed_at IS NULL OR m.change_seq > v.refreshed_seq,
           m.inputs
      FROM crm_private.read_models m
      LEFT JOIN crm_private.view_refreshes v ON v.view_name = m.read_model
     ORDER BY m.refresh_order, m.read_model
$$;

COMMENT ON FUNCTION crm_private.read_model_status() IS
    'State of each materialized read model now (as_of, stale). Read it through crm.read_models.';
