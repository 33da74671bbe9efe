-- crm_raw.land_from(p_source, p_object, p_relation, ...) — the one call that moves the rows an
-- ELT tool loaded into its own schema (dlt: dlt_zendesk.tickets; Airbyte, Fivetran: their
-- tables or a view over them) into crm_raw.records, as ONE sync run (docs/elt.md).
-- Guarantees:
-- * runs as the caller (SECURITY INVOKER): it reads nothing the caller could not SELECT
--   itself and lands only what the caller may land — a crm_connector for the sources an admin
--   allowed it (crm.allow_source; 42501 otherwise), or an admin. The loader's relation is read
--   with the caller's rights; one whose reading would run code of another role as the caller
--   (a view, materialized or foreign table, a table with row-level security, or one with a
--   column of a type that is not built in — its output function or its owner's casts would run
--   — owned by a role the caller is not a member of) is refused (42501);
-- * dlt (the relation has _dlt_load_id and its schema a _dlt_loads table): only rows of
--   COMPLETED loads (_dlt_loads.status = 0) that were not landed before for this source
--   object and relation (crm_raw.elt_loads) are read — a load still running is picked up by
--   the next call; a full-refresh run (p_full_refresh, default: the object's setting) reads
--   every row of every completed load, because records missing from a full run are removed;
--   otherwise (Airbyte, Fivetran, any table or view) every row is read and identical versions
--   are stored once (dedup by content);
-- * each row becomes the record payload: p_payload_column (e.g. Airbyte's _airbyte_data) as
--   it is, else the row as jsonb (crm_private.elt_payload: loader columns _dlt_*/_airbyte_*/
--   _fivetran_* and top-level nulls dropped, jsonb columns kept nested, dlt's a__b columns
--   nested again unless p_unflatten is false). Timestamps are rendered in UTC;
-- * rows whose nested lists dlt split into child tables (<table>__<field> with
--   _dlt_parent_id) are refused (CR043): landing them would lose those fields — load the
--   resource with max_table_nesting=0;
-- * landing goes through crm_raw.start_run, crm_raw.land_staged (the same validation, key,
--   cursor and dedup of identical versions as file ingestion; the rows are staged in a
--   pg_temp.crm_stage created afresh — one the caller had is dropped) and crm_raw.finish_run,
--   in the caller's transaction: on any error nothing is landed and no run is recorded.
--   With p_reconcile the source is reconciled (crm.reconcile(p_source)) before the run is
--   closed, so the run counts applied records; the read models are refreshed separately
--   (crm.refresh_read_models(), or `crm360 reconcile`).
-- Returns the run summary of crm_raw.finish_run plus relation, mode (dlt|rows|payload_column),
-- loads (the dlt load ids landed) and note.
-- Errors: 22023 bad parameter or relation kind; 42501 source not allowed, relation not
-- readable or not trusted; 42703 unknown p_payload_column; CR042 unknown source object;
-- CR043 child tables.
CREATE OR REPLACE FUNCTION crm_raw.land_from(p_source text, p_object text, p_relation regclass,
                                             p_payload_column name DEFAULT NULL,
                                             p_full_refresh boolean DEFAULT NULL,
                                             p_unflatten boolean DEFAULT true,
                                             p_reconcile boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS $$
DECLARE
    v_rel      record;
    v_relname  text;
    v_loads_rel regclass;
    v_has_load boolean;
    v_has_id   boolean;
    v_mode     text;
    v_full     boolean;
    v_run      bigint;
    v_loads    text[] := '{}';
    v_filter   text := 'true';
    v_payload  text;
    v_untrusted text;
    v_child    record;
    v_found    boolean;
    v_summary  jsonb;
BEGIN
    IF p_source IS NULL OR p_object IS NULL OR p_relation IS NULL THEN
        RAISE EXCEPTION 'source, object and relation are required'
            USING ERRCODE = '22023',
                  HINT = $h$SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_zendesk.tickets'::regclass)$h$;
    END IF;
    IF NOT (p_source = ANY (crm_private.caller_sources())) THEN
        RAISE EXCEPTION 'role % may not land source %', current_user, p_source
            USING ERRCODE = '42501',
                  HINT = format('an admin allows it: SELECT crm.allow_source(%L, %L)', current_user, p_source);
    END IF;

    SELECT c.oid, c.relkind, c.relname, n.nspname, c.relowner, c.relnamespace INTO v_rel
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = p_relation;
    IF NOT FOUND OR v_rel.relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'relation % is not a table or view', p_relation
            USING ERRCODE = '22023', HINT = 'pass the loader''s table (or a view over it)';
    END IF;
    v_relname := format('%I.%I', v_rel.nspname, v_rel.relname);
    IF NOT pg_catalog.has_table_privilege(p_relation, 'SELECT') THEN
        RAISE EXCEPTION 'role % cannot read %', current_user, v_relname
            USING ERRCODE = '42501',
                  HINT = format('the loader grants it: GRANT USAGE ON SCHEMA %I TO %I; GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I',
                                v_rel.nspname, current_user, v_rel.nspname, current_user);
    END IF;
    IF p_payload_column IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = p_relation AND a.attname = p_payload_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'relation % has no column %', v_relname, p_payload_column
            USING ERRCODE = '42703', HINT = 'Airbyte: _airbyte_data; omit p_payload_column to land each row as the record';
    END IF;
    v_has_load := EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = p_relation
                             AND a.attname = '_dlt_load_id' AND a.attnum > 0 AND NOT a.attisdropped);
    v_has_id := EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = p_relation
                           AND a.attname = '_dlt_id' AND a.attnum > 0 AND NOT a.attisdropped);
    IF v_has_load THEN
        v_loads_rel := pg_catalog.to_regclass(format('%I._dlt_loads', v_rel.nspname));
    END IF;

    -- reading a relation must not run another role's code as the caller: views (and their
    -- functions), materialized views, foreign tables and row-level security policies do, and
    -- so does a column of a type that is not built in (its output function, or a cast its
    -- owner defined, e.g. to json, runs when the row becomes a payload)
    SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ') INTO v_untrusted
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE (c.oid = p_relation OR c.oid = v_loads_rel
            OR (v_has_id AND c.relnamespace = v_rel.relnamespace AND c.relkind IN ('r', 'p')
                AND left(c.relname, length(v_rel.relname) + 2) = v_rel.relname || '__'))
       AND NOT pg_catalog.pg_has_role(current_user, c.relowner, 'MEMBER')
       AND (c.relkind NOT IN ('r', 'p') OR c.relrowsecurity
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                          AND a.atttypid >= 16384));          -- FirstNormalObjectId: not built in
    IF v_untrusted IS NOT NULL THEN
        RAISE EXCEPTION 'reading % would run code of its owner as role %', v_untrusted, current_user
            USING ERRCODE = '42501',
                  DETAIL = 'a view, materialized or foreign table, a table with row-level security, or a table with a column of a type that is not built in, owned by a role you are not a member of',
                  HINT = 'call crm_raw.land_from as the loader login (grant it crm_connector and the source), or land from its plain tables';
    END IF;
    IF v_loads_rel IS NOT NULL AND NOT pg_catalog.has_table_privilege(v_loads_rel, 'SELECT') THEN
        RAISE EXCEPTION 'role % cannot read %', current_user, v_loads_rel
            USING ERRCODE = '42501', HINT = format('GRANT SELECT ON %s TO %I', v_loads_rel, current_user);
    END IF;

    v_mode := CASE WHEN v_loads_rel IS NOT NULL THEN 'dlt'
                   WHEN p_payload_column IS NOT NULL THEN 'payload_column' ELSE 'rows' END;
    v_run := crm_raw.start_run(p_source, p_object, p_full_refresh, ARRAY[v_relname]);
    SELECT r.full_refresh INTO v_full FROM crm_raw.sync_runs r WHERE r.id = v_run;

    IF v_mode = 'dlt' THEN
        EXECUTE format('SELECT coalesce(array_agg(l.load_id::text ORDER BY l.load_id), ''{}'') FROM %I._dlt_loads l '
                       'WHERE l.status = 0 AND NOT EXISTS (SELECT 1 FROM crm_raw.elt_loads e WHERE e.source = $1 '
                       'AND e.object = $2 AND e.relation = $3 AND e.load_id = l.load_id::text)', v_rel.nspname)
           INTO v_loads USING p_source, p_object, v_relname;
        v_filter := CASE WHEN v_full
                         THEN format('t._dlt_load_id::text IN (SELECT l.load_id::text FROM %I._dlt_loads l WHERE l.status = 0)',
                                     v_rel.nspname)
                         ELSE 't._dlt_load_id::text = ANY ($1)' END;
    END IF;

    -- nested lists dlt split into child tables would be lost: refuse
    IF v_has_id AND p_payload_column IS NULL THEN
        FOR v_child IN
            SELECT c.oid::regclass AS rel, format('%I.%I', v_rel.nspname, c.relname) AS name
              FROM pg_catalog.pg_class c
             WHERE c.relnamespace = v_rel.relnamespace AND c.relkind IN ('r', 'p')
               AND left(c.relname, length(v_rel.relname) + 2) = v_rel.relname || '__'
               AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid
                              AND a.attname = '_dlt_parent_id' AND a.attnum > 0 AND NOT a.attisdropped)
        LOOP
            IF pg_catalog.has_table_privilege(v_child.rel, 'SELECT') THEN
                EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s AS c JOIN %I.%I AS t ON t._dlt_id = c._dlt_parent_id WHERE %s)',
                               v_child.name, v_rel.nspname, v_rel.relname, v_filter)
                   INTO v_found USING v_loads;
            ELSE
                v_found := true;
            END IF;
            IF v_found THEN
                RAISE EXCEPTION 'dlt split nested lists of % into the child table %', v_relname, v_child.name
                    USING ERRCODE = 'CR043',
                          DETAIL = 'landing the parent rows alone would lose those fields',
                          HINT = 'load the resource with max_table_nesting=0 (nested data kept as json), see docs/elt.md';
            END IF;
        END LOOP;
    END IF;

    v_payload := CASE WHEN p_payload_column IS NOT NULL THEN format('(t.%I)::text', p_payload_column)
                      ELSE 'crm_private.elt_payload(pg_catalog.to_jsonb(t), $2)::text' END;
    DROP TABLE IF EXISTS pg_temp.crm_stage;
    CREATE TEMP TABLE crm_stage (ord bigint, payload text, error text, load_id text) ON COMMIT DROP;
    EXECUTE format('INSERT INTO pg_temp.crm_stage (ord, payload, error, load_id) '
                   'SELECT row_number() OVER (), %s, NULL, %s FROM %I.%I AS t WHERE %s',
                   v_payload, CASE WHEN v_has_load THEN 't._dlt_load_id::text' ELSE 'NULL' END,
                   v_rel.nspname, v_rel.relname, v_filter)
       USING v_loads, coalesce(p_unflatten, true);

    PERFORM crm_raw.land_staged(v_run, '{}'::jsonb);
    IF v_mode = 'dlt' THEN
        INSERT INTO crm_raw.elt_loads (source, object, relation, load_id, run_id, rows_read)
        SELECT p_source, p_object, v_relname, l.load_id, v_run,
               (SELECT count(*) FROM pg_temp.crm_stage s WHERE s.load_id = l.load_id)
          FROM unnest(v_loads) AS l(load_id)
        ON CONFLICT (source, object, relation, load_id) DO NOTHING;
    END IF;
    DROP TABLE pg_temp.crm_stage;
    IF coalesce(p_reconcile, false) THEN
        PERFORM crm.reconcile(p_source);
    END IF;
    v_summary := crm_raw.finish_run(v_run);
    RETURN v_summary || jsonb_build_object(
        'relation', v_relname, 'mode', v_mode, 'loads', to_jsonb(v_loads),
        'note', CASE WHEN v_mode = 'dlt' AND cardinality(v_loads) = 0 AND NOT v_full
                     THEN 'unchanged: no dlt load completed since the last land_from'
                     WHEN (v_summary ->> 'landed')::integer = 0
                     THEN format('unchanged: all %s rows identical to what was already landed', v_summary ->> 'received')
                END);
END;
$$;

COMMENT ON FUNCTION crm_raw.land_from(text, text, regclass, name, boolean, boolean, boolean) IS
$c$Land the rows an ELT tool loaded into its own schema (dlt, Airbyte, Fivetran) as records of a source object, as one sync run through crm_raw.land_staged: dlt tables land only completed loads not landed before; nested jsonb kept; loader columns stripped; p_payload_column takes the record from one JSON column (Airbyte _airbyte_data). Runs as the caller (connector for its allowed sources, or admin). Returns the run summary (landed, unchanged, loads, note). Then SELECT * FROM crm.reconcile(); SELECT * FROM crm.refresh_read_models(); Errors: 22023, 42501, 42703, CR042, CR043. Example: SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_zendesk.tickets'::regclass);$c$;
