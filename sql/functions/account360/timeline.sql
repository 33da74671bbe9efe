-- crm.timeline(p_node_id, p_types, p_channels, p_from, p_to) — the activity of any node,
-- newest first (seed 002 "Timeline": filters event type, channel, date range).
-- Guarantees:
-- * SECURITY INVOKER: the node must be visible to the caller (P0002 otherwise, the same error
--   as a node that does not exist); only events visible to the caller are returned
--   (row-level security on events and participants); about_* is NULL when the node an event
--   is about is not visible.
-- * The events of a node are found through event_participants (node_id) — one index lookup;
--   every event about an account's child also has the account as participant (contract).
-- * channel: crm.event_types.channel, else the event group. Derived rows: for an org (its
--   open invoices) or an invoice, an open invoice past its due date is reported as
--   event_type invoice_overdue at the due moment (crm_private.invoice_due_at; event_id NULL, never stored).
-- * Filters: p_types (registered event types), p_channels (known channels), occurred_at in
--   [p_from, p_to]; NULL = no filter. Each event once (even with several roles). Audit events
--   (event groups access and system: restrictions, grants, archiving) are left out unless
--   asked for by type or channel.
CREATE OR REPLACE FUNCTION crm.timeline(
    p_node_id  uuid,
    p_types    text[] DEFAULT NULL,
    p_channels text[] DEFAULT NULL,
    p_from     timestamptz DEFAULT NULL,
    p_to       timestamptz DEFAULT NULL)
RETURNS TABLE (occurred_at timestamptz, source text, event_type text, channel text, summary text,
               about_node_id uuid, about_type text, about_label text, event_id uuid)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_node_type text;
    v_bad       text;
BEGIN
    IF p_node_id IS NULL THEN
        RAISE EXCEPTION 'node id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF p_from IS NOT NULL AND p_to IS NOT NULL AND p_from > p_to THEN
        RAISE EXCEPTION 'p_from (%) is after p_to (%)', p_from, p_to
            USING ERRCODE = '22023', HINT = 'pass p_from <= p_to, or NULL for an open end';
    END IF;
    SELECT string_agg(x, ', ') INTO v_bad
      FROM unnest(p_types) x WHERE x IS NULL OR NOT EXISTS (SELECT 1 FROM crm.event_types t WHERE t.event_type = x);
    IF v_bad IS NOT NULL OR (p_types IS NOT NULL AND array_position(p_types, NULL) IS NOT NULL) THEN
        RAISE EXCEPTION 'unknown event type(s): %', coalesce(v_bad, 'NULL')
            USING ERRCODE = '22023', HINT = 'see crm.event_types';
    END IF;
    SELECT string_agg(x, ', ') INTO v_bad
      FROM unnest(p_channels) x
     WHERE x IS NULL OR NOT EXISTS (SELECT 1 FROM crm.event_types t WHERE coalesce(t.channel, t.event_group) = x);
    IF v_bad IS NOT NULL OR (p_channels IS NOT NULL AND array_position(p_channels, NULL) IS NOT NULL) THEN
        RAISE EXCEPTION 'unknown channel(s): %', coalesce(v_bad, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'channels: ' || (SELECT string_agg(DISTINCT coalesce(t.channel, t.event_group), ', ')
                                            FROM crm.event_types t);
    END IF;
    SELECT n.node_type INTO v_node_type FROM crm.nodes n WHERE n.id = p_node_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % not found', p_node_id
            USING ERRCODE = 'P0002', HINT = 'the id is not a node you can see';
    END IF;

    RETURN QUERY
    SELECT ev.occurred_at,
           coalesce(ev.external_source, ev.actor_system, 'crm360'),
           ev.event_type,
           coalesce(t.channel, t.event_group),
           coalesce(ev.summary, initcap(replace(ev.event_type, '_', ' ')) || coalesce(': ' || ab.label, '')),
           ab.id, ab.node_type, ab.label, ev.id
      FROM crm.events ev
      JOIN crm.event_types t ON t.event_type = ev.event_type
      LEFT JOIN LATERAL (
          SELECT n.id, n.node_type, n.label
            FROM crm.event_participants sp
            JOIN crm.nodes n ON n.id = sp.node_id
           WHERE sp.event_id = ev.id
           ORDER BY CASE sp.role WHEN 'subject' THEN 0 WHEN 'account' THEN 2 ELSE 1 END,
                    (sp.node_id = p_node_id) DESC, n.id
           LIMIT 1) ab ON true
     WHERE ev.id IN (SELECT p.event_id FROM crm.event_participants p WHERE p.node_id = p_node_id)
       AND (p_types IS NULL OR ev.event_type = ANY (p_types))
       AND (p_channels IS NULL OR coalesce(t.channel, t.event_group) = ANY (p_channels))
       AND (t.event_group NOT IN ('access', 'system') OR p_types IS NOT NULL OR p_channels IS NOT NULL)
       AND (p_from IS NULL OR ev.occurred_at >= p_from)
       AND (p_to IS NULL OR ev.occurred_at <= p_to)
    UNION ALL
    SELECT x.at, coalesce(x.external_source, 'crm360'), 'invoice_overdue', 'billing',
           'Invoice ' || x.label || ' overdue: ' || to_char(x.remaining, 'FM999G999G999G990D00')
               || coalesce(' ' || x.currency, '') || ' due ' || to_char(x.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
           x.id, 'invoice', x.label, NULL::uuid
      FROM (SELECT c.id, c.label, c.external_source, c.properties ->> 'currency' AS currency,
                   d.due_at, d.due_at AS at,
                   coalesce((s.claim ->> 'amount_remaining')::numeric,
                            CASE WHEN pg_input_is_valid(c.properties ->> 'amount_remaining', 'numeric')
                                 THEN (c.properties ->> 'amount_remaining')::numeric END, 0) AS remaining
              FROM (SELECT e.source_id AS id FROM crm.edges e
                     WHERE v_node_type = 'org' AND e.target_id = p_node_id AND e.edge_type = 'owned_by'
                       AND e.archived_at IS NULL AND e.effective_to IS NULL
                    UNION ALL
                    SELECT p_node_id WHERE v_node_type = 'invoice') k
              JOIN crm.nodes c ON c.id = k.id
              JOIN crm.assertions s ON s.subject_node_id = c.id AND s.assertion_type = 'invoice_status'
                                   AND s.assertion_key = '' AND s.superseded_at IS NULL
              CROSS JOIN LATERAL (SELECT crm_private.invoice_due_at(c.properties) AS due_at) d
             WHERE c.node_type = 'invoice' AND c.archived_at IS NULL
               AND s.claim ->> 'status' = 'open'
               AND d.due_at <= now()) x
     WHERE (p_types IS NULL OR 'invoice_overdue' = ANY (p_types))
       AND (p_channels IS NULL OR 'billing' = ANY (p_channels))
       AND (p_from IS NULL OR x.at >= p_from)
       AND (p_to IS NULL OR x.at <= p_to)
     ORDER BY 1 DESC, 9 NULLS LAST;
END;
$$;

COMMENT ON FUNCTION crm.timeline(uuid, text[], text[], timestamptz, timestamptz) IS
$c$The activity of any node, newest first (seed 002 timeline): every visible event the node takes part in — meetings, calls, emails, notes, ticket/invoice/contract/opportunity events — with source, type, channel, summary and the node it is about (the subject participant), plus derived invoice_overdue rows for open invoices past due; audit events (access, system) only when asked for by type or channel. Filters: p_types (event types), p_channels (email, phone, meeting, note, ticket, billing, contract, deal, access, system, ...), p_from/p_to (inclusive). Errors: 22023 NULL node, p_from > p_to, unknown type or channel; P0002 node not found or not visible. Example: SELECT * FROM crm.timeline('6f1c...'::uuid, p_channels => ARRAY['email','meeting'], p_from => now() - interval '90 days');$c$;
