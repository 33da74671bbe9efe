-- Undo 0030: the counter table comes back with one row per code sequence (its last number;
-- the previous checkout's crm.generate_crm_code counts from there) and the sequences go.
SET LOCAL lock_timeout = '5s';

CREATE TABLE IF NOT EXISTS crm_private.code_counters (
    prefix     text NOT NULL CHECK (prefix ~ '^[A-Z]{2,5}$'),
    yymm       text NOT NULL CHECK (yymm ~ '^[0-9]{4}$'),
    n          bigint NOT NULL CHECK (n > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (prefix, yymm)
);
COMMENT ON TABLE crm_private.code_counters IS
    'One counter row per code prefix and UTC month for crm.generate_crm_code: n is the last number handed out. Incremented with INSERT ... ON CONFLICT DO UPDATE, so numbers are gap-free and a rolled-back call burns nothing.';
COMMENT ON COLUMN crm_private.code_counters.yymm IS 'UTC year and month of the codes (YYMM), as in OPP-2403-0042';
COMMENT ON COLUMN crm_private.code_counters.n IS 'The last sequence number issued for this prefix and month';
REVOKE ALL ON crm_private.code_counters FROM PUBLIC;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS seq, upper(m[1]) AS prefix, m[2] AS yymm
               FROM pg_catalog.pg_class c,
                    LATERAL regexp_match(c.relname, '^code_([a-z]{2,5})_([0-9]{4})$') m
              WHERE c.relkind = 'S' AND c.relnamespace = 'crm_private'::regnamespace AND m IS NOT NULL LOOP
        -- ALTER SEQUENCE blocks nextval until commit: no code is handed out between reading
        -- the sequence's position and dropping it
        EXECUTE format('ALTER SEQUENCE %s NO CYCLE', r.seq);
        INSERT INTO crm_private.code_counters AS k (prefix, yymm, n)
        SELECT r.prefix, r.yymm, v.n FROM (SELECT pg_catalog.pg_sequence_last_value(r.seq) AS n) v WHERE v.n IS NOT NULL
        ON CONFLICT (prefix, yymm) DO UPDATE SET n = greatest(k.n, excluded.n);
        EXECUTE format('DROP SEQUENCE %s', r.seq);
    END LOOP;
END
$$;
