-- crm_private.assertion_lock(p_subject, p_assertion_type, p_key, p_role) — serialise the writers
-- of one assertion key (subject, type, key) until the end of the transaction.
-- Guarantees:
-- * takes crm_private.xact_lock('assertion/<subject>/<type>/<key>') — a key salted with
--   crm360's secret, so no other role can compute it — and nothing else (never crm360's other
--   locks: reconciliation);
-- * only for a caller who may write that assertion: p_role (the caller's current_user, trusted
--   only when the session may become it: crm_private.role_trusted) is an admin, may write the
--   subject node (crm_private.role_can_write_node) or the source node of the subject edge, or
--   holds a write grant on the assertion type. For anyone else nothing is taken — the write
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
AS $$
DECLARE
    v_id crm_private.identity;
BEGIN
    IF p_subject IS NULL OR p_assertion_type IS NULL THEN
        RETURN false;
    END IF;
    IF NOT (crm_private.role_is_admin(p_role)
            OR crm_private.role_can_write_node(p_role, p_subject)
            OR crm_private.role_can_write_node(p_role, (SELECT e.source_id FROM crm.edges e WHERE e.id = p_subject))) THEN
        v_id := crm_private.caller_identity(p_role);
        IF v_id.actor IS NULL
           OR NOT crm_private.type_grant_match(v_id.grants, 'assertion', 'write', p_assertion_type) THEN
            RETURN false;
        END IF;
    END IF;
    PERFORM crm_private.xact_lock(concat_ws('/', 'assertion', p_subject::text, p_assertion_type, coalesce(p_key, '')));
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm_private.assertion_lock(uuid, text, text, name) IS
    'Takes the transaction-level lock of one assertion key (subject, type, key) for a caller who may write that assertion (false, nothing taken, otherwise); writers use it through crm.supersede_assertion.';
