-- crm_private.reconcile_salesforce_opportunity() — mapping of salesforce Opportunity records (docs/graph_contract.md).
-- Guarantees: one opportunity per Opportunity Id (OPP code allocated once), owned by its
-- account; deal_stage {stage: lower snake case of StageName, pipeline PL-SFDC}, deal_value
-- {amount, currency} and win_probability (Probability/100) as assertions (changes supersede,
-- history kept); the owner user gets assigned_to (role owner); the contact ContactId names
-- (Salesforce: the opportunity's primary contact role) gets primary_contact — replacing the
-- former one when it changes, ended when the export has the field empty, and linked later
-- when the Contact arrives after the Opportunity; IsDeleted archives.
-- CreatedDate (when the export has it) is kept as properties.created_at and dates the
-- opportunity_created event.
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_salesforce_opportunity()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country, event_times)
    SELECT r.id, 'salesforce', 'Opportunity', r.external_id, 'child', r.source_updated_at,
           nullif(concat_ws('; ', CASE WHEN nullif(btrim(r.p ->> 'Name'), '') IS NULL THEN 'missing Name' END, crm_private.rc_check('Amount', r.p -> 'Amount', 'numeric'), crm_private.rc_check('Probability', r.p -> 'Probability', 'numeric'), CASE WHEN crm_private.rc_num(r.p -> 'Probability') NOT BETWEEN 0 AND 100 THEN format('Probability out of range: %s', r.p ->> 'Probability') END, CASE WHEN crm_private.rc_num(r.p -> 'Amount') < 0 THEN format('negative Amount: %s', r.p ->> 'Amount') END, CASE WHEN nullif(btrim(r.p ->> 'CurrencyIsoCode'), '') !~* '^[a-z]{3}$' THEN format('unknown CurrencyIsoCode %s', r.p ->> 'CurrencyIsoCode') END, crm_private.rc_check('CloseDate', r.p -> 'CloseDate', 'date'), crm_private.rc_check('LastModifiedDate', r.p -> 'LastModifiedDate', 'timestamptz'), crm_private.rc_check('CreatedDate', r.p -> 'CreatedDate', 'timestamptz'), crm_private.rc_check('IsDeleted', r.p -> 'IsDeleted', 'boolean'), crm_private.rc_check('IsClosed', r.p -> 'IsClosed', 'boolean'), crm_private.rc_check('IsWon', r.p -> 'IsWon', 'boolean')), ''),
           'opportunity', 'salesforce', r.external_id, nullif(btrim(r.p ->> 'Name'), ''),
           jsonb_build_object('name', nullif(btrim(r.p ->> 'Name'), ''), 'close_date', CASE WHEN pg_input_is_valid(r.p ->> 'CloseDate', 'date') THEN (r.p ->> 'CloseDate')::date::text END,
                              'is_closed', crm_private.rc_bool(r.p -> 'IsClosed'), 'is_won', crm_private.rc_bool(r.p -> 'IsWon'),
                              'created_at', to_char(crm_private.rc_ts(r.p -> 'CreatedDate') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
           coalesce(crm_private.rc_bool(r.p -> 'IsDeleted'), false),
           nullif(btrim(r.p ->> 'AccountId'), ''), NULL, NULL, NULL, NULL,
           jsonb_strip_nulls(jsonb_build_object('owner', CASE WHEN nullif(btrim(r.p ->> 'OwnerId'), '') IS NOT NULL THEN jsonb_build_array('salesforce', 'User', nullif(btrim(r.p ->> 'OwnerId'), '')) END,
                                                'primary_contact', CASE WHEN nullif(btrim(r.p ->> 'ContactId'), '') IS NOT NULL THEN jsonb_build_array('salesforce', 'Contact', nullif(btrim(r.p ->> 'ContactId'), '')) END,
                                                -- the export has the field and it is empty: no primary contact any more
                                                'primary_contact_cleared', CASE WHEN r.p ? 'ContactId' AND nullif(btrim(r.p ->> 'ContactId'), '') IS NULL THEN true END)),
           jsonb_strip_nulls(jsonb_build_object(
               'deal_stage', CASE WHEN nullif(btrim(r.p ->> 'StageName'), '') IS NOT NULL THEN jsonb_build_object(
                   'stage', lower(btrim(regexp_replace(btrim(r.p ->> 'StageName'), '[^A-Za-z0-9]+', '_', 'g'), '_')), 'pipeline', 'PL-SFDC') END,
               'deal_value', CASE WHEN crm_private.rc_num(r.p -> 'Amount') IS NOT NULL THEN jsonb_build_object(
                   'amount', crm_private.rc_num(r.p -> 'Amount'), 'currency', upper(coalesce(nullif(btrim(r.p ->> 'CurrencyIsoCode'), ''), 'USD'))) END,
               'win_probability', CASE WHEN crm_private.rc_num(r.p -> 'Probability') IS NOT NULL THEN jsonb_build_object(
                   'probability', crm_private.rc_num(r.p -> 'Probability') / 100) END)),
           NULL, NULL, NULL, nullif(btrim(r.p ->> 'OwnerId'), ''), NULL,
           jsonb_strip_nulls(jsonb_build_object('opportunity_created', crm_private.rc_ts(r.p -> 'CreatedDate')))
      FROM crm_private.rc_pending('salesforce', 'Opportunity') r;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_salesforce_opportunity() IS
    'Reconciliation mapping of salesforce Opportunity: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
