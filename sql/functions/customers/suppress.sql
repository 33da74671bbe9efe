-- crm.suppress(p_person, p_reason, p_until) — stop all outreach to a customer (seed 002
-- "Exit — Suppress"; the do_not_contact assertion of seed 001): reason, by whom, until when.
-- Guarantees: the caller may write the customer (42501; the same for hidden and missing);
-- the reason is not blank (22023); p_until is a future date or NULL (forever; 22023 for a
-- past date); a do_not_contact assertion {reason, set_by (the acting user or login),
-- expires} supersedes the current one (history kept). While suppressed, crm.pick_channel
-- returns nothing and outreach segments (purpose outreach) exclude the customer at their next
-- refresh; the customer is never deleted. Returns the assertion id.
CREATE OR REPLACE FUNCTION crm.suppress(p_person uuid, p_reason text, p_until date DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_person IS NULL OR NOT crm_private.can_write_node(p_person)
       OR NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_person AND n.node_type = 'person') THEN
        RAISE EXCEPTION 'customer % does not exist or you may not write it', p_person
            USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'a suppression needs a reason' USING ERRCODE = '22023';
    END IF;
    IF p_until IS NOT NULL AND p_until <= (now() AT TIME ZONE 'UTC')::date THEN
        RAISE EXCEPTION 'p_until (%) is not in the future', p_until
            USING ERRCODE = '22023', HINT = 'pass a future date, or NULL to suppress until lifted';
    END IF;
    RETURN crm.supersede_assertion(NULL, 'do_not_contact', p_person, NULL,
               jsonb_strip_nulls(jsonb_build_object('reason', btrim(p_reason),
                                                    'set_by', coalesce(crm.current_actor()::text, session_user::text),
                                                    'expires', p_until::text, 'lifted', false)));
END;
$$;

COMMENT ON FUNCTION crm.suppress(uuid, text, date) IS
$c$Suppress a customer (seed 002 Exit — Suppress; seed 001 do_not_contact): no channel is picked for outreach and outreach segments drop them at their next refresh, until p_until (NULL = until lifted with crm.unsuppress). History kept. Returns the assertion id. Errors: 42501 not writable for you (or hidden/missing), 22023 blank reason or p_until not in the future. Example: SELECT crm.suppress('<person uuid>', 'asked not to be contacted', NULL);$c$;
