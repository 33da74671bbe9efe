-- crm_private.tg_nodes__after_insert() — AFTER INSERT (statement) on crm.nodes.
-- Guarantees: a node created with restrictions is logged like a later restriction
-- (access_restricted, one event per node and principal) — every restriction is audited.
CREATE OR REPLACE FUNCTION crm_private.tg_nodes__after_insert()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    PERFORM crm_private.log_access_event('access_restricted',
                format('Restricted %s to %s', n.label, coalesce(p.label, x::text)),
                jsonb_build_object('principal', x, 'principal_type', p.node_type, 'at_creation', true),
                ARRAY[n.id, x])
       FROM new_rows n
       CROSS JOIN LATERAL unnest(n.restricted_to) AS x
       LEFT JOIN crm.nodes p ON p.id = x
      WHERE cardinality(n.restricted_to) > 0;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_nodes__after_insert() IS
    'Trigger: logs access_restricted for nodes created with restrictions.';

CREATE OR REPLACE TRIGGER tg_nodes__after_insert
    AFTER INSERT ON crm.nodes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_nodes__after_insert();
