-- crm_private.reconcile_salesforce_user() — mapping of salesforce User records (docs/graph_contract.md).
-- Guarantees: one user node per Salesforce User Id (name, email, active); no account.
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_salesforce_user()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country)
    SELECT r.id, 'salesforce', 'User', r.external_id, 'user', r.source_updated_at,
           nullif(concat_ws('; ', crm_private.rc_check('Name', r.p -> 'Name', 'string'), crm_private.rc_check('IsActive', r.p -> 'IsActive', 'boolean'), crm_private.rc_check('LastModifiedDate', r.p -> 'LastModifiedDate', 'timestamptz'), CASE WHEN nullif(btrim(r.p ->> 'Email'), '') IS NOT NULL AND nullif(btrim(r.p ->> 'Email'), '') !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN format('invalid email in Email: %s', r.p ->> 'Email') END), ''),
           'user', 'salesforce', r.external_id, coalesce(nullif(btrim(r.p ->> 'Name'), ''), nullif(btrim(r.p ->> 'Email'), ''), r.external_id),
           jsonb_build_object('name', coalesce(nullif(btrim(r.p ->> 'Name'), ''), nullif(btrim(r.p ->> 'Email'), ''), r.external_id), 'email', CASE WHEN nullif(btrim(r.p ->> 'Email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'Email'), '')) END,
                              'active', crm_private.rc_bool(r.p -> 'IsActive')),
           false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
      FROM crm_private.rc_pending('salesforce', 'User') r;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_salesforce_user() IS
    'Reconciliation mapping of salesforce User: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
