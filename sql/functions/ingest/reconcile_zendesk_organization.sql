-- crm_private.reconcile_zendesk_organization() — mapping of zendesk organizations records (docs/graph_contract.md).
-- Guarantees: a Zendesk organization is not a node of its own: it resolves to its account
-- (external_id = Salesforce Account Id, else a unique account with one of its domain_names,
-- else orphan) and is linked to it in crm.node_sources.
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_zendesk_organization()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country)
    SELECT r.id, 'zendesk', 'organizations', r.external_id, 'alias', r.source_updated_at,
           nullif(concat_ws('; ', crm_private.rc_check('domain_names', r.p -> 'domain_names', 'array'), crm_private.rc_check('external_id', r.p -> 'external_id', 'string'), crm_private.rc_check('updated_at', r.p -> 'updated_at', 'timestamptz')), ''),
           NULL, NULL, NULL, nullif(btrim(r.p ->> 'name'), ''), NULL, false,
           nullif(btrim(r.p ->> 'external_id'), ''), NULL,
           CASE WHEN jsonb_typeof(r.p -> 'domain_names') = 'array'
                THEN ARRAY(SELECT DISTINCT crm_private.normalize_domain(d) FROM jsonb_array_elements_text(r.p -> 'domain_names') d
                            WHERE crm_private.normalize_domain(d) IS NOT NULL) END,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
      FROM crm_private.rc_pending('zendesk', 'organizations') r;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_zendesk_organization() IS
    'Reconciliation mapping of zendesk organizations: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
