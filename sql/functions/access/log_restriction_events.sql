-- crm_private.log_restriction_events(p_node_ids, p_principals, p_added, p_role) — audit
-- restriction changes set-based: one access_restricted (p_added) or access_unrestricted
-- event per (node, principal) pair given as two parallel arrays, with the node (role subject:
-- the event is about it) and the principal (role principal) as participants. One statement
-- whatever the number of pairs (bulk restriction at ingestion stays fast); no temporary
-- table (nothing a caller created beforehand is ever used). actor_system is the user p_role
-- acts as, else the login. Runs as crm_owner (access events have write scope 'system');
-- called by the nodes' SECURITY DEFINER audit triggers (which describe the rows a statement
-- changed, whoever made it); EXECUTE for crm_admin only.
CREATE OR REPLACE FUNCTION crm_private.log_restriction_events(p_node_ids uuid[], p_principals uuid[],
                                                             p_added boolean, p_role name)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_n     integer;
    v_actor text;
BEGIN
    IF coalesce(cardinality(p_node_ids), 0) = 0 THEN
        RETURN 0;
    END IF;
    v_actor := coalesce(crm_private.actor_of(p_role)::text, session_user::text);
    -- the ACL columns are written with the rows (the event is about its node: its acl; the
    -- participants: their node's acl and the event's), so the per-row triggers are skipped
    -- for these two statements of crm360's own (bulk mode, restored when this returns)
    PERFORM pg_catalog.set_config('crm.bulk_apply', 'on', true);
    WITH l AS MATERIALIZED (
        SELECT crm_private.new_id() AS event_id, u.node_id, u.principal,
               n.label AS node_label, n.acl AS node_acl, p.label AS principal_label,
               p.node_type AS principal_type, p.acl AS principal_acl
          FROM unnest(p_node_ids, p_principals) AS u(node_id, principal)
          JOIN crm.nodes n ON n.id = u.node_id
          LEFT JOIN crm.nodes p ON p.id = u.principal
    ), ev AS (
        INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system, acl, about, recorded_by)
        SELECT l.event_id, CASE WHEN p_added THEN 'access_restricted' ELSE 'access_unrestricted' END, now(),
               format('%s %s %s %s', CASE WHEN p_added THEN 'Restricted' ELSE 'Unrestricted' END, l.node_label,
                      CASE WHEN p_added THEN 'to' ELSE 'from' END, coalesce(l.principal_label, l.principal::text)),
               jsonb_build_object('principal', l.principal, 'principal_type', l.principal_type),
               v_actor, coalesce(l.node_acl, '{}'),
               CASE WHEN l.node_acl IS NOT NULL THEN ARRAY[l.node_id] ELSE '{}' END,
               crm_private.actor_of(p_role)
          FROM l
        RETURNING 1
    )
    INSERT INTO crm.event_participants (event_id, node_id, role, acl, event_acl)
    SELECT l.event_id, x.node_id, x.role, x.node_acl, coalesce(l.node_acl, '{}')
      FROM l
     CROSS JOIN LATERAL (VALUES (l.node_id, 'subject', l.node_acl), (l.principal, 'principal', l.principal_acl))
           AS x(node_id, role, node_acl)
     WHERE x.node_id IS NOT NULL AND (x.role = 'subject' OR EXISTS (SELECT 1 FROM crm.nodes z WHERE z.id = x.node_id));
    SELECT count(*) INTO v_n FROM unnest(p_node_ids) AS x;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.log_restriction_events(uuid[], uuid[], boolean, name) IS
    'Audit: one access_restricted/access_unrestricted event per (node, principal) pair, set-based, written by crm360 (admins and crm360 itself only).';
