-- 0030 Codes without a lock held to commit (issue 16 item 1): crm.generate_crm_code numbered
-- each prefix-month from one counter row in crm_private.code_counters, locked until commit
-- (gap-free), so concurrent creates serialised — 8 clients created fewer opportunities per
-- second than one — and a writer's open transaction held every other allocation of the month
-- (55P03 after 5 s). Each (prefix, UTC month) now has its own sequence,
-- crm_private."code_<prefix>_<yymm>", created on first use by crm_private.code_sequence:
-- numbers are unique and increasing within the month, and a rolled-back call leaves a gap.
-- This migration carries every counter over (the sequence continues after its last number)
-- and drops the counter table. Safe to run twice: a sequence that exists already keeps the
-- larger of its own position and the counter's.
SET LOCAL lock_timeout = '5s';

DO $$
DECLARE
    r      record;
    v_name text;
    v_seq  regclass;
BEGIN
    IF to_regclass('crm_private.code_counters') IS NULL THEN
        RETURN;
    END IF;
    -- no allocation by the previous functions between reading a counter and dropping the table
    -- (one in flight is waited for, lock_timeout permitting, and then carried over)
    LOCK TABLE crm_private.code_counters IN EXCLUSIVE MODE;
    FOR r IN SELECT c.prefix, c.yymm, c.n FROM crm_private.code_counters c ORDER BY 1, 2 LOOP
        v_name := format('code_%s_%s', lower(r.prefix), r.yymm);
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS crm_private.%I AS bigint MINVALUE 1 NO CYCLE', v_name);
        EXECUTE format('COMMENT ON SEQUENCE crm_private.%I IS %L', v_name,
                       format('Numbers of the %s codes of UTC month %s (crm.generate_crm_code); created on first use by crm_private.code_sequence', r.prefix, r.yymm));
        v_seq := format('crm_private.%I', v_name)::regclass;
        PERFORM pg_catalog.setval(v_seq, greatest(r.n, coalesce(pg_catalog.pg_sequence_last_value(v_seq), 0)), true);
    END LOOP;
    DROP TABLE crm_private.code_counters;
END
$$;
