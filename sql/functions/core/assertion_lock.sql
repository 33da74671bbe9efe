-- crm_private.assertion_lock(p_subject, p_assertion_type, p_key, p_role) — serialise the writers
-- of one assertion key (subject, type, key) until the end of the transaction.
-- Guarantees:
-- * takes crm_private.xact_lock('assertion/<subject>/<type>/<key>') — a key salted with
--   crm360's secret, so no other role can compute it — and nothing else (never crm360's other
--   locks: reconciliation);
-- * only for a caller who may write that assertion: p_role (the caller's current_user, trusted
--   only when the session may become it: crm_private.role_trusted) is an admin, may write the
--   subject node (crm_private.role_can_write_node's rule) or the source node of the subject
--   edge, or holds a write grant on the assertion type and sees the subject. For anyone else nothing is taken — the write
--   that would follow is refused by the assertions policy anyway — so a writer cannot hold the
--   lock of another team's deal and stall its writers (review of issue 11, N2);
-- * returns whether the lock was taken. EXECUTE for crm_writer (crm.supersede_assertion).
CREATE OR REPLACE FUNCTION crm_private.assertion_lock(p_subject uuid, p_assertion_type text, p_key text,
                                                      p_role name DEFAULT current_user)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- one plan for every call: left to choose, the plan cache re-planned this statement on every
-- call (~0.17 ms, 7 % of an advance_deal_stage); the generic plan is the primary-key lookup
SET plan_cache_mode = 'force_generic_plan'
AS $$
DECLARE
    v_admin boolean;
    v_id    crm_private.identity;
BEGIN
    IF p_subject IS NULL OR p_assertion_type IS NULL THEN
        RETURN false;
    END IF;
    v_admin := crm_private.role_is_admin(p_role);   -- false for a role the session may not become
    IF NOT v_admin THEN
        -- the caller's identity once (crm_private.caller_identity: nothing for an untrusted
        -- role), then crm_private.role_can_write_node's rule for the subject node, or for the
        -- source node of the subject edge, or a write grant on the assertion type
        v_id := crm_private.caller_identity(p_role);
        IF v_id.actor IS NULL OR NOT pg_catalog.pg_has_role(p_role, 'crm_writer', 'USAGE') OR NOT (
               EXISTS (SELECT 1 FROM crm.nodes n JOIN crm.node_types t ON t.node_type = n.node_type
                        WHERE n.id IN (p_subject, (SELECT e.source_id FROM crm.edges e WHERE e.id = p_subject))
                          AND t.write_scope = 'member'
                          AND crm_private.node_write_rule(n.acl, n.claimed_by, n.node_type, n.attrs, false,
                                                          v_id.actor, v_id.principals, v_id.grants))
               -- a write grant on the type reaches only subjects the caller sees (third review,
               -- F3: it must not lock the deals of teams the grant holder cannot see)
               OR (crm_private.type_grant_match(v_id.grants, 'assertion', 'write', p_assertion_type)
                   AND EXISTS (SELECT 1 FROM crm.nodes n
                                WHERE n.id IN (p_subject, (SELECT e.source_id FROM crm.edges e WHERE e.id = p_subject))
                                  AND (n.acl IS NULL OR n.acl && v_id.principals
                                       OR crm_private.node_grant_match(v_id.grants, 'read', n.node_type, n.attrs, n.acl))))) THEN
            RETURN false;
        END IF;
    END IF;
    PERFORM crm_private.xact_lock(crm_private.assertion_lock_key(p_subject, p_assertion_type, p_key));
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm_private.assertion_lock(uuid, text, text, name) IS
    'Takes the transaction-level lock of one assertion key (subject, type, key) for a caller who may write that assertion (false, nothing taken, otherwise); writers use it through crm.supersede_assertion.';
