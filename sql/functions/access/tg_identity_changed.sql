-- crm_private.tg_identity_changed() — AFTER ROW on crm.logins, crm.access_grants, member_of
-- edges and user/team nodes (and AFTER TRUNCATE on logins and grants). Guarantees: advances crm_private.identity_epoch (not
-- transactional: a rollback does not undo it) after every change that can change someone's
-- actor, principals or grants, so every identity cached before it
-- (crm_private.caller_identity) is invalid from the next lookup on — in this transaction
-- at once. Fires for everyone, crm360's own statements and bulk modes included.
-- SECURITY DEFINER (callers have no privilege on the sequence).
CREATE OR REPLACE FUNCTION crm_private.tg_identity_changed()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
BEGIN
    PERFORM pg_catalog.nextval('crm_private.identity_epoch'::pg_catalog.regclass);
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_identity_changed() IS
    'Trigger: advances crm_private.identity_epoch, invalidating every cached identity (logins, grants, member_of edges, user/team nodes changed).';

CREATE OR REPLACE TRIGGER tg_logins__identity_changed
    AFTER INSERT OR UPDATE OR DELETE ON crm.logins
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_identity_changed();
CREATE OR REPLACE TRIGGER tg_access_grants__identity_changed
    AFTER INSERT OR UPDATE OR DELETE ON crm.access_grants
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_identity_changed();
-- TRUNCATE (crm_owner or a superuser; nodes and edges refuse it) empties them without row triggers
CREATE OR REPLACE TRIGGER tg_logins__identity_truncated
    AFTER TRUNCATE ON crm.logins
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_identity_changed();
CREATE OR REPLACE TRIGGER tg_access_grants__identity_truncated
    AFTER TRUNCATE ON crm.access_grants
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_identity_changed();
CREATE OR REPLACE TRIGGER tg_edges__identity_changed_ins
    AFTER INSERT ON crm.edges
    FOR EACH ROW WHEN (NEW.edge_type = 'member_of') EXECUTE FUNCTION crm_private.tg_identity_changed();
CREATE OR REPLACE TRIGGER tg_edges__identity_changed_upd
    AFTER UPDATE ON crm.edges
    FOR EACH ROW WHEN (OLD.edge_type = 'member_of' OR NEW.edge_type = 'member_of')
    EXECUTE FUNCTION crm_private.tg_identity_changed();
CREATE OR REPLACE TRIGGER tg_edges__identity_changed_del
    AFTER DELETE ON crm.edges
    FOR EACH ROW WHEN (OLD.edge_type = 'member_of') EXECUTE FUNCTION crm_private.tg_identity_changed();
CREATE OR REPLACE TRIGGER tg_nodes__identity_changed_ins
    AFTER INSERT ON crm.nodes
    FOR EACH ROW WHEN (NEW.node_type IN ('user', 'team')) EXECUTE FUNCTION crm_private.tg_identity_changed();
CREATE OR REPLACE TRIGGER tg_nodes__identity_changed_upd
    AFTER UPDATE ON crm.nodes
    FOR EACH ROW WHEN (OLD.node_type IN ('user', 'team') OR NEW.node_type IN ('user', 'team'))
    EXECUTE FUNCTION crm_private.tg_identity_changed();
CREATE OR REPLACE TRIGGER tg_nodes__identity_changed_del
    AFTER DELETE ON crm.nodes
    FOR EACH ROW WHEN (OLD.node_type IN ('user', 'team')) EXECUTE FUNCTION crm_private.tg_identity_changed();
