-- crm_private.reconcile_zendesk_ticket() — mapping of zendesk tickets records (docs/graph_contract.md).
-- Guarantees: one ticket node per ticket id, owned by the account of its organization (else
-- of its requester), filed by its requester; ticket_status {status, priority} as assertions
-- (ticket_opened — dated at the ticket's created_at — / ticket_status_changed /
-- ticket_solved events); status deleted archives.
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_zendesk_ticket()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country, event_times)
    SELECT r.id, 'zendesk', 'tickets', r.external_id, 'child', r.source_updated_at,
           nullif(concat_ws('; ', CASE WHEN nullif(btrim(r.p ->> 'status'), '') IS NOT NULL AND lower(nullif(btrim(r.p ->> 'status'), '')) NOT IN ('new', 'open', 'pending', 'hold', 'solved', 'closed', 'deleted') THEN format('unknown status %s', r.p ->> 'status') END, CASE WHEN nullif(btrim(r.p ->> 'priority'), '') IS NOT NULL AND lower(nullif(btrim(r.p ->> 'priority'), '')) NOT IN ('low', 'normal', 'high', 'urgent') THEN format('unknown priority %s', r.p ->> 'priority') END, crm_private.rc_check('tags', r.p -> 'tags', 'array'), crm_private.rc_check('created_at', r.p -> 'created_at', 'timestamptz'), crm_private.rc_check('updated_at', r.p -> 'updated_at', 'timestamptz'), crm_private.rc_check('requester_id', r.p -> 'requester_id', 'integer'), crm_private.rc_check('organization_id', r.p -> 'organization_id', 'integer'), crm_private.rc_check('subject', r.p -> 'subject', 'string')), ''),
           'ticket', 'zendesk', r.external_id,
           coalesce(nullif(btrim(r.p ->> 'subject'), ''), left(nullif(btrim(r.p ->> 'description'), ''), 80), 'Ticket #' || r.external_id),
           jsonb_build_object('subject', coalesce(nullif(btrim(r.p ->> 'subject'), ''), left(nullif(btrim(r.p ->> 'description'), ''), 80), 'Ticket #' || r.external_id),
                              'description', nullif(btrim(r.p ->> 'description'), ''), 'priority', lower(nullif(btrim(r.p ->> 'priority'), '')), 'ticket_type', nullif(btrim(r.p ->> 'type'), ''),
                              'tags', CASE WHEN jsonb_typeof(r.p -> 'tags') = 'array' THEN r.p -> 'tags' END,
                              'opened_at', to_char(crm_private.rc_ts(r.p -> 'created_at') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
           lower(nullif(btrim(r.p ->> 'status'), '')) = 'deleted',
           NULL,
           CASE WHEN nullif(btrim(r.p ->> 'organization_id'), '') IS NOT NULL THEN ARRAY['zendesk', 'organizations', nullif(btrim(r.p ->> 'organization_id'), '')]
                WHEN nullif(btrim(r.p ->> 'requester_id'), '') IS NOT NULL THEN ARRAY['zendesk', 'users', nullif(btrim(r.p ->> 'requester_id'), '')] END,
           NULL, NULL, NULL,
           jsonb_strip_nulls(jsonb_build_object('requester', CASE WHEN nullif(btrim(r.p ->> 'requester_id'), '') IS NOT NULL THEN jsonb_build_array('zendesk', 'users', nullif(btrim(r.p ->> 'requester_id'), '')) END)),
           CASE WHEN lower(nullif(btrim(r.p ->> 'status'), '')) <> 'deleted' THEN jsonb_build_object('ticket_status',
                jsonb_strip_nulls(jsonb_build_object('status', lower(nullif(btrim(r.p ->> 'status'), '')), 'priority', lower(nullif(btrim(r.p ->> 'priority'), ''))))) ELSE '{}' END,
           NULL, nullif(btrim(r.p ->> 'description'), ''), 'ticket_body', NULL, NULL,
           jsonb_strip_nulls(jsonb_build_object('ticket_opened', crm_private.rc_ts(r.p -> 'created_at')))
      FROM crm_private.rc_pending('zendesk', 'tickets') r;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_zendesk_ticket() IS
    'Reconciliation mapping of zendesk tickets: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
