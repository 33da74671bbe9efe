-- crm.generate_crm_code(p_prefix, p_at) — the next human-readable code {PREFIX}-{YYMM}-{SEQ}
-- (seed 001 §3.1).
-- Guarantees: one counter row per (prefix, UTC month) in crm_private.code_counters,
-- incremented with INSERT ... ON CONFLICT DO UPDATE ... RETURNING, so concurrent callers
-- get distinct consecutive numbers (the row lock is held until commit) and a rolled-back
-- call burns no number; the month is the UTC month of p_at; SEQ is zero-padded to 4 digits
-- and never truncated (the 10,000th code of a month ends in -10000). Prefixes are the
-- node types' code_prefix values (OPP, CON, ORG, CMP, TER), matched exactly.
-- SECURITY DEFINER: the counters live in crm_private, which is never granted to users.
-- Writers only (EXECUTE): a reader can neither burn codes nor hold a counter. A writer whose
-- transaction stays open after allocating a code holds that prefix-month's counter (gap-free
-- codes serialise until commit); the others wait at most 5 s (lock_timeout) and get 55P03.
CREATE OR REPLACE FUNCTION crm.generate_crm_code(p_prefix text, p_at timestamptz DEFAULT now())
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- a writer holding a counter row (its transaction open after allocating a code) makes the
-- others wait at most this long, then fail with 55P03 (retry) — never hang
SET lock_timeout = '5s'
AS $$
DECLARE
    v_yymm text;
    v_n    bigint;
BEGIN
    IF p_prefix IS NULL OR NOT EXISTS (SELECT 1 FROM crm.node_types t WHERE t.code_prefix = p_prefix) THEN
        RAISE EXCEPTION 'unknown code prefix "%"', p_prefix
            USING ERRCODE = '22023',
                  DETAIL = 'code prefixes are registered in crm.node_types.code_prefix',
                  HINT = 'known prefixes: ' ||
                         (SELECT string_agg(t.code_prefix, ', ' ORDER BY t.code_prefix)
                            FROM crm.node_types t WHERE t.code_prefix IS NOT NULL);
    END IF;
    IF p_at IS NULL THEN
        RAISE EXCEPTION 'p_at must not be NULL' USING ERRCODE = '22023';
    END IF;
    v_yymm := to_char(p_at AT TIME ZONE 'UTC', 'YYMM');

    INSERT INTO crm_private.code_counters AS c (prefix, yymm, n)
    VALUES (p_prefix, v_yymm, 1)
    ON CONFLICT (prefix, yymm) DO UPDATE SET n = c.n + 1, updated_at = now()
    RETURNING c.n INTO v_n;

    RETURN format('%s-%s-%s', p_prefix, v_yymm, lpad(v_n::text, greatest(4, length(v_n::text)), '0'));
END;
$$;

REVOKE EXECUTE ON FUNCTION crm.generate_crm_code(text, timestamptz) FROM PUBLIC;

COMMENT ON FUNCTION crm.generate_crm_code(text, timestamptz) IS
$c$Return the next code {PREFIX}-{YYMM}-{SEQ} for a node type's prefix (OPP, CON, ORG, CMP, TER) in the UTC month of p_at (default now). Guarantees: gap-free and unique per prefix and month under concurrency (one counter row per prefix-month, locked until commit); a rolled-back call burns no number; SEQ is at least 4 digits and never truncated (…-10000). Errors: 22023 unknown prefix (hint lists the known ones) or NULL p_at; 55P03 another transaction has held the counter for 5 s (retry). Example: SELECT crm.generate_crm_code('OPP');  -- OPP-2403-0042$c$;
