-- crm_private.tg_nodes__after_insert() — AFTER INSERT (statement) on crm.nodes.
-- Guarantees: a node created with restrictions is logged like a later restriction
-- (access_restricted, one event per node and principal) — every restriction is audited.
-- SECURITY DEFINER (a trigger function cannot be called directly): the events describe the
-- rows the statement inserted; the actor is the CRM user of the session's login.
CREATE OR REPLACE FUNCTION crm_private.tg_nodes__after_insert()
RETURNS trigger
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
      FROM new_rows n CROSS JOIN LATERAL unnest(n.restricted_to) AS x
     WHERE cardinality(n.restricted_to) > 0;
    IF v_nodes IS NOT NULL THEN
        PERFORM crm_private.log_restriction_events(v_nodes, v_principals, true, session_user);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_nodes__after_insert() IS
    'Trigger: logs access_restricted for nodes created with restrictions.';

CREATE OR REPLACE TRIGGER tg_nodes__after_insert
    AFTER INSERT ON crm.nodes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_nodes__after_insert();
