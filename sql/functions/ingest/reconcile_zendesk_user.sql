-- crm_private.reconcile_zendesk_user() — mapping of zendesk users records (docs/graph_contract.md).
-- Guarantees: end users become people (one per normalized email), resolved to an account
-- through their organization, else their email domain; agents and admins are staff, not
-- customers (skipped).
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_zendesk_user()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country)
    SELECT r.id, 'zendesk', 'users', r.external_id,
           CASE WHEN lower(nullif(btrim(r.p ->> 'role'), '')) IN ('agent', 'admin') THEN 'skip' ELSE 'person' END, r.source_updated_at,
           nullif(concat_ws('; ', CASE WHEN nullif(btrim(r.p ->> 'email'), '') IS NOT NULL AND nullif(btrim(r.p ->> 'email'), '') !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN format('invalid email in email: %s', r.p ->> 'email') END, crm_private.rc_check('organization_id', r.p -> 'organization_id', 'integer'), crm_private.rc_check('updated_at', r.p -> 'updated_at', 'timestamptz'), crm_private.rc_check('name', r.p -> 'name', 'string')), ''),
           'person', CASE WHEN CASE WHEN nullif(btrim(r.p ->> 'email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'email'), '')) END IS NOT NULL THEN 'email' ELSE 'zendesk_user' END,
           coalesce(CASE WHEN nullif(btrim(r.p ->> 'email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'email'), '')) END, r.external_id), concat_ws(' ', nm.n[1], nm.n[2]),
           jsonb_build_object('first_name', nm.n[1], 'last_name', nm.n[2], 'email', CASE WHEN nullif(btrim(r.p ->> 'email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'email'), '')) END,
                              'phone', nullif(btrim(r.p ->> 'phone'), ''), 'source', 'zendesk'),
           false, NULL,
           CASE WHEN nullif(btrim(r.p ->> 'organization_id'), '') IS NOT NULL THEN ARRAY['zendesk', 'organizations', nullif(btrim(r.p ->> 'organization_id'), '')] END,
           array_remove(ARRAY[crm_private.normalize_domain(CASE WHEN nullif(btrim(r.p ->> 'email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'email'), '')) END)], NULL),
           CASE WHEN nullif(btrim(r.p ->> 'email'), '') ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN lower(nullif(btrim(r.p ->> 'email'), '')) END, nullif(btrim(r.p ->> 'phone'), ''), NULL, NULL, NULL, NULL, NULL, NULL, NULL
      FROM crm_private.rc_pending('zendesk', 'users') r
      CROSS JOIN LATERAL (SELECT crm_private.rc_person_name(NULL, NULL, r.p ->> 'name', r.p ->> 'email', r.external_id) AS n
                          OFFSET 0) nm;   -- OFFSET 0: computed once per record, not at each nm.n reference
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_zendesk_user() IS
    'Reconciliation mapping of zendesk users: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
