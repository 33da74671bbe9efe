-- crm_private.log_access_event(p_type, p_summary, p_properties, p_participants, p_role) — write an
-- audit event (access_*, membership_*, grant_*, login_*) with its participants.
-- Guarantees: one event, participants deduplicated (role subject); actor_system is the CRM
-- user p_role acts as (crm_private.actor_of) or, without one, the session's login — never a
-- value the caller chooses. Runs as crm_owner (SECURITY DEFINER): access events have write
-- scope 'system', so nobody can insert one directly; called by crm360's SECURITY DEFINER
-- audit triggers (which describe the rows a statement changed) and the admin functions
-- (crm.map_login, crm.unmap_login); EXECUTE only for crm_admin (admins are trusted).
CREATE OR REPLACE FUNCTION crm_private.log_access_event(p_type text, p_summary text, p_properties jsonb,
                                                       p_participants uuid[], p_role name)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_id uuid := crm_private.new_id();
BEGIN
    INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system)
    VALUES (v_id, p_type, now(), p_summary, coalesce(p_properties, '{}'),
            coalesce(crm_private.actor_of(p_role)::text, session_user::text));
    INSERT INTO crm.event_participants (event_id, node_id, role)
    SELECT DISTINCT v_id, x, 'subject' FROM unnest(p_participants) AS x
     WHERE x IS NOT NULL AND EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = x);
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm_private.log_access_event(text, text, jsonb, uuid[], name) IS
    'Writes an audit event of access changes with its participants (as crm_owner; actor from the caller''s role, not chosen by the caller). Admins only.';
