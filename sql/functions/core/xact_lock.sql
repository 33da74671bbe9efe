-- crm_private.xact_lock(p_name, p_shared) — take crm360's transaction-level lock called p_name
-- (reconciliation, one assertion key, ...), released at commit or rollback; exclusive, or shared
-- with p_shared (many holders at once, none while an exclusive holder has it: reconciliation of
-- objects that resolve no identity, crm_private.reconcile_run).
-- Guarantees: the advisory lock key is hashtextextended(p_name, a seed derived from
-- crm_private.instance_secret) — a key only crm360 can compute. Advisory locks are not
-- permission-checked, so with a well-known key any role (a reader) could take the lock
-- first and hang every reconcile or every write of an assertion; with this one nobody but
-- crm360's own code can. EXECUTE for crm_owner only (writers take their assertion locks
-- through crm_private.assertion_lock, which can take nothing else). SECURITY DEFINER (reads
-- the secret).
CREATE OR REPLACE FUNCTION crm_private.xact_lock(p_name text, p_shared boolean DEFAULT false)
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT CASE WHEN p_shared THEN pg_catalog.pg_advisory_xact_lock_shared(x.k)
                ELSE pg_catalog.pg_advisory_xact_lock(x.k) END
      FROM (SELECT pg_catalog.hashtextextended(p_name, ('x' || pg_catalog.substr(s.secret, 1, 16))::bit(64)::bigint) AS k
              FROM crm_private.instance_secret s) x
$$;

COMMENT ON FUNCTION crm_private.xact_lock(text, boolean) IS
    'Takes crm360''s transaction-level advisory lock named p_name (shared with p_shared), under a key salted with the instance secret (nobody else can compute it, so nobody else can hold it).';
