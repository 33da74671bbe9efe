-- Row-level security on the ingestion configuration in crm_raw (source_objects,
-- source_schedules, free_mail_domains, ownership_mapping, region_teams): connectors read
-- it; only admins change it (it decides who sees which account).
DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['source_objects', 'source_schedules', 'free_mail_domains',
                                   'ownership_mapping', 'region_teams'] LOOP
        EXECUTE format('ALTER TABLE crm_raw.%I ENABLE ROW LEVEL SECURITY', v_table);
        EXECUTE format('ALTER TABLE crm_raw.%I FORCE ROW LEVEL SECURITY', v_table);
        EXECUTE format('DROP POLICY IF EXISTS %I ON crm_raw.%I', v_table || '_select', v_table);
        EXECUTE format('CREATE POLICY %I ON crm_raw.%I FOR SELECT TO crm_connector USING (true)',
                       v_table || '_select', v_table);
        EXECUTE format('DROP POLICY IF EXISTS %I ON crm_raw.%I', v_table || '_admin', v_table);
        EXECUTE format('CREATE POLICY %I ON crm_raw.%I FOR ALL TO crm_admin USING (true) WITH CHECK (true)',
                       v_table || '_admin', v_table);
    END LOOP;
END
$$;
