-- crm_private.tg_node_tags__audit() — AFTER INSERT / AFTER UPDATE (statement, transition
-- tables) on crm.node_tags.
-- Guarantees: one tag_added event per row a statement opened and one tag_removed event per
-- row it closed (derived from the rows really changed: nobody can log a tag change that did
-- not happen, tag_* have write scope system), subject the tagged node, properties tag and
-- tag_id; written set-based by crm_private.write_customer_events. SECURITY DEFINER (a trigger
-- function cannot be called directly).
CREATE OR REPLACE FUNCTION crm_private.tg_node_tags__audit()
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
        SELECT array_agg('tag_added'::text), array_agg(n.node_id),
               array_agg(jsonb_build_object('tag', t.name, 'tag_id', t.id)), array_agg('Tagged ' || t.name)
          INTO v_types, v_nodes, v_props, v_sums
          FROM new_rows n JOIN crm.tags t ON t.id = n.tag_id;
    ELSE
        SELECT array_agg('tag_removed'::text), array_agg(n.node_id),
               array_agg(jsonb_build_object('tag', t.name, 'tag_id', t.id)), array_agg('Untagged ' || t.name)
          INTO v_types, v_nodes, v_props, v_sums
          FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN crm.tags t ON t.id = n.tag_id
         WHERE o.removed_at IS NULL AND n.removed_at IS NOT NULL;
    END IF;
    IF v_types IS NOT NULL THEN
        PERFORM crm_private.write_customer_events(v_types, v_nodes, v_props, v_sums);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_node_tags__audit() IS
    'Trigger: logs tag_added / tag_removed for the tag rows a statement opened or closed.';

CREATE OR REPLACE TRIGGER tg_node_tags__audit_insert
    AFTER INSERT ON crm.node_tags
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_node_tags__audit();
CREATE OR REPLACE TRIGGER tg_node_tags__audit_update
    AFTER UPDATE ON crm.node_tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_node_tags__audit();
