-- crm_private.tg_chunks__acl() — BEFORE INSERT OR UPDATE OF acl, event_id, node_id trigger on
-- crm.chunks: the one place a chunk's acl copy is computed.
-- Guarantees: NEW.acl := the acl of the chunk's source — the event's when event_id is set
-- ('{}' when the event has no participants yet: admins only), else the node's (NULL when
-- the node is not access-checked) — whatever the writer put there, so the copy can be
-- neither forgotten nor forged; ACL maintenance (crm_private.propagate_acl,
-- refresh_event_acl) rewrites it when the source's acl changes, and is trusted (only
-- crm360's own code, as the schema owner, can be in ACL maintenance: crm_private.acl_maintenance).
-- Reads the source as the writer (only crm_owner writes chunks).
CREATE OR REPLACE FUNCTION crm_private.tg_chunks__acl()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- ACL maintenance writes the new acl in the statement that also changes the source's
    -- (crm_private.refresh_event_acl), whose new value this trigger could not read yet
    IF TG_OP = 'UPDATE' AND crm_private.acl_maintenance() THEN
        RETURN NEW;
    END IF;
    IF NEW.event_id IS NOT NULL THEN
        NEW.acl := coalesce((SELECT e.acl FROM crm.events e WHERE e.id = NEW.event_id), '{}');
    ELSE
        NEW.acl := (SELECT n.acl FROM crm.nodes n WHERE n.id = NEW.node_id);
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_chunks__acl() IS
    'Trigger: sets crm.chunks.acl to the acl of the chunk''s source (event, else node) on every insert and on updates of acl, event_id or node_id.';

CREATE OR REPLACE TRIGGER tg_chunks__acl
    BEFORE INSERT OR UPDATE OF acl, event_id, node_id ON crm.chunks
    FOR EACH ROW
    EXECUTE FUNCTION crm_private.tg_chunks__acl();
