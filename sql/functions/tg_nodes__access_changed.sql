-- crm_private.tg_nodes__access_changed() — AFTER UPDATE (statement, transition tables) on crm.nodes.
-- Guarantees: when a node's restrictions, claimer or type change, its effective ACL and that
-- of every owned_by descendant is recomputed in the same transaction (and copied onto its
-- edges, events, assertions, artifacts); every restriction added or removed is logged as an
-- access_restricted / access_unrestricted event (audit, seed 000 "Audit regularly").
CREATE OR REPLACE FUNCTION crm_private.tg_nodes__access_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
-- transition tables carry no statistics: never let old_rows x new_rows become a nested loop
SET enable_nestloop = off
AS $$
DECLARE
    v_ids uuid[];
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
    PERFORM crm_private.log_access_event(
        CASE WHEN ch.added THEN 'access_restricted' ELSE 'access_unrestricted' END,
        format('%s %s %s %s', CASE WHEN ch.added THEN 'Restricted' ELSE 'Unrestricted' END,
               ch.label, CASE WHEN ch.added THEN 'to' ELSE 'from' END, coalesce(p.label, ch.principal::text)),
        jsonb_build_object('principal', ch.principal, 'principal_type', p.node_type),
        ARRAY[ch.id, ch.principal])
      FROM (SELECT n.id, n.label, x AS principal, true AS added
              FROM new_rows n JOIN old_rows o ON o.id = n.id, unnest(n.restricted_to) x
             WHERE NOT (x = ANY (o.restricted_to))
            UNION ALL
            SELECT n.id, n.label, x, false
              FROM new_rows n JOIN old_rows o ON o.id = n.id, unnest(o.restricted_to) x
             WHERE NOT (x = ANY (n.restricted_to))) ch
      LEFT JOIN crm.nodes p ON p.id = ch.principal;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_nodes__access_changed() IS
    'Trigger: recomputes the effective ACL of nodes whose restrictions/claimer/type changed (and their descendants); logs restriction changes.';

CREATE OR REPLACE TRIGGER tg_nodes__access_changed
    AFTER UPDATE ON crm.nodes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_nodes__access_changed();
