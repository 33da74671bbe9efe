-- crm_private.refresh_event_chunks(p_event_id) — bring the search chunks of one event's texts
-- in line right after crm360's write API stored them (crm_private.attach_event_body: notes,
-- calls, emails, meetings logged with crm.log_*), so they are searchable at once.
-- Guarantees: the work of crm_private.refresh_chunks(ARRAY[p_event_id]) — rebuilds from the
-- graph as it is, whoever calls, so it can change nothing the graph does not say; returns
-- nothing (no oracle on events the caller cannot see). SECURITY DEFINER (crm_owner writes
-- crm.chunks); crm360's flags pinned off; EXECUTE for crm_writer (the write API runs as the
-- caller). NULL or an id that is not an event → no-op.
CREATE OR REPLACE FUNCTION crm_private.refresh_event_chunks(p_event_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
BEGIN
    -- events only (not any node or account id a writer passes: no rebuild of another
    -- team's account on demand)
    IF p_event_id IS NOT NULL AND EXISTS (SELECT 1 FROM crm.events e WHERE e.id = p_event_id) THEN
        PERFORM crm_private.refresh_chunks(ARRAY[p_event_id]);
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.refresh_event_chunks(uuid) IS
    'Internal: rebuild the search chunks of one event''s texts (called by crm_private.attach_event_body). Example: SELECT crm_private.refresh_event_chunks(''<event uuid>'');';
