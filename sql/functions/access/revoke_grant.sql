-- crm.revoke_grant(p_grant_id) — end an access grant (the row stays, with revoked_at).
-- Guarantees: effective at the next statement; logged as grant_revoked; false when already
-- revoked; P0002 unknown grant. Admin only (42501).
CREATE OR REPLACE FUNCTION crm.revoke_grant(p_grant_id uuid)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.require_admin('revoke grants');
    UPDATE crm.access_grants g SET revoked_at = now() WHERE g.id = p_grant_id AND g.revoked_at IS NULL;
    IF FOUND THEN
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.access_grants g WHERE g.id = p_grant_id) THEN
        RAISE EXCEPTION 'grant % does not exist', p_grant_id USING ERRCODE = 'P0002';
    END IF;
    RETURN false;
END;
$$;

COMMENT ON FUNCTION crm.revoke_grant(uuid) IS
$c$Revoke an access grant (kept for audit with revoked_at). Admin only. Errors: 42501 not admin, P0002 unknown grant. Example: SELECT crm.revoke_grant('<grant uuid>');$c$;
