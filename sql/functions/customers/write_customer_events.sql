-- crm_private.write_customer_events(p_types, p_nodes, p_props, p_summaries, p_related, p_related_roles)
-- — write the customer-model audit events (tag_added/_removed, segment_joined/_left,
-- task_created/_completed, note_added, profile_scored, company_matched), one per array element,
-- set-based.
-- Guarantees: event i has type p_types[i], summary p_summaries[i], properties p_props[i] and
-- the participants p_nodes[i] (role subject — what the event is about) and, when not NULL,
-- p_related[i] (role p_related_roles[i]: a segment, a tag's product, an assignee — nodes that
-- are not access-checked grant nothing). about/acl are computed here by the rule of
-- crm_private.event_about_of (the access-checked subject, its acl), written with the rows;
-- actor_system/recorded_by are the CRM user of the session's login (crm_private.actor_of
-- (session_user)), never a caller's choice. Runs in bulk mode (the per-row event triggers are
-- skipped for these statements, which compute the same values): EXECUTE for nobody — only
-- crm360's own SECURITY DEFINER triggers (as crm_owner) call it. Returns the number written.
CREATE OR REPLACE FUNCTION crm_private.write_customer_events(
    p_types         text[],
    p_nodes         uuid[],
    p_props         jsonb[],
    p_summaries     text[],
    p_related       uuid[] DEFAULT NULL,
    p_related_roles text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'on'
-- its callers (the audit triggers, crm.refresh_segments) turn nested loops off for their own
-- set-against-set joins; here the planner knows how many events it writes (the arrays' length):
-- a few hundred are found by primary key, hundreds of thousands by a hash join
SET enable_nestloop = on
AS $$
DECLARE
    v_actor uuid := crm_private.actor_of(session_user);
BEGIN
    IF current_user <> 'crm_owner' THEN
        RAISE EXCEPTION 'crm_private.write_customer_events is crm360''s own' USING ERRCODE = '42501';
    END IF;
    WITH src AS MATERIALIZED (
        SELECT crm_private.new_id() AS event_id, u.typ, u.node_id, u.props, u.summary, u.rel, u.rel_role,
               n.acl AS node_acl, r.acl AS rel_acl
          FROM unnest(p_types, p_nodes, p_props, p_summaries,
                      coalesce(p_related, array_fill(NULL::uuid, ARRAY[cardinality(p_types)])),
                      coalesce(p_related_roles, array_fill(NULL::text, ARRAY[cardinality(p_types)])))
                 AS u(typ, node_id, props, summary, rel, rel_role)
          JOIN crm.nodes n ON n.id = u.node_id
          LEFT JOIN crm.nodes r ON r.id = u.rel
    ), ev AS (
        INSERT INTO crm.events (id, event_type, occurred_at, recorded_at, summary, properties, actor_system,
                                recorded_by, acl, about)
        SELECT s.event_id, s.typ, now(), now(), s.summary, coalesce(s.props, '{}'),
               coalesce(v_actor::text, session_user::text), v_actor,
               coalesce(s.node_acl, '{}'),
               CASE WHEN s.node_acl IS NOT NULL THEN ARRAY[s.node_id] ELSE '{}' END
          FROM src s
        RETURNING 1
    )
    INSERT INTO crm.event_participants (event_id, node_id, role, acl, event_acl)
    SELECT s.event_id, x.node_id, x.role, x.acl, coalesce(s.node_acl, '{}')
      FROM src s
     CROSS JOIN LATERAL (VALUES (s.node_id, 'subject', s.node_acl),
                                (CASE WHEN s.rel <> s.node_id THEN s.rel END, s.rel_role, s.rel_acl)) AS x(node_id, role, acl)
     WHERE x.node_id IS NOT NULL AND x.role IS NOT NULL;
    RETURN cardinality(p_types);
END;
$$;

COMMENT ON FUNCTION crm_private.write_customer_events(text[], uuid[], jsonb[], text[], uuid[], text[]) IS
    'Internal (crm360''s triggers only): writes customer-model audit events with their subject (and related) participants and ACLs, set-based.';
