-- Undo 0034: the stored read models without row_acl (as 0020 built them), no change log,
-- no typed acl index (sql/after/0034), no trigger (the previous checkout's repeatable files
-- do not have it). The wrappers over the copies are dropped with them; the previous
-- checkout's sql/views re-creates them.
SET LOCAL lock_timeout = '5s';

DROP TRIGGER IF EXISTS tg_nodes__read_model_acl ON crm.nodes;
DROP TRIGGER IF EXISTS tg_nodes__read_model_acl_delete ON crm.nodes;
DROP FUNCTION IF EXISTS crm_private.tg_nodes__read_model_acl();
DROP INDEX IF EXISTS crm.nodes_typed_acl;

DO $$
DECLARE
    v_mv      text;
    v_comment text;
    v_cols    jsonb;
    v_indexes text[];
    v_idx     text;
    v_col     record;
BEGIN
    FOREACH v_mv IN ARRAY ARRAY['opportunities_active', 'contacts_directory'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = pg_catalog.format('crm_private.%I', v_mv || '_mv')::regclass
                          AND a.attname = 'row_acl' AND NOT a.attisdropped) THEN
            CONTINUE;
        END IF;
        SELECT pg_catalog.obj_description(c.oid, 'pg_class'),
               (SELECT pg_catalog.jsonb_object_agg(a.attname, d.description)
                  FROM pg_catalog.pg_attribute a
                  JOIN pg_catalog.pg_description d
                    ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = a.attnum
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND a.attname <> 'row_acl'),
               (SELECT pg_catalog.array_agg(pg_catalog.pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid)
                  FROM pg_catalog.pg_index i
                  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                 WHERE i.indrelid = c.oid AND ic.relname NOT LIKE '%\_row\_acl%')
          INTO v_comment, v_cols, v_indexes
          FROM pg_catalog.pg_class c
         WHERE c.oid = pg_catalog.format('crm_private.%I', v_mv || '_mv')::regclass;
        EXECUTE pg_catalog.format('DROP MATERIALIZED VIEW crm_private.%I CASCADE', v_mv || '_mv');
        EXECUTE pg_catalog.format('CREATE MATERIALIZED VIEW crm_private.%I AS SELECT * FROM crm_private.%I WITH DATA',
                                  v_mv || '_mv', v_mv || '_rows');
        FOREACH v_idx IN ARRAY coalesce(v_indexes, '{}') LOOP
            EXECUTE v_idx;
        END LOOP;
        EXECUTE pg_catalog.format('COMMENT ON MATERIALIZED VIEW crm_private.%I IS %L', v_mv || '_mv', v_comment);
        FOR v_col IN SELECT j.key, j.value FROM pg_catalog.jsonb_each_text(coalesce(v_cols, '{}')) AS j LOOP
            EXECUTE pg_catalog.format('COMMENT ON COLUMN crm_private.%I.%I IS %L', v_mv || '_mv', v_col.key, v_col.value);
        END LOOP;
        EXECUTE pg_catalog.format('REVOKE ALL ON crm_private.%I FROM PUBLIC', v_mv || '_mv');
    END LOOP;
END
$$;

DROP TABLE IF EXISTS crm_private.read_model_acl_changes;
