-- crm_private.tg_access_grants__audit() — AFTER INSERT OR UPDATE (row) on crm.access_grants.
-- Guarantees: every grant created or revoked is logged (grant_created / grant_revoked) with
-- the grantee as participant, however it was written (function or plain INSERT).
-- SECURITY DEFINER (a trigger function cannot be called directly).
CREATE OR REPLACE FUNCTION crm_private.tg_access_grants__audit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM crm_private.log_access_event('grant_created',
            format('Granted %s %s %s to %s %s', NEW.access_level, NEW.resource_type, NEW.scope::text, NEW.grant_type, NEW.grantee),
            jsonb_build_object('grant_id', NEW.id, 'grantee', NEW.grantee, 'resource_type', NEW.resource_type,
                               'access_level', NEW.access_level, 'scope', NEW.scope),
            ARRAY[NEW.grantee_id], session_user);
    ELSIF NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL THEN
        PERFORM crm_private.log_access_event('grant_revoked',
            format('Revoked %s %s %s from %s %s', NEW.access_level, NEW.resource_type, NEW.scope::text, NEW.grant_type, NEW.grantee),
            jsonb_build_object('grant_id', NEW.id, 'grantee', NEW.grantee), ARRAY[NEW.grantee_id], session_user);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_access_grants__audit() IS
    'Trigger: logs grant_created / grant_revoked events.';

CREATE OR REPLACE TRIGGER tg_access_grants__audit
    AFTER INSERT OR UPDATE ON crm.access_grants
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_access_grants__audit();
