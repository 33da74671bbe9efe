-- crm_private.code_sequence(p_prefix, p_yymm) — the sequence that numbers the codes of one
-- code prefix in one UTC month (crm.generate_crm_code, the bulk reconciliation): the relation
-- crm_private."code_<prefix>_<yymm>" (e.g. crm_private.code_opp_2403), created on first use.
-- Guarantees:
-- * one sequence per (prefix, month): nextval() on it never blocks and is never rolled back,
--   so concurrent code allocations do not wait for each other's commit (issue 16: with one
--   counter row locked until commit, creates serialised, and a writer's open transaction held
--   every other allocation of the month); numbers are unique and increasing within the month,
--   and a rolled-back call leaves a gap (as an auto-number does);
-- * only the first allocation of a (prefix, month) creates the sequence. Until that transaction
--   commits, a concurrent first allocation waits for it (the catalog's unique index); when the
--   creator commits, the waiter uses its sequence; when it rolls back, the waiter creates it.
--   The caller's lock_timeout bounds that one wait (55P03);
-- * never while crm_private.code_counters exists (migration 0030 rolled back: the counters
--   number the codes again, a new sequence would repeat them): 55000;
-- * p_prefix must be 2–5 capital letters and p_yymm four digits (22023): the name is built
--   only from them, quoted with %I, schema-qualified (no search_path or temp object is read);
-- * owned by crm_owner in crm_private (never granted); EXECUTE for nobody but crm_owner's
--   own functions.
CREATE OR REPLACE FUNCTION crm_private.code_sequence(p_prefix text, p_yymm text)
RETURNS regclass
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_name text;
    v_seq  regclass;
BEGIN
    IF p_prefix IS NULL OR p_prefix !~ '^[A-Z]{2,5}$' OR p_yymm IS NULL OR p_yymm !~ '^[0-9]{4}$' THEN
        RAISE EXCEPTION 'a code sequence needs a prefix of 2-5 capital letters and a YYMM month, not % and %',
                        coalesce(p_prefix, 'NULL'), coalesce(p_yymm, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    v_name := format('code_%s_%s', lower(p_prefix), p_yymm);
    v_seq := to_regclass(format('crm_private.%I', v_name));
    IF v_seq IS NULL THEN
        -- migration 0030 rolled back: its counters are the numbering again (the previous
        -- checkout's functions use them); a new sequence would start at 1 and repeat codes
        IF to_regclass('crm_private.code_counters') IS NOT NULL THEN
            RAISE EXCEPTION 'codes are numbered by crm_private.code_counters here (migration 0030 was rolled back)'
                USING ERRCODE = '55000',
                      HINT = 'run crm360 migrate (0030 carries the counters over to sequences), or apply the functions of the checkout the database was rolled back to';
        END IF;
        BEGIN
            EXECUTE format('CREATE SEQUENCE crm_private.%I AS bigint MINVALUE 1 NO CYCLE', v_name);
            EXECUTE format('COMMENT ON SEQUENCE crm_private.%I IS %L', v_name,
                           format('Numbers of the %s codes of UTC month %s (crm.generate_crm_code); created on first use by crm_private.code_sequence', p_prefix, p_yymm));
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;      -- created by a concurrent first allocation that committed meanwhile
        END;
        v_seq := format('crm_private.%I', v_name)::regclass;
    END IF;
    RETURN v_seq;
END;
$$;

REVOKE EXECUTE ON FUNCTION crm_private.code_sequence(text, text) FROM PUBLIC;

COMMENT ON FUNCTION crm_private.code_sequence(text, text) IS
    'The sequence numbering one code prefix''s codes in one UTC month (crm_private."code_<prefix>_<yymm>"), created on first use: allocations never wait for each other''s commit; a rolled-back allocation leaves a gap.';
