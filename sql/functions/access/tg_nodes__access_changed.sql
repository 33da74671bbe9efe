-- crm_private.tg_nodes__access_changed() — AFTER UPDATE (statement, transition tables) on crm.nodes.
-- Guarantees: when a node's restrictions, claimer or type change, its effective ACL and that
-- of every owned_by descendant is recomputed in the same transaction (and copied onto its
-- edges, events, assertions, artifacts); every restriction added or removed is logged as an
-- access_restricted / access_unrestricted event (audit, seed 000 "Audit regularly").
-- SECURITY DEFINER (a trigger function cannot be called directly): the audit events are
-- written by crm360 from the rows the statement changed, never by a callable function a
-- caller could feed; the actor is the CRM user of the session's login (crm_private.actor_of
-- (session_user): a pooled service's act_as user), else the login.
CREATE OR REPLACE FUNCTION crm_private.tg_nodes__access_changed()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- transition tables carry no statistics: never let old_rows x new_rows become a nested loop
SET enable_nestloop = off
AS $$
DECLARE
    v_ids        uuid[];
    v_nodes      uuid[];
    v_principals uuid[];
BEGIN
    SELECT array_agg(n.id) INTO v_ids
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.restricted_to IS DISTINCT FROM o.restricted_to
        OR n.claimed_by IS DISTINCT FROM o.claimed_by
        OR n.node_type IS DISTINCT FROM o.node_type;
    IF v_ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM crm_private.recompute_acl(v_ids);
    SELECT array_agg(n.id), array_agg(x) INTO v_nodes, v_principals
      FROM new_rows n JOIN old_rows o ON o.id = n.id, unnest(n.restricted_to) x
     WHERE n.id = ANY (v_ids) AND NOT (x = ANY (o.restricted_to));
    -- (only admins and crm360 change restrictions: crm_private.tg_nodes__validate)
    IF v_nodes IS NOT NULL THEN
        PERFORM crm_private.log_restriction_events(v_nodes, v_principals, true, session_user);
    END IF;
    SELECT array_agg(n.id), array_agg(x) INTO v_nodes, v_principals
      FROM new_rows n JOIN old_rows o ON o.id = n.id, unnest(o.restricted_to) x
     WHERE n.id = ANY (v_ids) AND NOT (x = ANY (n.restricted_to));
    IF v_nodes IS NOT NULL THEN
        PERFORM crm_private.log_restriction_events(v_nodes, v_principals, false, session_user);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_nodes__access_changed() IS
    'Trigger: recomputes the effective ACL of nodes whose restrictions/claimer/type changed (and their descendants); logs restriction changes.';

CREATE OR REPLACE TRIGGER tg_nodes__access_changed
    AFTER UPDATE ON crm.nodes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_nodes__access_changed();
