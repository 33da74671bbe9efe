-- crm_private.log_restriction_events(p_node_ids, p_principals, p_added) — audit restriction
-- changes set-based: one access_restricted (p_added) or access_unrestricted event per
-- (node, principal) pair given as two parallel arrays, with the node and the principal as
-- participants. Two statements whatever the number of pairs (bulk restriction at ingestion
-- stays fast).
CREATE OR REPLACE FUNCTION crm_private.log_restriction_events(p_node_ids uuid[], p_principals uuid[], p_added boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_n integer;
BEGIN
    IF coalesce(cardinality(p_node_ids), 0) = 0 THEN
        RETURN 0;
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS crm_restriction_log (event_id uuid, node_id uuid, principal uuid) ON COMMIT DROP;
    TRUNCATE crm_restriction_log;
    INSERT INTO crm_restriction_log (event_id, node_id, principal)
    SELECT gen_random_uuid(), u.node_id, u.principal FROM unnest(p_node_ids, p_principals) AS u(node_id, principal);
    -- the ACL columns are written with the rows (the event: union of its participants' acl;
    -- participants: their node's acl and the event's): inside rc_apply's bulk mode the row
    -- triggers are skipped and these values stand, elsewhere the triggers compute the same
    INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system, acl, recorded_by)
    SELECT l.event_id, CASE WHEN p_added THEN 'access_restricted' ELSE 'access_unrestricted' END, now(),
           format('%s %s %s %s', CASE WHEN p_added THEN 'Restricted' ELSE 'Unrestricted' END, n.label,
                  CASE WHEN p_added THEN 'to' ELSE 'from' END, coalesce(p.label, l.principal::text)),
           jsonb_build_object('principal', l.principal, 'principal_type', p.node_type),
           coalesce(crm.current_actor()::text, session_user::text),
           crm_private.acl_norm(n.acl || p.acl), crm.current_actor()
      FROM crm_restriction_log l
      JOIN crm.nodes n ON n.id = l.node_id
      LEFT JOIN crm.nodes p ON p.id = l.principal;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    INSERT INTO crm.event_participants (event_id, node_id, role, acl, event_acl)
    SELECT l.event_id, x.node_id, x.role, x.node_acl, crm_private.acl_norm(n.acl || p.acl)
      FROM crm_restriction_log l
      JOIN crm.nodes n ON n.id = l.node_id
      LEFT JOIN crm.nodes p ON p.id = l.principal
     CROSS JOIN LATERAL (VALUES (l.node_id, 'subject', n.acl), (p.id, 'principal', p.acl)) AS x(node_id, role, node_acl)
     WHERE x.node_id IS NOT NULL;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.log_restriction_events(uuid[], uuid[], boolean) IS
    'Audit: one access_restricted/access_unrestricted event per (node, principal) pair, set-based.';
