-- crm.act_as(p_user_id) — a pooled service acts for a user for the rest of THIS transaction.
-- Guarantees: only members of crm_service (42501 otherwise); the user must be a live user
-- node (P0002); the identity is transaction-local (set_config(..., true)) and additionally
-- bound to the transaction id, so it never leaks into the next transaction of a pooled
-- connection.
CREATE OR REPLACE FUNCTION crm.act_as(p_user_id uuid)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'crm_service', 'MEMBER') THEN
        RAISE EXCEPTION 'only a crm_service role may act for another user'
            USING ERRCODE = '42501',
                  HINT = 'map your login to a CRM user (crm.map_login) instead, or GRANT crm_service to the pooled service role';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n
                    WHERE n.id = p_user_id AND n.node_type = 'user' AND n.archived_at IS NULL) THEN
        RAISE EXCEPTION 'user % does not exist or is archived', p_user_id USING ERRCODE = 'P0002';
    END IF;
    PERFORM set_config('crm.act_as_user', p_user_id::text, true);
    PERFORM set_config('crm.act_as_xid', pg_catalog.pg_current_xact_id()::text, true);
    RETURN p_user_id;
END;
$$;

COMMENT ON FUNCTION crm.act_as(uuid) IS
$c$For pooled services (members of crm_service): act as the given CRM user until the end of the current transaction. Call it first in every transaction. Errors: 42501 caller is not crm_service, P0002 unknown/archived user. Example: BEGIN; SELECT crm.act_as('<user uuid>'); SELECT * FROM crm.opportunities_active; COMMIT;$c$;
