-- crm_private.tg_segment_memberships__audit() — AFTER INSERT / AFTER UPDATE (statement,
-- transition tables) on crm.segment_memberships.
-- Guarantees: one segment_joined event per membership a statement opened and one
-- segment_left per membership it closed — derived from the rows really changed (write scope
-- system: nobody logs a change that did not happen); subject the customer (the only
-- participant); properties segment, segment_id, reason. Set-based (crm_private.write_customer_events). SECURITY DEFINER
-- (a trigger function cannot be called directly).
CREATE OR REPLACE FUNCTION crm_private.tg_segment_memberships__audit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
SET enable_nestloop = off
AS $$
DECLARE
    v_types text[];
    v_nodes uuid[];
    v_props jsonb[];
    v_sums  text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg('segment_joined'::text), array_agg(n.node_id),
               array_agg(jsonb_build_object('segment', s.label, 'segment_id', s.id, 'reason', n.entered_reason)),
               array_agg('Joined segment ' || s.label)
          INTO v_types, v_nodes, v_props, v_sums
          FROM new_rows n JOIN crm.nodes s ON s.id = n.segment_id;
    ELSE
        SELECT array_agg('segment_left'::text), array_agg(n.node_id),
               array_agg(jsonb_build_object('segment', s.label, 'segment_id', s.id, 'reason', n.left_reason)),
               array_agg('Left segment ' || s.label)
          INTO v_types, v_nodes, v_props, v_sums
          FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN crm.nodes s ON s.id = n.segment_id
         WHERE o.left_at IS NULL AND n.left_at IS NOT NULL;
    END IF;
    IF v_types IS NOT NULL THEN
        -- one participant (the customer): the segment is named in the properties. A refresh can
        -- write hundreds of thousands of these; a second participant row each doubled what
        -- last-activity filters have to read past (measured: benchmarks/RESULTS.md)
        PERFORM crm_private.write_customer_events(v_types, v_nodes, v_props, v_sums);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_segment_memberships__audit() IS
    'Trigger: logs segment_joined / segment_left for the memberships a statement opened or closed.';

CREATE OR REPLACE TRIGGER tg_segment_memberships__audit_insert
    AFTER INSERT ON crm.segment_memberships
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_segment_memberships__audit();
CREATE OR REPLACE TRIGGER tg_segment_memberships__audit_update
    AFTER UPDATE ON crm.segment_memberships
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_segment_memberships__audit();
