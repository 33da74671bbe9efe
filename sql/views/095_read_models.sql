-- crm.read_models — is each materialized read model fresh? (issue 12: "read models are never
-- silently stale"). A security_invoker view over the SECURITY DEFINER function
-- crm_private.read_model_status (metadata only: no account data).
CREATE OR REPLACE VIEW crm.read_models
WITH (security_invoker = true) AS
SELECT s.read_model, s.materialized_view, s.as_of, s.refresh_duration_ms, s.data_changed_at, s.stale,
       CASE WHEN s.stale AND s.as_of IS NOT NULL AND s.data_changed_at IS NOT NULL
            THEN s.data_changed_at - s.as_of END AS behind_by,
       coalesce(array_to_string(s.inputs, ', '), 'every source object') AS inputs
  FROM crm_private.read_model_status() s;

COMMENT ON VIEW crm.read_models IS
    'The materialized read models (crm.accounts_360, crm.opportunities_active, crm.contacts_directory): as of when, and whether reconciliation applied data they read since (stale). Refresh with crm.refresh_read_models() or `crm360 refresh`; ingestion through the CLI refreshes them itself.';
COMMENT ON COLUMN crm.read_models.read_model IS 'The view users read (schema-qualified)';
COMMENT ON COLUMN crm.read_models.materialized_view IS 'The materialized view behind it';
COMMENT ON COLUMN crm.read_models.as_of IS 'When its last refresh started: what it shows is as of this moment (NULL = never refreshed)';
COMMENT ON COLUMN crm.read_models.refresh_duration_ms IS 'How long the last refresh took (milliseconds)';
COMMENT ON COLUMN crm.read_models.data_changed_at IS 'When reconciliation last applied data this read model reads';
COMMENT ON COLUMN crm.read_models.stale IS 'true when data it reads was applied after its last refresh started, or it was never refreshed';
COMMENT ON COLUMN crm.read_models.behind_by IS 'For a stale read model: how much newer the applied data is than its as_of';
COMMENT ON COLUMN crm.read_models.inputs IS 'The source objects (source/object) whose reconciliation changes it, comma-separated';
