-- 0021 ELT landing (issue 13 item 6, docs/elt.md): the one call that moves rows an ELT tool
-- (dlt, Airbyte, Fivetran) loaded into ITS OWN schema into crm_raw.records —
-- crm_raw.land_from — remembers which dlt loads it has landed per source object and
-- relation, so that a re-run reads only the loads it has not landed yet.
-- Never calls a repeatable function; safe to run twice. Sections: tables, data.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm_raw.elt_loads (
    source    text NOT NULL,
    object    text NOT NULL,
    relation  text NOT NULL CHECK (btrim(relation) <> ''),
    load_id   text NOT NULL CHECK (btrim(load_id) <> ''),
    run_id    bigint NOT NULL REFERENCES crm_raw.sync_runs (id),
    rows_read integer NOT NULL DEFAULT 0 CHECK (rows_read >= 0),
    landed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, object, relation, load_id),
    FOREIGN KEY (source, object) REFERENCES crm_raw.source_objects (source, object)
);
COMMENT ON TABLE crm_raw.elt_loads IS 'The dlt loads (the loader schema''s _dlt_loads.load_id, completed ones only) that crm_raw.land_from has landed from a relation as records of a source object: a later call reads only the rows of loads not listed here. Written by crm_raw.land_from; one row per load per source object and relation.';
COMMENT ON COLUMN crm_raw.elt_loads.relation IS 'The loader''s table or view, schema-qualified (e.g. dlt_zendesk.tickets) as land_from read it';
COMMENT ON COLUMN crm_raw.elt_loads.load_id IS 'dlt''s load id (_dlt_load_id of the rows, _dlt_loads.load_id)';
COMMENT ON COLUMN crm_raw.elt_loads.run_id IS 'The sync run (crm_raw.sync_runs) that landed the load';
COMMENT ON COLUMN crm_raw.elt_loads.rows_read IS 'Rows of the relation carrying this load id when the run read them';
CREATE INDEX IF NOT EXISTS elt_loads_run ON crm_raw.elt_loads (run_id);

-- ---------------------------------------------------------------- data
INSERT INTO crm.error_codes (sqlstate, name, meaning, hint) VALUES
 ('CR043', 'elt_nested_tables', 'The ELT load split nested lists of the records into child tables (dlt: <table>__<field>): landing the parent rows alone would lose those fields', 'load the resource with max_table_nesting=0 (nested data kept as json), see docs/elt.md'),
 ('42703', 'undefined_column', 'A column the call names does not exist in the relation (e.g. crm_raw.land_from''s p_payload_column)', NULL)
ON CONFLICT (sqlstate) DO NOTHING;
