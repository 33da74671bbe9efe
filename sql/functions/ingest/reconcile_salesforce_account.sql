-- crm_private.reconcile_salesforce_account() — mapping of salesforce Account records (docs/graph_contract.md).
-- Guarantees: one org node per Account Id, the canonical account (name, website, domain,
-- industry, country, annual_revenue); IsDeleted archives it; OwnerId is kept as the account's
-- owner (assigned_to role owner -> the Salesforce User) and, with BillingCountry, feeds the
-- ownership -> team restriction (crm_raw.ownership_mapping).
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_salesforce_account()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country)
    SELECT r.id, 'salesforce', 'Account', r.external_id, 'account', r.source_updated_at,
           nullif(concat_ws('; ', CASE WHEN nullif(btrim(r.p ->> 'Name'), '') IS NULL THEN 'missing Name' END, crm_private.rc_check('Name', r.p -> 'Name', 'string'), crm_private.rc_check('AnnualRevenue', r.p -> 'AnnualRevenue', 'numeric'), crm_private.rc_check('LastModifiedDate', r.p -> 'LastModifiedDate', 'timestamptz'), crm_private.rc_check('IsDeleted', r.p -> 'IsDeleted', 'boolean')), ''),
           'org', 'salesforce', r.external_id, nullif(btrim(r.p ->> 'Name'), ''),
           jsonb_build_object('name', nullif(btrim(r.p ->> 'Name'), ''), 'website', nullif(btrim(r.p ->> 'Website'), ''),
                              'domain', crm_private.normalize_domain(r.p ->> 'Website'),
                              'industry', nullif(btrim(r.p ->> 'Industry'), ''), 'country', nullif(btrim(r.p ->> 'BillingCountry'), ''),
                              'annual_revenue', crm_private.rc_num(r.p -> 'AnnualRevenue')),
           coalesce(crm_private.rc_bool(r.p -> 'IsDeleted'), false),
           NULL, NULL, NULL, NULL, NULL,
           jsonb_strip_nulls(jsonb_build_object('owner', CASE WHEN nullif(btrim(r.p ->> 'OwnerId'), '') IS NOT NULL THEN jsonb_build_array('salesforce', 'User', nullif(btrim(r.p ->> 'OwnerId'), '')) END)),
           NULL, NULL, NULL, NULL, nullif(btrim(r.p ->> 'OwnerId'), ''), lower(nullif(btrim(r.p ->> 'BillingCountry'), ''))
      FROM crm_private.rc_pending('salesforce', 'Account') r;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_salesforce_account() IS
    'Reconciliation mapping of salesforce Account: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
