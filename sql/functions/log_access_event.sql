-- crm_private.log_access_event(p_type, p_summary, p_properties, p_participants) — write an
-- audit event (access_*, membership_*, grant_*, login_*, owner_*) with its participants.
-- Guarantees: one event, participants deduplicated; actor_system is the acting CRM user id
-- (or the login role when there is no CRM identity). Runs
-- as the caller (its insert rights apply).
CREATE OR REPLACE FUNCTION crm_private.log_access_event(p_type text, p_summary text, p_properties jsonb,
                                                       p_participants uuid[])
RETURNS uuid
LANGUAGE plpgsql

SET search_path = ''
AS $$
DECLARE
    v_id uuid := gen_random_uuid();
BEGIN
    INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system)
    VALUES (v_id, p_type, now(), p_summary, coalesce(p_properties, '{}'),
            coalesce(crm.current_actor()::text, session_user::text));
    INSERT INTO crm.event_participants (event_id, node_id, role)
    SELECT DISTINCT v_id, x, 'subject' FROM unnest(p_participants) AS x
     WHERE x IS NOT NULL AND EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = x);
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm_private.log_access_event(text, text, jsonb, uuid[]) IS
    'Writes an audit event of access changes with its participants (the node and the principal).';
