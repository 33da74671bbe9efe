-- crm_private.reconcile_orphans_run(p_role) — the work of crm.reconcile_orphans.
-- Guarantees: orphan records become pending again and crm.reconcile() runs: those whose
-- account now exists (the CRM account arrived, a domain was added) are applied, the others
-- stay orphans with refreshed evidence. Only for the sources p_role (the caller's
-- current_user, trusted only when the session may become it) may reconcile
-- (crm_private.sources_of). Runs as crm_owner; EXECUTE for connectors and admins.
CREATE OR REPLACE FUNCTION crm_private.reconcile_orphans_run(p_role name)
RETURNS TABLE (source text, object text, applied integer, rejected integer, orphans integer,
               skipped integer, removed integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
BEGIN
    PERFORM crm_private.xact_lock('crm360/reconcile');   -- a key no other role can compute or hold
    UPDATE crm_raw.records r SET status = 'pending'
     WHERE r.status = 'orphan' AND r.source = ANY (crm_private.sources_of(p_role));
    RETURN QUERY SELECT * FROM crm_private.reconcile_run(NULL, p_role);
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_orphans_run(name) IS
    'The work of crm.reconcile_orphans (as crm_owner), limited to the sources the caller role may reconcile.';
