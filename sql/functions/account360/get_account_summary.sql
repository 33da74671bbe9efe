-- crm.get_account_summary(p_account_id) — "what's open with Acme right now?" in one call
-- (seed 000 AI tool GetAccountSummary; DESIGN §5).
-- Guarantees:
-- * SECURITY INVOKER: reads the LIVE tables as the caller, so row-level security applies to
--   the account and to every child; an account the caller cannot see raises P0002 exactly
--   like an id that does not exist (no leak of existence); sensitive deal values are NULL
--   without a deal_value grant (the assertions policy hides them).
-- * Touches only the account's subgraph: children through owned_by edges targeting the account
--   (index edges_target), their current assertions (assertions_current_node), the account's
--   events through event_participants (node index); cost follows the account, not the database.
-- * Definitions are those of crm.accounts_360 (open tickets, active opportunities, ARR,
--   open/overdue invoices, last touch = meeting/phone_call/email in the past).
-- * sources: one entry per freshness group (crm, tickets, clm, billing) from
--   crm.source_freshness: last_synced_at = the oldest last success among the group's objects,
--   status = the worst of them (failed > stale > never > partial > fresh; never when nothing is
--   known); read_models_stale = a read model they feed is older than the data applied.
-- * data_quality: live counts of crm.orphans, crm.identity_mismatches, crm.duplicate_candidates
--   rows naming the account (by account_id), as the caller; NULL counts + "unavailable" when
--   the caller may not read those relations.
CREATE OR REPLACE FUNCTION crm.get_account_summary(p_account_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id      uuid := crm_private.resolve_account_id(p_account_id);
    v_today   date := current_date;
    v_account jsonb;
    v_tickets jsonb;
    v_opps    jsonb;
    v_arr     jsonb;
    v_inv     jsonb;
    v_touch   jsonb;
    v_sources jsonb;
    v_quality jsonb;
BEGIN
    SELECT jsonb_build_object(
               'id', a.id, 'crm_id', CASE WHEN a.external_source = 'salesforce' THEN a.external_id END,
               'name', coalesce(a.properties ->> 'name', a.label), 'domain', a.properties ->> 'domain',
               'owner', coalesce(ow.owner_name, clm.label),
               'owner_email', CASE WHEN ow.owner_name IS NOT NULL THEN ow.owner_email ELSE clm.properties ->> 'email' END,
               'team', (SELECT string_agg(t.label, ', ' ORDER BY t.label) FROM crm.nodes t
                         WHERE t.id = ANY (a.restricted_to) AND t.node_type = 'team'),
               'archived_at', a.archived_at,
               'merged_from', CASE WHEN a.id <> p_account_id THEN p_account_id END)
      INTO v_account
      FROM crm.nodes a
      -- the owner as crm_private.accounts_360_facts defines it: the CRM owner, else the claimer
      LEFT JOIN LATERAL (
          SELECT u.label AS owner_name, u.properties ->> 'email' AS owner_email
            FROM crm.edges e
            JOIN crm.nodes u ON u.id = e.target_id AND u.node_type = 'user'
           WHERE e.source_id = a.id AND e.edge_type = 'assigned_to' AND e.archived_at IS NULL
             AND e.effective_to IS NULL AND e.properties ->> 'role' = 'owner'
           ORDER BY e.effective_from DESC NULLS LAST, e.id
           LIMIT 1) ow ON true
      LEFT JOIN crm.nodes clm ON clm.id = a.claimed_by AND ow.owner_name IS NULL
     WHERE a.id = v_id;

    -- the account's children and their current state: ONE statement (row-level security
    -- computes the caller's principals once per statement and table, not once per section)
    WITH kids AS MATERIALIZED (
        SELECT c.id, c.node_type, c.label, c.properties, c.created_at
          FROM crm.edges e
          JOIN crm.nodes c ON c.id = e.source_id
         WHERE e.target_id = v_id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL AND e.effective_to IS NULL
           AND c.node_type IN ('ticket', 'opportunity', 'contract', 'invoice') AND c.archived_at IS NULL
    ), cur AS MATERIALIZED (
        SELECT a.subject_node_id, a.assertion_type, a.claim
          FROM crm.assertions a
         WHERE a.subject_node_id IN (SELECT kids.id FROM kids)
           AND a.assertion_type IN ('ticket_status', 'deal_stage', 'deal_value', 'win_probability',
                                    'contract_status', 'invoice_status')
           AND a.assertion_key = '' AND a.superseded_at IS NULL
    ), t AS (            -- open tickets
        SELECT c.id, c.label AS subject, s.claim ->> 'status' AS status,
               lower(coalesce(s.claim ->> 'priority', c.properties ->> 'priority')) AS priority,
               CASE WHEN pg_input_is_valid(c.properties ->> 'opened_at', 'timestamptz')
                    THEN (c.properties ->> 'opened_at')::timestamptz ELSE c.created_at END AS opened_at
          FROM kids c
          JOIN cur s ON s.subject_node_id = c.id AND s.assertion_type = 'ticket_status'
         WHERE c.node_type = 'ticket'
           AND s.claim ->> 'status' IN ('new', 'open', 'pending', 'hold')
    ), o AS (            -- active opportunities
        SELECT c.id, coalesce(c.properties ->> 'name', c.label) AS name, s.claim ->> 'stage' AS stage,
               (v.claim ->> 'amount')::numeric AS amount, v.claim ->> 'currency' AS currency,
               (w.claim ->> 'probability')::numeric AS probability,
               CASE WHEN pg_input_is_valid(c.properties ->> 'close_date', 'date')
                    THEN (c.properties ->> 'close_date')::date END AS close_date
          FROM kids c
          LEFT JOIN cur s ON s.subject_node_id = c.id AND s.assertion_type = 'deal_stage'
          LEFT JOIN cur v ON v.subject_node_id = c.id AND v.assertion_type = 'deal_value'
          LEFT JOIN cur w ON w.subject_node_id = c.id AND w.assertion_type = 'win_probability'
         WHERE c.node_type = 'opportunity'
           AND coalesce(c.properties ->> 'is_closed', 'false') NOT IN ('true', '1')
           AND NOT (coalesce(lower(s.claim ->> 'stage'), '') LIKE 'closed%'
                    OR coalesce(s.claim ->> 'stage', '') = 'dead')
    ), k AS (            -- active-status contracts
        SELECT c.id, coalesce(c.properties ->> 'title', c.label) AS title,
               coalesce((s.claim ->> 'annual_value')::numeric,
                        CASE WHEN pg_input_is_valid(c.properties ->> 'annual_value', 'numeric')
                             THEN (c.properties ->> 'annual_value')::numeric END) AS annual_value,
               d.effective_date, d.end_date,
               (d.effective_date IS NULL OR d.effective_date <= v_today)
               AND (d.end_date IS NULL OR d.end_date >= v_today) AS in_term
          FROM kids c
          JOIN cur s ON s.subject_node_id = c.id AND s.assertion_type = 'contract_status'
          CROSS JOIN LATERAL (
              SELECT CASE WHEN pg_input_is_valid(c.properties ->> 'effective_date', 'date')
                          THEN (c.properties ->> 'effective_date')::date END AS effective_date,
                     CASE WHEN pg_input_is_valid(c.properties ->> 'end_date', 'date')
                          THEN (c.properties ->> 'end_date')::date END AS end_date) d
         WHERE c.node_type = 'contract' AND s.claim ->> 'status' = 'active'
    ), i AS (            -- open invoices
        SELECT c.id, coalesce(c.properties ->> 'number', c.label) AS number, c.properties ->> 'currency' AS currency,
               coalesce((s.claim ->> 'amount_remaining')::numeric,
                        CASE WHEN pg_input_is_valid(c.properties ->> 'amount_remaining', 'numeric')
                             THEN (c.properties ->> 'amount_remaining')::numeric END, 0) AS remaining,
               CASE WHEN pg_input_is_valid(c.properties ->> 'due_date', 'date')
                    THEN (c.properties ->> 'due_date')::date END AS due_date,
               crm_private.invoice_due_at(c.properties) AS due_at
          FROM kids c
          JOIN cur s ON s.subject_node_id = c.id AND s.assertion_type = 'invoice_status'
         WHERE c.node_type = 'invoice' AND s.claim ->> 'status' = 'open'
    )
    SELECT
        (SELECT jsonb_build_object(
               'count', count(*),
               'high_priority', count(*) FILTER (WHERE t.priority IN ('high', 'urgent')),
               'oldest_open_age_days', round((extract(epoch FROM now() - min(t.opened_at)) / 86400)::numeric, 1),
               'most_urgent', coalesce((
                   SELECT jsonb_agg(jsonb_build_object(
                              'id', u.id, 'subject', u.subject, 'status', u.status, 'priority', u.priority,
                              'opened_at', u.opened_at,
                              'age_days', round((extract(epoch FROM now() - u.opened_at) / 86400)::numeric, 1))
                          ORDER BY u.rank DESC, u.opened_at, u.id)
                     FROM (SELECT t2.*, CASE t2.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3
                                          WHEN 'normal' THEN 2 WHEN 'low' THEN 1 ELSE 0 END AS rank
                             FROM t t2 ORDER BY rank DESC, t2.opened_at, t2.id LIMIT 5) u), '[]'::jsonb))
           FROM t),
        (SELECT jsonb_build_object(
               'count', count(*),
               -- 0 without active deals; NULL only when the caller may not read deal values
               'pipeline_value', CASE WHEN crm_private.actor_can_read_assertion_type('deal_value')
                                      THEN round(coalesce(sum(o.amount), 0), 2) END,
               'weighted_value', CASE WHEN crm_private.actor_can_read_assertion_type('deal_value')
                                      THEN round(coalesce(sum(o.amount * o.probability), 0), 2) END,
               'items', coalesce(jsonb_agg(jsonb_build_object(
                            'id', o.id, 'name', o.name, 'stage', o.stage, 'value', o.amount,
                            'currency', o.currency, 'probability', o.probability, 'close_date', o.close_date)
                        ORDER BY o.close_date NULLS LAST, o.name, o.id), '[]'::jsonb))
           FROM o),
        (SELECT jsonb_build_object(
               'amount', round(coalesce(sum(k.annual_value) FILTER (WHERE k.in_term), 0), 2),
               'active_contracts', count(*) FILTER (WHERE k.in_term),
               'next_renewal_date', min(k.end_date) FILTER (WHERE k.end_date >= v_today),
               'definition', 'sum of annual_value of contracts with status active and effective_date <= today <= end_date',
               'contracts', coalesce(jsonb_agg(jsonb_build_object(
                                'id', k.id, 'title', k.title, 'annual_value', k.annual_value,
                                'effective_date', k.effective_date, 'end_date', k.end_date, 'in_term', k.in_term)
                            ORDER BY k.end_date NULLS LAST, k.title), '[]'::jsonb))
           FROM k),
        (SELECT jsonb_build_object(
               'open_count', count(*),
               'open_amount', round(coalesce(sum(i.remaining), 0), 2),
               'overdue_count', count(*) FILTER (WHERE i.due_at <= now()),
               'overdue_amount', round(coalesce(sum(i.remaining) FILTER (WHERE i.due_at <= now()), 0), 2),
               'items', coalesce(jsonb_agg(jsonb_build_object(
                            'id', i.id, 'number', i.number, 'amount_remaining', i.remaining,
                            'currency', i.currency, 'due_date', i.due_date, 'due_at', i.due_at,
                            'overdue', coalesce(i.due_at <= now(), false),
                            -- calendar days (UTC) past the due date
                            'days_overdue', CASE WHEN i.due_at <= now()
                                                 THEN (now() AT TIME ZONE 'UTC')::date
                                                      - coalesce(i.due_date, (i.due_at AT TIME ZONE 'UTC')::date) END)
                        ORDER BY i.due_date NULLS LAST, i.number), '[]'::jsonb))
           FROM i)
      INTO v_tickets, v_opps, v_arr, v_inv;

    -- last touch: the latest meeting, call or email in the past
    SELECT jsonb_build_object(
               'at', x.occurred_at, 'type', x.event_type,
               'days_since', round((extract(epoch FROM now() - x.occurred_at) / 86400)::numeric, 1))
      INTO v_touch
      FROM (SELECT ev.occurred_at, ev.event_type
              FROM crm.event_participants p
              JOIN crm.events ev ON ev.id = p.event_id
             WHERE p.node_id = v_id
               AND ev.event_type IN ('meeting', 'phone_call', 'email')
               AND ev.occurred_at <= now()
             ORDER BY ev.occurred_at DESC LIMIT 1) x;

    -- per source: last synced and status
    SELECT jsonb_agg(jsonb_build_object(
               'group', g.grp, 'source', g.src,
               'last_synced_at', f.last_synced_at, 'last_attempt_at', f.last_attempt_at,
               'status', coalesce(f.status, 'never'), 'overdue', coalesce(f.overdue, false),
               'read_models_stale', coalesce(f.read_models_stale, false))
           ORDER BY g.ord)
      INTO v_sources
      FROM (VALUES ('crm', 'salesforce', 1), ('tickets', 'zendesk', 2), ('clm', 'clm', 3),
                   ('billing', 'stripe', 4)) AS g (grp, src, ord)
      LEFT JOIN LATERAL (
          SELECT min(sf.last_success_at) AS last_synced_at, max(sf.last_attempt_at) AS last_attempt_at,
                 bool_or(sf.overdue) AS overdue, bool_or(sf.read_models_stale) AS read_models_stale,
                 (ARRAY['fresh', 'partial', 'never', 'stale', 'failed'])[
                     max(CASE sf.status WHEN 'failed' THEN 5 WHEN 'stale' THEN 4 WHEN 'never' THEN 3
                                        WHEN 'partial' THEN 2 ELSE 1 END)]
                     AS status
            FROM crm.source_freshness sf WHERE sf.freshness_group = g.grp) f ON true;

    -- data quality: the snapshot taken by crm.refresh_account_views (the issue views scan whole
    -- tables; the summary touches only the account), with its time
    SELECT jsonb_build_object('orphans', coalesce(max(q.orphans), 0),
                              'identity_mismatches', coalesce(max(q.identity_mismatches), 0),
                              'duplicate_candidates', coalesce(max(q.duplicate_candidates), 0),
                              'as_of', max(q.computed_at))
      INTO v_quality
      FROM crm_private.account_quality_of(v_id, current_user) q;

    RETURN jsonb_build_object(
        'account', v_account,
        'open_tickets', v_tickets,
        'active_opportunities', v_opps,
        'arr', v_arr,
        'invoices', v_inv,
        'last_touch', coalesce(v_touch, jsonb_build_object('at', NULL, 'type', NULL, 'days_since', NULL)),
        'sources', v_sources,
        'data_quality', v_quality,
        'as_of', now());
END;
$$;

COMMENT ON FUNCTION crm.get_account_summary(uuid) IS
$c$The high-level picture of one account across CRM, ticketing, contracts and billing (seed 000 GetAccountSummary), read live as the caller: account (name, domain, owner, owner_email, team), open_tickets (count, high_priority, oldest_open_age_days, the 5 most urgent with subject/status/priority/age), active_opportunities (count, pipeline_value, weighted_value, items with stage/value/close_date; pipeline 0 without active deals, values NULL without a deal_value grant), arr (amount, active_contracts, next_renewal_date, definition, contracts: the active-status contracts with in_term), invoices (open/overdue counts and amounts, items; overdue once the due moment due_at has passed), last_touch (meeting/call/email: at, type, days_since), sources (per crm/tickets/clm/billing: last_synced_at, status fresh|partial|stale|failed|never, read_models_stale), data_quality (live counts of orphans, identity mismatches, duplicate candidates). Touches only the account's subgraph. An id merged away resolves to the kept account (account.merged_from). Errors: 22023 NULL id; P0002 not an account, not found or not visible (the same error). Example: SELECT crm.get_account_summary('6f1c...'::uuid);$c$;
