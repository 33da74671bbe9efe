-- crm.source_freshness — connector health per source object, now (seed 000 "Deployment",
-- "Stale data feeling fresh"). A security_invoker view over the SECURITY DEFINER function
-- crm_private.source_freshness_at (readers have no access to crm_raw); the last error text is
-- shown only to sessions logged in as admins or connectors (it may quote source data).
CREATE OR REPLACE VIEW crm.source_freshness
WITH (security_invoker = true) AS
SELECT f.source, f.object, f.freshness_group, f.status, f.overdue,
       f.last_success_at, f.last_attempt_at, f.last_run_status,
       f.last_error,
       f.rows_received, f.rows_applied, f.rows_rejected,
       f.expected_interval,
       f.expected_interval * 1.5 AS overdue_after,
       rm.read_models_as_of,
       coalesce(rm.read_models_stale, false) AS read_models_stale
  FROM crm_private.source_freshness_at(now(), current_user) f
  LEFT JOIN LATERAL (
      SELECT min(r.as_of) AS read_models_as_of, bool_or(r.stale) AS read_models_stale
        FROM crm_private.read_model_status() r
       WHERE r.inputs IS NULL OR (f.source || '/' || f.object) = ANY (r.inputs)
  ) rm ON true;

COMMENT ON VIEW crm.source_freshness IS
    'Connector health per source and object, now: last sync, last attempt, status (fresh|partial|stale|failed|never), overdue flag (a scheduled connector that silently stopped is overdue), last error, row counts of the last finished run, expected schedule, and whether the read models fed by it are older than the data applied (read_models_stale). From crm_raw.sync_runs, crm_raw.source_schedules and crm.read_models.';
COMMENT ON COLUMN crm.source_freshness.source IS 'Source system: salesforce, zendesk, clm, stripe';
COMMENT ON COLUMN crm.source_freshness.object IS 'Source object (Account, tickets, contracts, invoices, ...)';
COMMENT ON COLUMN crm.source_freshness.freshness_group IS 'crm (salesforce), tickets (zendesk), clm, billing (stripe)';
COMMENT ON COLUMN crm.source_freshness.status IS 'failed: the latest finished run failed; never: no run ever synced (succeeded or partial); stale: overdue; partial: the latest finished run applied its good rows and rejected some (rows_rejected); fresh: otherwise';
COMMENT ON COLUMN crm.source_freshness.overdue IS 'true when a schedule exists and the last sync is older than overdue_after (or there never was one)';
COMMENT ON COLUMN crm.source_freshness.last_success_at IS 'finished_at of the latest sync: a succeeded or partial run (a partial run applied its good rows; failed runs do not count)';
COMMENT ON COLUMN crm.source_freshness.last_attempt_at IS 'started_at of the latest run, whatever its outcome';
COMMENT ON COLUMN crm.source_freshness.last_run_status IS 'Status of the latest run: running, succeeded, failed, partial';
COMMENT ON COLUMN crm.source_freshness.last_error IS 'Error of the latest finished run (sessions logged in as admin or connector only; NULL for others)';
COMMENT ON COLUMN crm.source_freshness.rows_received IS 'Rows received by the latest finished run';
COMMENT ON COLUMN crm.source_freshness.rows_applied IS 'Rows applied by the latest finished run';
COMMENT ON COLUMN crm.source_freshness.rows_rejected IS 'Rows rejected by the latest finished run';
COMMENT ON COLUMN crm.source_freshness.expected_interval IS 'Expected time between syncs (crm_raw.source_schedules); NULL = unscheduled';
COMMENT ON COLUMN crm.source_freshness.overdue_after IS 'expected_interval x 1.5: the tolerance after which the source is stale';
COMMENT ON COLUMN crm.source_freshness.read_models_as_of IS 'The oldest as_of among the read models this source object feeds (crm.read_models)';
COMMENT ON COLUMN crm.source_freshness.read_models_stale IS 'true when a read model this source object feeds is older than the data reconciliation applied (refresh: crm.refresh_read_models())';
