-- crm_private.reconcile_salesforce_contact() — mapping of salesforce Contact records (docs/graph_contract.md).
-- Guarantees: a person per normalized email (else per Contact Id), owned by the account of
-- AccountId (the CRM is canonical: it moves the person's owned_by/employs); names derived
-- when missing; OwnerId kept as the contact's owner (assigned_to role owner -> the Salesforce
-- User); IsDeleted archives.
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_salesforce_contact()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country)
    SELECT r.id, 'salesforce', 'Contact', r.external_id, 'person', r.source_updated_at,
           nullif(concat_ws('; ', CASE WHEN nullif(btrim(r.p ->> 'Email'), '') IS NOT NULL AND nullif(btrim(r.p ->> 'Email'), '') !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN format('invalid email in Email: %s', r.p ->> 'Email') END, crm_private.rc_check('LastModifiedDate', r.p -> 'LastModifiedDate', 'timestamptz'), crm_private.rc_check('IsDeleted', r.p -> 'IsDeleted', 'boolean')), ''),
           'person', CASE WHEN CASE WHEN nullif(btrim(r.p ->> 'Email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'Email'), '')) END IS NOT NULL THEN 'email' ELSE 'salesforce' END,
           coalesce(CASE WHEN nullif(btrim(r.p ->> 'Email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'Email'), '')) END, r.external_id), concat_ws(' ', nm.n[1], nm.n[2]),
           jsonb_build_object('first_name', nm.n[1], 'last_name', nm.n[2], 'email', CASE WHEN nullif(btrim(r.p ->> 'Email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'Email'), '')) END,
                              'phone', nullif(btrim(r.p ->> 'Phone'), ''), 'title', nullif(btrim(r.p ->> 'Title'), ''), 'source', 'salesforce'),
           coalesce(crm_private.rc_bool(r.p -> 'IsDeleted'), false),
           nullif(btrim(r.p ->> 'AccountId'), ''), NULL, NULL, CASE WHEN nullif(btrim(r.p ->> 'Email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'Email'), '')) END, nullif(btrim(r.p ->> 'Phone'), ''),
           jsonb_strip_nulls(jsonb_build_object('owner', CASE WHEN nullif(btrim(r.p ->> 'OwnerId'), '') IS NOT NULL THEN jsonb_build_array('salesforce', 'User', nullif(btrim(r.p ->> 'OwnerId'), '')) END)),
           NULL, NULL, NULL, NULL, nullif(btrim(r.p ->> 'OwnerId'), ''), NULL
      FROM crm_private.rc_pending('salesforce', 'Contact') r
      CROSS JOIN LATERAL (SELECT crm_private.rc_person_name(r.p ->> 'FirstName', r.p ->> 'LastName', NULL,
                                                             r.p ->> 'Email', r.external_id) AS n
                          OFFSET 0) nm;   -- OFFSET 0: computed once per record, not at each nm.n reference
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_salesforce_contact() IS
    'Reconciliation mapping of salesforce Contact: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
