-- crm_private.normalize_domain(p_value) — the comparable domain of a website, host or email.
-- Guarantees: lower case, trimmed; scheme, user part (up to @), "www.", port, path, query
-- and trailing dot removed; NULL for NULL/blank input or when nothing domain-like is left.
-- SQL-standard body (RETURN …), no SET clause: bound at CREATE time (search_path cannot
-- redirect it later) and inlined by the planner into the set-based mapping statements —
-- one call per field per record was a large share of reconciliation time.
CREATE OR REPLACE FUNCTION crm_private.normalize_domain(p_value text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN nullif(rtrim(regexp_replace(regexp_replace(regexp_replace(lower(btrim(p_value)),
                         '^[a-z][a-z0-9+.-]*://', ''), '^.*@', ''), '^www\.|[/:?#].*$', '', 'g'), '.'), '');

COMMENT ON FUNCTION crm_private.normalize_domain(text) IS
    'Normalized domain of a URL, host or email address (lower case, no scheme/www./port/path); NULL when blank.';
