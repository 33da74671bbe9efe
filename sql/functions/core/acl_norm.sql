-- crm_private.acl_norm(p_acl, p_extra) — canonical form of an ACL: sorted, distinct, no NULLs,
-- with p_extra (a claimer) added when not NULL. Canonical arrays make "did it change"
-- comparisons exact.
CREATE OR REPLACE FUNCTION crm_private.acl_norm(p_acl uuid[], p_extra uuid DEFAULT NULL)
RETURNS uuid[]
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}')
      FROM unnest(coalesce(p_acl, '{}') || p_extra) AS x
     WHERE x IS NOT NULL
$$;

COMMENT ON FUNCTION crm_private.acl_norm(uuid[], uuid) IS
    'Sorted, de-duplicated ACL array without NULLs, plus an optional extra principal (the claimer).';
