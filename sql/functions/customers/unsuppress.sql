-- crm.unsuppress(p_person, p_reason) — lift a customer's suppression.
-- Guarantees: the caller may write the customer (42501); when suppressed, the do_not_contact
-- assertion is superseded by one with lifted = true and the reason (history kept) and true is
-- returned; when not suppressed nothing changes and false is returned.
CREATE OR REPLACE FUNCTION crm.unsuppress(p_person uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_person IS NULL OR NOT crm_private.can_write_node(p_person) THEN
        RAISE EXCEPTION 'customer % does not exist or you may not write it', p_person
            USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
    END IF;
    IF NOT crm_private.is_suppressed(p_person) THEN
        RETURN false;
    END IF;
    PERFORM crm.supersede_assertion(NULL, 'do_not_contact', p_person, NULL,
                jsonb_build_object('reason', coalesce(nullif(btrim(p_reason), ''), 'lifted'),
                                   'set_by', coalesce(crm.current_actor()::text, session_user::text),
                                   'lifted', true));
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.unsuppress(uuid, text) IS
$c$Lift a customer's suppression (do_not_contact superseded with lifted = true; history kept). Returns false when the customer was not suppressed. Errors: 42501 not writable for you (or hidden/missing). Example: SELECT crm.unsuppress('<person uuid>', 'opted in again');$c$;
