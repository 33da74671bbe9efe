-- crm_private.assertion_lock(p_subject, p_assertion_type, p_key) — serialise the writers of one
-- assertion key (subject, type, key) until the end of the transaction.
-- Guarantees: takes crm_private.xact_lock('assertion/<subject>/<type>/<key>') — a key salted
-- with crm360's secret, so no other role can compute it — and nothing else: a writer who may
-- call this can only take the lock it takes anyway when it supersedes that claim, never
-- crm360's other locks (reconciliation). EXECUTE for crm_writer (crm.supersede_assertion).
CREATE OR REPLACE FUNCTION crm_private.assertion_lock(p_subject uuid, p_assertion_type text, p_key text)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT crm_private.xact_lock(concat_ws('/', 'assertion', p_subject::text, p_assertion_type, p_key))
$$;

COMMENT ON FUNCTION crm_private.assertion_lock(uuid, text, text) IS
    'Takes the transaction-level lock of one assertion key (subject, type, key); writers use it through crm.supersede_assertion.';
