-- crm.generate_crm_code(p_prefix, p_at) — the next human-readable code {PREFIX}-{YYMM}-{SEQ}
-- (seed 001 §3.1).
-- Guarantees: SEQ comes from one sequence per (prefix, UTC month)
-- (crm_private.code_sequence), so concurrent callers get distinct numbers, increasing within
-- the month, without waiting for each other's commit (a writer's open transaction holds
-- nobody up; issue 16); a rolled-back call leaves a gap, as an auto-number does (codes name
-- records, they are not invoice numbers); the month is the UTC month of p_at; SEQ is
-- zero-padded to 4 digits and never truncated (the 10,000th code of a month ends in -10000).
-- Prefixes are the node types' code_prefix values (OPP, CON, ORG, CMP, TER), matched exactly.
-- SECURITY DEFINER: the sequences live in crm_private, which is never granted to users.
-- Writers only (EXECUTE): a reader cannot burn codes. Only the first code of a prefix-month
-- creates its sequence; a concurrent first call waits for that transaction at most 5 s
-- (lock_timeout) and gets 55P03.
CREATE OR REPLACE FUNCTION crm.generate_crm_code(p_prefix text, p_at timestamptz DEFAULT now())
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- the first code of a prefix-month creates its sequence: a concurrent first call waits for
-- that transaction at most this long, then fails with 55P03 (retry) — never hangs
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
    IF p_at IS NULL OR NOT isfinite(p_at) THEN
        RAISE EXCEPTION 'p_at must be a finite timestamp, not %', coalesce(p_at::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'the code''s month is the UTC month of p_at (default now())';
    END IF;
    v_yymm := to_char(p_at AT TIME ZONE 'UTC', 'YYMM');

    v_n := nextval(crm_private.code_sequence(p_prefix, v_yymm));

    RETURN format('%s-%s-%s', p_prefix, v_yymm, lpad(v_n::text, greatest(4, length(v_n::text)), '0'));
END;
$$;

REVOKE EXECUTE ON FUNCTION crm.generate_crm_code(text, timestamptz) FROM PUBLIC;

COMMENT ON FUNCTION crm.generate_crm_code(text, timestamptz) IS
$c$Return the next code {PREFIX}-{YYMM}-{SEQ} for a node type's prefix (OPP, CON, ORG, CMP, TER) in the UTC month of p_at (default now). Guarantees: unique per prefix and month and increasing within it under concurrency, without waiting for other callers' commits (one sequence per prefix-month); a rolled-back call leaves a gap, as an auto-number does; SEQ is at least 4 digits and never truncated (…-10000). Errors: 22023 unknown prefix (hint lists the known ones) or a NULL or infinite p_at; 55P03 the first code of a prefix-month waited 5 s for a concurrent first call's transaction (retry). Example: SELECT crm.generate_crm_code('OPP');  -- OPP-2403-0042$c$;
