-- crm.daily_digest(p_day) — what each account team should know about its data today (seed 000
-- "Deployment": connector failures alert the account team, not just the platform team;
-- "identity drift is the #1 operational pain").
-- Guarantees:
-- * One entry per team that restricts at least one live account the caller can see
--   (SECURITY INVOKER: row-level security applies), sorted by team name, with:
--   connector_failures — failed sync runs started on p_day, grouped by source/object, for the
--     sources the team's accounts have data from (the account itself or a child via owned_by
--     comes from that source; salesforce concerns every account);
--   stale_sources — source objects not fresh at the end of p_day (or now, for today): status
--     failed or stale, or overdue (a scheduled connector that silently stopped);
--   new_orphans / new_identity_mismatches / new_duplicate_candidates — rows of crm.orphans,
--     crm.identity_mismatches, crm.duplicate_candidates detected on p_day for the team's
--     accounts, with up to 20 items (kind, account, source, detected_at, evidence).
-- * unassigned: the same data-quality items with no account or an account without a team.
-- * platform: every failure of the day and every unhealthy source, whoever it affects.
-- * p_day is a calendar day in the session time zone; NULL → 22023; a future day → 22023.
CREATE OR REPLACE FUNCTION crm.daily_digest(p_day date DEFAULT current_date)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_from   timestamptz;
    v_to     timestamptz;
    v_at     timestamptz;
    v_result jsonb;
BEGIN
    IF p_day IS NULL OR p_day > current_date THEN
        RAISE EXCEPTION 'p_day must be a day up to today, got %', coalesce(p_day::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    v_from := p_day::timestamptz;
    v_to := (p_day + 1)::timestamptz;
    v_at := least(now(), v_to);

    WITH fresh AS (
        SELECT * FROM crm_private.source_freshness_at(v_at, current_user)
    ), failures AS (
        SELECT r.source, r.object, count(*) AS runs, max(r.started_at) AS last_failed_at,
               (array_agg(r.error ORDER BY r.started_at DESC))[1] AS error
          FROM crm_private.sync_runs_between(v_from, v_to, current_user) r
         WHERE r.status = 'failed'
         GROUP BY r.source, r.object
    ), unhealthy AS (
        SELECT f.source, f.object, f.status, f.overdue, f.last_success_at, f.expected_interval
          FROM fresh f
         WHERE f.status IN ('failed', 'stale') OR f.overdue
    ), troubled AS (
        SELECT source FROM failures UNION SELECT source FROM unhealthy
    ), team_accounts AS (
        SELECT t.id AS team_id, t.label AS team, a.id AS account_id, a.external_source
          FROM crm.nodes a
          JOIN crm.nodes t ON t.id = ANY (a.restricted_to) AND t.node_type = 'team'
         WHERE a.node_type = 'org' AND a.archived_at IS NULL
    ), affected AS (
        SELECT ta.team_id, s.source, count(*) AS accounts
          FROM team_accounts ta
          CROSS JOIN troubled s
         WHERE s.source = 'salesforce' OR ta.external_source = s.source
            OR EXISTS (SELECT 1 FROM crm.edges e JOIN crm.nodes c ON c.id = e.source_id
                        WHERE e.target_id = ta.account_id AND e.edge_type = 'owned_by' AND e.effective_to IS NULL
                          AND e.archived_at IS NULL AND c.external_source = s.source)
         GROUP BY ta.team_id, s.source
    ), dq AS (
        SELECT q.kind, q.account_id, q.detected_at, q.source, q.evidence
          FROM crm_private.quality_items(v_from, v_to, current_user) q
    ), dq_items AS (
        SELECT dq.*, ta.team_id, a.label AS account
          FROM dq
          LEFT JOIN crm.nodes a ON a.id = dq.account_id
          LEFT JOIN team_accounts ta ON ta.account_id = dq.account_id
    ), teams AS (
        SELECT ta.team_id, ta.team, count(*) AS accounts FROM team_accounts ta GROUP BY ta.team_id, ta.team
    )
    SELECT jsonb_build_object(
        'day', p_day,
        'generated_at', now(),
        'as_of', v_at,
        'teams', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                'team', tm.team, 'team_id', tm.team_id, 'accounts', tm.accounts,
                'connector_failures', coalesce((
                    SELECT jsonb_agg(jsonb_build_object('source', f.source, 'object', f.object, 'runs', f.runs,
                                                        'last_failed_at', f.last_failed_at, 'error', f.error,
                                                        'accounts_affected', af.accounts)
                                     ORDER BY f.source, f.object)
                      FROM failures f JOIN affected af ON af.source = f.source AND af.team_id = tm.team_id), '[]'::jsonb),
                'stale_sources', coalesce((
                    SELECT jsonb_agg(jsonb_build_object('source', u.source, 'object', u.object, 'status', u.status,
                                                        'overdue', u.overdue, 'last_success_at', u.last_success_at,
                                                        'expected_interval', u.expected_interval::text,
                                                        'accounts_affected', af.accounts)
                                     ORDER BY u.source, u.object)
                      FROM unhealthy u JOIN affected af ON af.source = u.source AND af.team_id = tm.team_id), '[]'::jsonb),
                'new_orphans', (SELECT count(*) FROM dq_items d WHERE d.team_id = tm.team_id AND d.kind = 'orphan'),
                'new_identity_mismatches', (SELECT count(*) FROM dq_items d WHERE d.team_id = tm.team_id AND d.kind = 'identity_mismatch'),
                'new_duplicate_candidates', (SELECT count(*) FROM dq_items d WHERE d.team_id = tm.team_id AND d.kind = 'duplicate_candidate'),
                'items', coalesce((
                    SELECT jsonb_agg(jsonb_build_object('kind', d.kind, 'account_id', d.account_id, 'account', d.account,
                                                        'source', d.source, 'detected_at', d.detected_at,
                                                        'evidence', d.evidence) ORDER BY d.detected_at, d.kind)
                      FROM (SELECT * FROM dq_items d0 WHERE d0.team_id = tm.team_id
                             ORDER BY d0.detected_at, d0.kind LIMIT 20) d), '[]'::jsonb))
                ORDER BY tm.team)
              FROM teams tm), '[]'::jsonb),
        'unassigned', jsonb_build_object(
            'new_orphans', (SELECT count(*) FROM dq_items d WHERE d.team_id IS NULL AND d.kind = 'orphan'),
            'new_identity_mismatches', (SELECT count(*) FROM dq_items d WHERE d.team_id IS NULL AND d.kind = 'identity_mismatch'),
            'new_duplicate_candidates', (SELECT count(*) FROM dq_items d WHERE d.team_id IS NULL AND d.kind = 'duplicate_candidate'),
            'items', coalesce((
                SELECT jsonb_agg(jsonb_build_object('kind', d.kind, 'account_id', d.account_id, 'account', d.account,
                                                    'source', d.source, 'detected_at', d.detected_at,
                                                    'evidence', d.evidence) ORDER BY d.detected_at, d.kind)
                  FROM (SELECT * FROM dq_items d0 WHERE d0.team_id IS NULL
                         ORDER BY d0.detected_at, d0.kind LIMIT 20) d), '[]'::jsonb)),
        'platform', jsonb_build_object(
            'connector_failures', coalesce((
                SELECT jsonb_agg(jsonb_build_object('source', f.source, 'object', f.object, 'runs', f.runs,
                                                    'last_failed_at', f.last_failed_at, 'error', f.error)
                                 ORDER BY f.source, f.object) FROM failures f), '[]'::jsonb),
            'stale_sources', coalesce((
                SELECT jsonb_agg(jsonb_build_object('source', u.source, 'object', u.object, 'status', u.status,
                                                    'overdue', u.overdue, 'last_success_at', u.last_success_at,
                                                    'expected_interval', u.expected_interval::text)
                                 ORDER BY u.source, u.object) FROM unhealthy u), '[]'::jsonb)))
      INTO v_result;
    RETURN v_result;
END;
$$;

COMMENT ON FUNCTION crm.daily_digest(date) IS
$c$The daily data digest per account team (seed 000 "Deployment"): for each team restricting accounts the caller can see, the connector failures of the day and the unhealthy (failed/stale/overdue) sources affecting its accounts, and the orphans, identity mismatches and duplicate candidates detected that day for its accounts (counts + up to 20 items); plus unassigned data-quality items and a platform section with every failure and unhealthy source. `crm360 digest` prints it or posts it to a Slack-compatible webhook. Errors: 22023 NULL or future day. Example: SELECT crm.daily_digest(current_date - 1);$c$;
