-- crm_private.require_writer_call(p_role, p_function) — may p_role make this write call at all?
-- The first check of crm360's SECURITY DEFINER write API (crm_private.advance_deal_stage_as,
-- create_opportunity_as, log_crm_activity_as), which receives the caller's role from the public
-- function (current_user) and writes as crm_owner.
-- Guarantees: returns only when p_role is a role the session may become (crm_private.
-- role_trusted), holds EXECUTE on p_function (the public function) and crm_writer's privileges —
-- what SET ROLE p_role and the call itself would require; 42501 "permission denied for function"
-- otherwise, so a role the session may become but that may not write (a reader it was granted)
-- lends the caller nothing.
CREATE OR REPLACE FUNCTION crm_private.require_writer_call(p_role name, p_function regprocedure)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT crm_private.role_trusted(p_role)
       OR NOT pg_catalog.has_function_privilege(p_role, p_function, 'EXECUTE')
       OR NOT pg_catalog.pg_has_role(p_role, 'crm_writer', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for function %',
                        (SELECT p.proname FROM pg_catalog.pg_proc p WHERE p.oid = p_function)
            USING ERRCODE = '42501';
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.require_writer_call(name, regprocedure) IS
    'Raises 42501 unless p_role is a role the session may become, with EXECUTE on p_function and crm_writer''s privileges (the first check of the SECURITY DEFINER write API).';
