-- crm.bulk_release(p_ids) — give up the claim on every given node (admins: anyone's claims).
-- Guarantees: all or nothing: every id must be visible and writable for the caller — for a
-- member that means unclaimed or theirs (crm_private.require_writable; CR055 lists refused ids,
-- nothing changes); one set-based UPDATE; crm360 logs owner_released per node; unclaimed nodes
-- are skipped. Returns how many were released.
CREATE OR REPLACE FUNCTION crm.bulk_release(p_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ids uuid[];
    v_n   integer;
BEGIN
    v_ids := crm_private.require_writable(p_ids, ARRAY['person', 'org', 'opportunity'], 'bulk release');
    UPDATE crm.nodes n SET claimed_by = NULL WHERE n.id = ANY (v_ids) AND n.claimed_by IS NOT NULL;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm.bulk_release(uuid[]) IS
$c$Bulk release: give up the claim on every given node (admins: anyone's), all or nothing; logs owner_released per node. Returns how many were released. Errors: CR055 some ids hidden, missing or someone else's (listed in DETAIL; nothing changed), 22023 empty array. Example: SELECT crm.bulk_release(ARRAY['<uuid>']::uuid[]);$c$;
