-- crm_private.log_new_restrictions(p_node_ids, p_role) — audit the restrictions a member gave
-- the nodes they have just created (allowed to their own teams only: see
-- crm_private.tg_nodes__validate).
-- Guarantees: only nodes created in this transaction (created_at = the transaction's start,
-- which tg_nodes__validate enforces for every non-crm360 insert) are logged, and only for
-- the principals they are restricted to now — so a caller can never log a restriction that
-- did not happen; at most one access_restricted event per (node, principal) and transaction.
-- EXECUTE for crm_writer (the nodes' AFTER INSERT trigger runs as the member).
CREATE OR REPLACE FUNCTION crm_private.log_new_restrictions(p_node_ids uuid[], p_role name)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_nodes      uuid[];
    v_principals uuid[];
BEGIN
    SELECT array_agg(n.id), array_agg(x) INTO v_nodes, v_principals
      FROM crm.nodes n
     CROSS JOIN LATERAL unnest(n.restricted_to) AS x
     WHERE n.id = ANY (p_node_ids) AND n.created_at = now()
       AND NOT EXISTS (SELECT 1 FROM crm.event_participants p JOIN crm.events e ON e.id = p.event_id
                        WHERE p.node_id = n.id AND p.role = 'subject' AND e.event_type = 'access_restricted'
                          AND e.recorded_at = now() AND e.properties ->> 'principal' = x::text);
    RETURN crm_private.log_restriction_events(v_nodes, v_principals, true, p_role);
END;
$$;

COMMENT ON FUNCTION crm_private.log_new_restrictions(uuid[], name) IS
    'Audit: access_restricted for the restrictions of nodes created in this transaction (verified, never forged); for members.';
