-- crm.access_report(p_min_share) — who can see more than a given share of the accounts
-- (seed 000 pitfall "over-broad permissions": sales reps should not see all accounts).
-- Guarantees: for every live user, the number of live accounts (org nodes) visible to them
-- through their principals (restrictions, inheritance, claims) and node grants — the same
-- rules as the policies — and the share of all live accounts; only users at or above
-- p_min_share are returned, most-seeing first. Admin only (42501).
CREATE OR REPLACE FUNCTION crm.access_report(p_min_share numeric DEFAULT 0.5)
RETURNS TABLE (user_id uuid, user_name text, visible_accounts bigint, total_accounts bigint, share numeric,
               teams text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.require_admin('read the access report');
    IF p_min_share IS NULL OR p_min_share < 0 OR p_min_share > 1 THEN
        RAISE EXCEPTION 'p_min_share must be between 0 and 1' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH users AS (
        SELECT u.id, u.label, crm_private.principals_of(u.id) AS principals
          FROM crm.nodes u WHERE u.node_type = 'user' AND u.archived_at IS NULL
    ), ug AS (
        SELECT users.*, crm_private.grants_of(users.principals) AS grants FROM users
    ), accounts AS (
        SELECT o.node_type, o.attrs, o.acl FROM crm.nodes o WHERE o.node_type = 'org' AND o.archived_at IS NULL
    ), total AS (SELECT count(*) AS n FROM accounts)
    SELECT ug.id, ug.label,
           count(a.*) FILTER (WHERE a.acl IS NULL OR a.acl && ug.principals
                                    OR crm_private.node_grant_match(ug.grants, 'read', a.node_type, a.attrs, a.acl)),
           total.n,
           round(count(a.*) FILTER (WHERE a.acl IS NULL OR a.acl && ug.principals
                                    OR crm_private.node_grant_match(ug.grants, 'read', a.node_type, a.attrs, a.acl))::numeric
                 / nullif(total.n, 0), 4),
           (SELECT string_agg(t.label, ', ' ORDER BY t.label) FROM crm.nodes t
             WHERE t.id = ANY (ug.principals) AND t.node_type = 'team')
      FROM ug CROSS JOIN total LEFT JOIN accounts a ON true
     GROUP BY ug.id, ug.label, ug.principals, total.n
    HAVING total.n > 0
       AND count(a.*) FILTER (WHERE a.acl IS NULL OR a.acl && ug.principals
                              OR crm_private.node_grant_match(ug.grants, 'read', a.node_type, a.attrs, a.acl))::numeric
           / total.n >= p_min_share
     ORDER BY 3 DESC, 2;
END;
$$;

COMMENT ON FUNCTION crm.access_report(numeric) IS
$c$Audit over-broad access: users who can see at least p_min_share (0..1) of all live accounts, with counts and their teams. Admin only. Errors: 42501 not admin, 22023 share out of range. Example: SELECT * FROM crm.access_report(0.5);$c$;
