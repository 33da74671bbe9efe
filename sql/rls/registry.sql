-- Row-level security on the registry tables and error codes: everyone with a crm role reads
-- them; only admins change them.
DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['node_types', 'edge_types', 'assertion_types', 'event_types', 'error_codes'] LOOP
        EXECUTE format('ALTER TABLE crm.%I ENABLE ROW LEVEL SECURITY', v_table);
        EXECUTE format('ALTER TABLE crm.%I FORCE ROW LEVEL SECURITY', v_table);
        EXECUTE format('DROP POLICY IF EXISTS %I ON crm.%I', v_table || '_select', v_table);
        EXECUTE format('CREATE POLICY %I ON crm.%I FOR SELECT TO crm_reader, crm_connector USING (true)',
                       v_table || '_select', v_table);
        EXECUTE format('DROP POLICY IF EXISTS %I ON crm.%I', v_table || '_admin', v_table);
        EXECUTE format('CREATE POLICY %I ON crm.%I FOR ALL TO crm_admin USING (true) WITH CHECK (true)',
                       v_table || '_admin', v_table);
    END LOOP;
END
$$;
