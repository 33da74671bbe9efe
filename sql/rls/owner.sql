-- Row-level security for crm_owner, the role that owns crm360 and runs its SECURITY DEFINER
-- functions (reconciliation, ACL maintenance, purge, merges, refreshes). Every table has
-- RLS FORCEd, so without this the owner would be filtered like anyone else; with it, crm360's
-- own code sees and writes every row, as it did when it ran as a superuser — but it is not a
-- superuser. No login role is crm_owner (it is NOLOGIN; the DBA can SET ROLE to it, which is
-- the DBA's privilege anyway). Policies for a role only apply to roles that have its
-- privileges, so this costs nobody else anything. Created on every table of crm and crm_raw
-- (whether or not its own file has enabled RLS yet: this file's place in the order does not
-- matter).
DO $$
DECLARE
    v_rel regclass;
BEGIN
    FOR v_rel IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
                  WHERE c.relnamespace IN (SELECT n.oid FROM pg_catalog.pg_namespace n
                                            WHERE n.nspname IN ('crm', 'crm_raw'))
                    AND c.relkind IN ('r', 'p') LOOP
        EXECUTE format('DROP POLICY IF EXISTS owner_all ON %s', v_rel);
        EXECUTE format('CREATE POLICY owner_all ON %s FOR ALL TO crm_owner USING (true) WITH CHECK (true)', v_rel);
    END LOOP;
END
$$;
