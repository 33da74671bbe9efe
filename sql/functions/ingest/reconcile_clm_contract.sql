-- crm_private.reconcile_clm_contract() — mapping of clm contracts records (docs/graph_contract.md).
-- Guarantees: one contract node per contract_id, owned by the account of account_id (else a
-- unique account with counterparty_domain, else orphan); contract_status {status,
-- annual_value} as assertions (contract_signed/expired/terminated events, contract_renewed
-- when end_date moves later); missing from the latest full export -> archived as removed.
-- Event times: contract_signed at signed_at (an optional column), else at the start (UTC) of
-- effective_date; contract_expired at the end of end_date — neither later than the record's
-- updated_at (a contract signed ahead of its effective date was signed by then).
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_clm_contract()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country, event_times)
    SELECT r.id, 'clm', 'contracts', r.external_id, 'child', r.source_updated_at,
           nullif(concat_ws('; ', CASE WHEN nullif(btrim(r.p ->> 'status'), '') IS NOT NULL AND lower(nullif(btrim(r.p ->> 'status'), '')) NOT IN ('draft', 'active', 'expired', 'terminated') THEN format('unknown status %s', r.p ->> 'status') END, CASE WHEN nullif(btrim(r.p ->> 'status'), '') IS NULL THEN 'missing status' END, crm_private.rc_check('effective_date', r.p -> 'effective_date', 'date'), crm_private.rc_check('end_date', r.p -> 'end_date', 'date'), crm_private.rc_check('annual_value', r.p -> 'annual_value', 'numeric'), crm_private.rc_check('auto_renew', r.p -> 'auto_renew', 'boolean'), crm_private.rc_check('updated_at', r.p -> 'updated_at', 'timestamptz'), crm_private.rc_check('signed_at', r.p -> 'signed_at', 'timestamptz')), ''),
           'contract', 'clm', r.external_id, coalesce(nullif(btrim(r.p ->> 'title'), ''), nullif(btrim(r.p ->> 'counterparty_name'), ''), 'Contract ' || r.external_id),
           jsonb_build_object('title', coalesce(nullif(btrim(r.p ->> 'title'), ''), nullif(btrim(r.p ->> 'counterparty_name'), ''), 'Contract ' || r.external_id),
                              'counterparty_name', nullif(btrim(r.p ->> 'counterparty_name'), ''),
                              'effective_date', CASE WHEN pg_input_is_valid(r.p ->> 'effective_date', 'date') THEN (r.p ->> 'effective_date')::date::text END,
                              'end_date', CASE WHEN pg_input_is_valid(r.p ->> 'end_date', 'date') THEN (r.p ->> 'end_date')::date::text END,
                              'annual_value', crm_private.rc_num(r.p -> 'annual_value'), 'currency', upper(nullif(btrim(r.p ->> 'currency'), '')),
                              'auto_renew', crm_private.rc_bool(r.p -> 'auto_renew')),
           false, nullif(btrim(r.p ->> 'account_id'), ''), NULL,
           array_remove(ARRAY[crm_private.normalize_domain(r.p ->> 'counterparty_domain')], NULL),
           NULL, NULL, NULL,
           jsonb_build_object('contract_status', jsonb_strip_nulls(jsonb_build_object(
               'status', lower(nullif(btrim(r.p ->> 'status'), '')), 'annual_value', crm_private.rc_num(r.p -> 'annual_value')))),
           NULL, NULL, NULL, NULL, NULL,
           jsonb_strip_nulls(jsonb_build_object(
               'contract_signed', coalesce(crm_private.rc_ts(r.p -> 'signed_at'),
                                           least(CASE WHEN pg_input_is_valid(r.p ->> 'effective_date', 'date')
                                                      THEN (r.p ->> 'effective_date')::date::timestamp AT TIME ZONE 'UTC' END,
                                                 r.source_updated_at)),
               'contract_expired', least(CASE WHEN pg_input_is_valid(r.p ->> 'end_date', 'date')
                                              THEN ((r.p ->> 'end_date')::date + 1)::timestamp AT TIME ZONE 'UTC' END,
                                         r.source_updated_at)))
      FROM crm_private.rc_pending('clm', 'contracts') r;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_clm_contract() IS
    'Reconciliation mapping of clm contracts: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
