-- 0034 The stored read models carry their rows' acl (issue 16 item 2: a rep's page of
-- crm.opportunities_active or crm.contacts_directory cost what a count did, 47x the
-- superuser's, because the wrapper computed every node the rep can see before its first row).
--
--   1. crm_private.opportunities_active_mv and crm_private.contacts_directory_mv are rebuilt
--      with one more column, row_acl: the node's acl as of the refresh, GIN-indexed (plus a
--      partial index for NULL). Their other columns, indexes and comments are kept (read from
--      the catalog before the rebuild, so nothing is written twice).
--   2. crm_private.read_model_acl_changes: one row per change of the acl (or the type, or the
--      existence) of an opportunity or a person since the refresh of the read model that stores
--      it, written by the trigger crm_private.tg_nodes__read_model_acl (sql/functions/read_models)
--      and pruned by the refresh of that read model once the stored row reflects it. The
--      wrappers trust a stored acl only for nodes without such a row; the others are decided by
--      the live node. A row with node_id NULL means "trust no stored acl of this type" (written
--      here: the rebuilt copies were computed before the trigger existed; the first refresh by
--      the new code, in sql/after/0034_read_model_acl.sql, removes it).
-- Safe to run twice.
SET LOCAL lock_timeout = '5s';

CREATE TABLE IF NOT EXISTS crm_private.read_model_acl_changes (
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    node_id    uuid,
    node_type  text NOT NULL,
    acl        uuid[],
    removed    boolean NOT NULL DEFAULT false,
    changed_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
CREATE INDEX IF NOT EXISTS read_model_acl_changes_node ON crm_private.read_model_acl_changes (node_id, seq);
CREATE INDEX IF NOT EXISTS read_model_acl_changes_type ON crm_private.read_model_acl_changes (node_type)
    WHERE node_id IS NULL;

COMMENT ON TABLE crm_private.read_model_acl_changes IS
    'Changes of the acl (or type, or existence) of opportunities and people since the refresh of the read model that stores them, one row per change (append-only: writers take no row lock). The wrappers crm.opportunities_active and crm.contacts_directory trust the stored acl (row_acl) of a node only when it has no row here; for the others the live node decides. node_id NULL: trust no stored acl of node_type. Written by crm_private.tg_nodes__read_model_acl; pruned by crm_private.refresh_read_model once the stored row reflects the change.';
COMMENT ON COLUMN crm_private.read_model_acl_changes.seq IS 'Order of the changes of one node (a second change of a node waits for the first to commit: its row lock)';
COMMENT ON COLUMN crm_private.read_model_acl_changes.node_id IS 'The node whose acl changed (NULL: every node of node_type)';
COMMENT ON COLUMN crm_private.read_model_acl_changes.node_type IS 'Its type before the change (opportunity or person)';
COMMENT ON COLUMN crm_private.read_model_acl_changes.acl IS 'The acl the change wrote';
COMMENT ON COLUMN crm_private.read_model_acl_changes.removed IS 'The node was deleted or stopped being of node_type';
COMMENT ON COLUMN crm_private.read_model_acl_changes.changed_at IS 'When the change was made (clock time)';

REVOKE ALL ON crm_private.read_model_acl_changes FROM PUBLIC;

-- 1. rebuild the two stored copies with row_acl (the wrappers over them are dropped with
--    them; sql/views re-creates them)
DO $$
DECLARE
    v_mv       text;
    v_rows     text;
    v_comment  text;
    v_cols     jsonb;
    v_indexes  text[];
    v_idx      text;
    v_col      record;
BEGIN
    FOREACH v_mv IN ARRAY ARRAY['opportunities_active', 'contacts_directory'] LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = pg_catalog.format('crm_private.%I', v_mv || '_mv')::regclass
                      AND a.attname = 'row_acl' AND NOT a.attisdropped) THEN
            CONTINUE;
        END IF;
        v_rows := pg_catalog.format('crm_private.%I', v_mv || '_rows');
        SELECT pg_catalog.obj_description(c.oid, 'pg_class'),
               (SELECT pg_catalog.jsonb_object_agg(a.attname, d.description)
                  FROM pg_catalog.pg_attribute a
                  JOIN pg_catalog.pg_description d
                    ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = a.attnum
                 WHERE a.attrelid = c.oid AND a.attnum > 0),
               (SELECT pg_catalog.array_agg(pg_catalog.pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid)
                  FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid)
          INTO v_comment, v_cols, v_indexes
          FROM pg_catalog.pg_class c
         WHERE c.oid = pg_catalog.format('crm_private.%I', v_mv || '_mv')::regclass;
        EXECUTE pg_catalog.format('DROP MATERIALIZED VIEW crm_private.%I CASCADE', v_mv || '_mv');
        -- the rows of the one definition, and the node's acl in the same snapshot
        EXECUTE pg_catalog.format(
            'CREATE MATERIALIZED VIEW crm_private.%I AS '
            'SELECT r.*, n.acl AS row_acl FROM %s r JOIN crm.nodes n ON n.id = r.node_id WITH DATA',
            v_mv || '_mv', v_rows);
        FOREACH v_idx IN ARRAY coalesce(v_indexes, '{}') LOOP
            EXECUTE v_idx;
        END LOOP;
        EXECUTE pg_catalog.format('CREATE INDEX %I ON crm_private.%I USING gin (row_acl)',
                                  v_mv || '_mv_row_acl', v_mv || '_mv');
        EXECUTE pg_catalog.format('CREATE INDEX %I ON crm_private.%I (node_id) WHERE row_acl IS NULL',
                                  v_mv || '_mv_row_acl_null', v_mv || '_mv');
        EXECUTE pg_catalog.format('COMMENT ON MATERIALIZED VIEW crm_private.%I IS %L', v_mv || '_mv', v_comment);
        FOR v_col IN SELECT j.key, j.value FROM pg_catalog.jsonb_each_text(coalesce(v_cols, '{}')) AS j LOOP
            EXECUTE pg_catalog.format('COMMENT ON COLUMN crm_private.%I.%I IS %L', v_mv || '_mv', v_col.key, v_col.value);
        END LOOP;
        EXECUTE pg_catalog.format(
            'COMMENT ON COLUMN crm_private.%I.row_acl IS %L', v_mv || '_mv',
            'The node''s acl as of the refresh: the wrapper trusts it only while crm_private.read_model_acl_changes has no row for the node');
        EXECUTE pg_catalog.format('REVOKE ALL ON crm_private.%I FROM PUBLIC', v_mv || '_mv');
    END LOOP;
END
$$;

-- 2. computed before the trigger existed: trust none of these acls until the next refresh
INSERT INTO crm_private.read_model_acl_changes (node_id, node_type, acl, removed)
SELECT NULL, t.node_type, NULL, false
  FROM (VALUES ('opportunity'), ('person')) AS t (node_type)
 WHERE NOT EXISTS (SELECT 1 FROM crm_private.read_model_acl_changes c
                    WHERE c.node_id IS NULL AND c.node_type = t.node_type);
