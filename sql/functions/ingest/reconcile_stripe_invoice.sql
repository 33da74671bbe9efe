-- crm_private.reconcile_stripe_invoice() — mapping of stripe invoices records (docs/graph_contract.md).
-- Guarantees: one invoice node per invoice number (amounts in major units, dates from unix
-- seconds: due_date is Stripe's due moment, kept as due_at — ISO 8601 UTC — and as its UTC
-- date due_date), owned by the account of metadata.salesforce_account_id, else of its customer,
-- else of a unique account with customer_email's domain, else orphan; invoice_status
-- {status, amount_remaining} as assertions (invoice_issued/paid/voided events, dated at
-- status_transitions.finalized_at/paid_at/voided_at when the export has them, issued else
-- at created; otherwise at the record's time); void
-- invoices and invoices missing from the latest full export are archived.
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_stripe_invoice()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country, event_times)
    SELECT r.id, 'stripe', 'invoices', r.external_id, 'child', r.source_updated_at,
           nullif(concat_ws('; ', CASE WHEN nullif(btrim(r.p ->> 'status'), '') IS NOT NULL AND lower(nullif(btrim(r.p ->> 'status'), '')) NOT IN ('draft', 'open', 'paid', 'uncollectible', 'void') THEN format('unknown status %s', r.p ->> 'status') END, CASE WHEN nullif(btrim(r.p ->> 'status'), '') IS NULL THEN 'missing status' END, crm_private.rc_check('amount_due', r.p -> 'amount_due', 'integer'), crm_private.rc_check('amount_paid', r.p -> 'amount_paid', 'integer'), crm_private.rc_check('amount_remaining', r.p -> 'amount_remaining', 'integer'), crm_private.rc_check('created', r.p -> 'created', 'unix'), crm_private.rc_check('due_date', r.p -> 'due_date', 'unix'), crm_private.rc_check('currency', r.p -> 'currency', 'string'), crm_private.rc_check('metadata', r.p -> 'metadata', 'object'), crm_private.rc_check('status_transitions', r.p -> 'status_transitions', 'object'), CASE WHEN jsonb_typeof(r.p -> 'customer') NOT IN ('string', 'object', 'null') THEN format('wrong JSON type in customer: %s', jsonb_typeof(r.p -> 'customer')) END), ''),
           'invoice', 'stripe', r.external_id, r.external_id,
           jsonb_build_object('number', r.external_id, 'stripe_id', nullif(btrim(r.p ->> 'id'), ''), 'currency', upper(nullif(btrim(r.p ->> 'currency'), '')),
                              'amount_due', crm_private.rc_num(r.p -> 'amount_due') / CASE WHEN lower(r.p ->> 'currency') IN ('bif','clp','djf','gnf','jpy','kmf','krw','mga','pyg','rwf','ugx','vnd','vuv','xaf','xof','xpf') THEN 1 ELSE 100 END,
                              'amount_paid', crm_private.rc_num(r.p -> 'amount_paid') / CASE WHEN lower(r.p ->> 'currency') IN ('bif','clp','djf','gnf','jpy','kmf','krw','mga','pyg','rwf','ugx','vnd','vuv','xaf','xof','xpf') THEN 1 ELSE 100 END,
                              'amount_remaining', crm_private.rc_num(r.p -> 'amount_remaining') / CASE WHEN lower(r.p ->> 'currency') IN ('bif','clp','djf','gnf','jpy','kmf','krw','mga','pyg','rwf','ugx','vnd','vuv','xaf','xof','xpf') THEN 1 ELSE 100 END,
                              'due_date', (crm_private.rc_ts(r.p -> 'due_date') AT TIME ZONE 'UTC')::date::text,
                              'due_at', to_char(crm_private.rc_ts(r.p -> 'due_date') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                              'issued_at', to_char(crm_private.rc_ts(r.p -> 'created') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
           lower(nullif(btrim(r.p ->> 'status'), '')) = 'void',
           CASE WHEN jsonb_typeof(r.p -> 'metadata') = 'object' THEN nullif(btrim(r.p -> 'metadata' ->> 'salesforce_account_id'), '') END,
           CASE WHEN coalesce(r.p -> 'customer' ->> 'id', nullif(btrim(r.p ->> 'customer'), '')) IS NOT NULL
                THEN ARRAY['stripe', 'customers', coalesce(r.p -> 'customer' ->> 'id', nullif(btrim(r.p ->> 'customer'), ''))] END,
           array_remove(ARRAY[crm_private.normalize_domain(CASE WHEN nullif(btrim(r.p ->> 'customer_email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'customer_email'), '')) END)], NULL),
           NULL, NULL, NULL,
           jsonb_build_object('invoice_status', jsonb_strip_nulls(jsonb_build_object(
               'status', lower(nullif(btrim(r.p ->> 'status'), '')), 'amount_remaining', crm_private.rc_num(r.p -> 'amount_remaining') / CASE WHEN lower(r.p ->> 'currency') IN ('bif','clp','djf','gnf','jpy','kmf','krw','mga','pyg','rwf','ugx','vnd','vuv','xaf','xof','xpf') THEN 1 ELSE 100 END))),
           NULL, NULL, NULL, NULL, NULL,
           jsonb_strip_nulls(jsonb_build_object(
               'invoice_issued', coalesce(crm_private.rc_ts(r.p -> 'status_transitions' -> 'finalized_at'), crm_private.rc_ts(r.p -> 'created')),
               'invoice_paid', crm_private.rc_ts(r.p -> 'status_transitions' -> 'paid_at'),
               'invoice_voided', crm_private.rc_ts(r.p -> 'status_transitions' -> 'voided_at')))
      FROM crm_private.rc_pending('stripe', 'invoices') r;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_stripe_invoice() IS
    'Reconciliation mapping of stripe invoices: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
