-- crm_private.rc_write_events() — write the events staged in pg_temp.rc_events, set-based.
-- Guarantees: an event whose (external_source, external_id) already exists is not written
-- again (replays add nothing); new events get their participants (unique per node and
-- role, missing nodes skipped) and their body as an artifact; pg_temp.rc_new_events lists
-- the events actually written. Returns that number.
-- ACLs are written with the rows, computed once for the batch (events.about/acl by the rule
-- of crm_private.event_about_of: the access-checked subject participants, else the account,
-- else all access-checked participants, and the union of their acl; participants'
-- acl/event_acl, artifacts' acl): in rc_apply's
-- bulk mode the per-row triggers are skipped and these values stand; outside it (e.g.
-- crm_private.rc_remove_missing) the triggers recompute the same values.
CREATE OR REPLACE FUNCTION crm_private.rc_write_events()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n     integer;
    v_actor uuid := crm.current_actor();
BEGIN
    TRUNCATE pg_temp.rc_new_events, pg_temp.rc_parts;
    -- the participants, each node looked up once: its acl makes the event's acl and the
    -- participant row's own acl copy
    INSERT INTO pg_temp.rc_parts (event_id, node_id, role, acl)
    SELECT DISTINCT e.id, p.node_id, p.role, nd.acl
      FROM pg_temp.rc_events e
     CROSS JOIN LATERAL unnest(e.parts, e.roles) AS p(node_id, role)
      JOIN crm.nodes nd ON nd.id = p.node_id;
    ANALYZE pg_temp.rc_parts;
    WITH ranked AS (   -- = crm_private.event_about_of, for the whole batch
        SELECT x.event_id, x.node_id, x.acl,
               rank() OVER (PARTITION BY x.event_id
                            ORDER BY CASE x.role WHEN 'subject' THEN 1 WHEN 'account' THEN 2 ELSE 3 END) AS rk
          FROM pg_temp.rc_parts x
         WHERE x.acl IS NOT NULL
    ), about AS (
        SELECT r.event_id, array_agg(DISTINCT r.node_id ORDER BY r.node_id) AS about
          FROM ranked r WHERE r.rk = 1 GROUP BY r.event_id
    ), acl AS (   -- = crm_private.acl_norm of the union (sorted, distinct, no NULLs)
        SELECT r.event_id, array_agg(DISTINCT a ORDER BY a) AS acl
          FROM ranked r
         CROSS JOIN LATERAL unnest(r.acl) AS a
         WHERE r.rk = 1 AND a IS NOT NULL
         GROUP BY r.event_id
    ), ins AS (
        INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system,
                                external_source, external_id, acl, about, recorded_by)
        SELECT e.id, e.event_type, e.occurred_at, e.summary, e.properties, e.external_source,
               e.external_source, e.external_id, coalesce(acl.acl, '{}'), coalesce(ab.about, '{}'), v_actor
          FROM pg_temp.rc_events e
          LEFT JOIN acl ON acl.event_id = e.id
          LEFT JOIN about ab ON ab.event_id = e.id
        ON CONFLICT ((ARRAY[external_source, external_id])) WHERE external_id IS NOT NULL DO NOTHING
        RETURNING id, acl
    )
    INSERT INTO pg_temp.rc_new_events (id, acl) SELECT ins.id, ins.acl FROM ins;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n = 0 THEN
        RETURN 0;
    END IF;
    ANALYZE pg_temp.rc_new_events;
    INSERT INTO crm.event_participants (event_id, node_id, role, acl, event_acl)
    SELECT x.event_id, x.node_id, x.role, x.acl, n.acl
      FROM pg_temp.rc_parts x
      JOIN pg_temp.rc_new_events n ON n.id = x.event_id;
    INSERT INTO crm.artifacts (artifact_type, event_id, title, body, content_hash, acl)
    SELECT e.artifact_type, e.id, e.summary, e.body, encode(sha256(convert_to(e.body, 'UTF8')), 'hex'), n.acl
      FROM pg_temp.rc_events e
      JOIN pg_temp.rc_new_events n ON n.id = e.id
     WHERE e.body IS NOT NULL AND btrim(e.body) <> '' AND e.artifact_type IS NOT NULL;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.rc_write_events() IS
    'Reconciliation: writes the staged events (rc_events) that do not exist yet, with participants and body artifacts; returns how many were new.';
