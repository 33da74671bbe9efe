-- crm_private.rc_person_name(p_first, p_last, p_name, p_email, p_fallback) — first and last
-- name of a person record. Guarantees: both elements non-blank: given names win; else the
-- full name split at the first space; else the email local part split at . _ - (initcap);
-- a missing part repeats the fallback (the source id) so the node is always valid.
CREATE OR REPLACE FUNCTION crm_private.rc_person_name(p_first text, p_last text, p_name text, p_email text,
                                                    p_fallback text)
RETURNS text[]
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH n AS (
        SELECT nullif(btrim(p_first), '') AS f, nullif(btrim(p_last), '') AS l,
               nullif(btrim(p_name), '') AS full_name,
               nullif(regexp_replace(split_part(lower(btrim(p_email)), '@', 1), '[^a-z0-9._-]', '', 'g'), '') AS lp
    ), parts AS (
        SELECT f, l,
               CASE WHEN full_name IS NOT NULL THEN split_part(full_name, ' ', 1) END AS nf,
               CASE WHEN full_name IS NOT NULL THEN nullif(btrim(substr(full_name, length(split_part(full_name, ' ', 1)) + 1)), '') END AS nl,
               CASE WHEN lp IS NOT NULL THEN initcap(split_part(regexp_replace(lp, '[._-]+', ' ', 'g'), ' ', 1)) END AS ef,
               CASE WHEN lp IS NOT NULL THEN nullif(initcap(btrim(substr(regexp_replace(lp, '[._-]+', ' ', 'g'),
                                                         length(split_part(regexp_replace(lp, '[._-]+', ' ', 'g'), ' ', 1)) + 1))), '') END AS el
          FROM n
    )
    SELECT ARRAY[coalesce(f, CASE WHEN l IS NULL THEN nf END, CASE WHEN l IS NULL THEN ef END, nf, ef, nullif(btrim(p_fallback), ''), '?'),
                 coalesce(l, nl, CASE WHEN f IS NULL AND nf IS NULL THEN el END, el, nf, ef, nullif(btrim(p_fallback), ''), '?')]
      FROM parts
$$;

COMMENT ON FUNCTION crm_private.rc_person_name(text, text, text, text, text) IS
    'Reconciliation: {first_name, last_name} of a person record from given names, a full name, the email local part or the fallback id; never blank.';
