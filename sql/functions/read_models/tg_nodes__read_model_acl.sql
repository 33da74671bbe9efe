-- crm_private.tg_nodes__read_model_acl() — AFTER UPDATE / AFTER DELETE (row) on crm.nodes, for
-- opportunities and people only (the types whose rows crm_private.opportunities_active_mv
-- and crm_private.contacts_directory_mv store with their acl, row_acl).
-- Guarantees: every change of such a node's acl or type, and every deletion, leaves a row in
-- crm_private.read_model_acl_changes (node, type before, acl written, removed) in the same
-- transaction, and a change of another node's type to one of them a row for the new type
-- (not removed: the prune then drops the node's older rows once the stored copy holds it, so
-- toggling a type away and back leaves nothing behind); so a committed change is never invisible to a reader that sees the node: the
-- wrappers crm.opportunities_active and crm.contacts_directory trust a stored row_acl only for
-- nodes without such a row and let the live node decide for the others. The trigger's WHEN
-- compares the row itself (not the UPDATE's column list: the nodes' BEFORE trigger rewrites
-- acl from restrictions and claims). It reads no setting; no caller can skip it (disabling a
-- trigger needs the table's owner; session_replication_role needs a superuser). A failed
-- insert fails the caller's statement. SECURITY DEFINER: the table is crm_owner's.
-- The rows are pruned by crm_private.refresh_read_model once the stored row reflects them.
CREATE OR REPLACE FUNCTION crm_private.tg_nodes__read_model_acl()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO crm_private.read_model_acl_changes (node_id, node_type, acl, removed)
        VALUES (OLD.id, OLD.node_type, OLD.acl, true);
    ELSE
        IF OLD.node_type IN ('opportunity', 'person') THEN
            INSERT INTO crm_private.read_model_acl_changes (node_id, node_type, acl, removed)
            VALUES (NEW.id, OLD.node_type, NEW.acl, NEW.node_type IS DISTINCT FROM OLD.node_type);
        END IF;
        -- the type it became (seq after the removal above: the node's last change)
        IF NEW.node_type IS DISTINCT FROM OLD.node_type AND NEW.node_type IN ('opportunity', 'person') THEN
            INSERT INTO crm_private.read_model_acl_changes (node_id, node_type, acl, removed)
            VALUES (NEW.id, NEW.node_type, NEW.acl, false);
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_nodes__read_model_acl() IS
    'Trigger: logs each change of the acl or type (to or from opportunity/person), and each deletion, of an opportunity or a person in crm_private.read_model_acl_changes (the stored read models'' acls are trusted only for nodes without such a row).';

CREATE OR REPLACE TRIGGER tg_nodes__read_model_acl
    AFTER UPDATE ON crm.nodes
    FOR EACH ROW
    WHEN ((OLD.node_type IN ('opportunity', 'person') AND OLD.acl IS DISTINCT FROM NEW.acl)
          OR (OLD.node_type IS DISTINCT FROM NEW.node_type
              AND (OLD.node_type IN ('opportunity', 'person') OR NEW.node_type IN ('opportunity', 'person'))))
    EXECUTE FUNCTION crm_private.tg_nodes__read_model_acl();

CREATE OR REPLACE TRIGGER tg_nodes__read_model_acl_delete
    AFTER DELETE ON crm.nodes
    FOR EACH ROW
    WHEN (OLD.node_type IN ('opportunity', 'person'))
    EXECUTE FUNCTION crm_private.tg_nodes__read_model_acl();
