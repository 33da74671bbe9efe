-- crm_private.refresh_event_acl(p_event_ids) — events.acl := union of the acl of the event's
-- access-checked participants ('{}' when none: admins only); copied onto the event's
-- participant rows (event_acl) and onto artifacts attached only to the event.
CREATE OR REPLACE FUNCTION crm_private.refresh_event_acl(p_event_ids uuid[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_prev text := coalesce(current_setting('crm.acl_maintenance', true), 'off');
BEGIN
    PERFORM set_config('crm.acl_maintenance', 'on', true);
    WITH comp AS (
        SELECT e.id,
               crm_private.acl_norm((SELECT array_agg(x) FROM crm.event_participants p, unnest(p.acl) AS x
                                      WHERE p.event_id = e.id)) AS acl
          FROM crm.events e
         WHERE e.id = ANY (p_event_ids)
    ), upd AS (
        UPDATE crm.events e SET acl = comp.acl
          FROM comp
         WHERE e.id = comp.id AND e.acl IS DISTINCT FROM comp.acl
        RETURNING e.id, e.acl
    ), upd_p AS (
        -- every participant row of the events, not only of events whose acl changed: a
        -- participant added to an event whose acl it does not change still needs the copy
        UPDATE crm.event_participants p SET event_acl = comp.acl
          FROM comp
         WHERE p.event_id = comp.id AND p.event_acl IS DISTINCT FROM comp.acl
        RETURNING 1
    )
    UPDATE crm.artifacts a SET acl = comp.acl
      FROM comp
     WHERE a.event_id = comp.id AND a.node_id IS NULL AND a.acl IS DISTINCT FROM comp.acl;
    PERFORM set_config('crm.acl_maintenance', v_prev, true);
END;
$$;

COMMENT ON FUNCTION crm_private.refresh_event_acl(uuid[]) IS
    'Recomputes events.acl from the participants'' acl and copies it to the participants'' event_acl and to event-attached artifacts.';
