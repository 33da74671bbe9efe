-- crm_private.elt_payload(p_row, p_unflatten) — the source record an ELT tool loaded as one
-- table row (to_jsonb of the row), as crm_raw.land_from lands it.
-- Guarantees:
-- * the loader's own columns are dropped: every top-level key starting with _dlt_, _airbyte_
--   or _fivetran_ (load ids, row ids, sync times);
-- * top-level nulls are dropped: a column the loader added later (first non-null value in a
--   later load) reads NULL in older rows; keeping it would make every old row a "new version";
-- * nested values (jsonb columns: dlt with max_table_nesting=0) are kept exactly as loaded;
-- * with p_unflatten (default), dlt's flattened columns are nested again: a__b__c = v becomes
--   {"a": {"b": {"c": v}}} (merged with an existing object a), and a dlt variant column
--   x__v_<type> (x loaded with another type) becomes x unless x itself has a value.
-- Pure (IMMUTABLE): the same row gives the same payload, so identical versions dedup.
CREATE OR REPLACE FUNCTION crm_private.elt_payload(p_row jsonb, p_unflatten boolean DEFAULT true)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out  jsonb;
    v_key  text;
    v_val  jsonb;
    v_path text[];
    i      integer;
BEGIN
    IF p_row IS NULL OR jsonb_typeof(p_row) <> 'object' THEN
        RETURN p_row;
    END IF;
    SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb) INTO v_out
      FROM jsonb_each(p_row) e
     WHERE jsonb_typeof(e.value) <> 'null'
       AND e.key !~ '^_(dlt|airbyte|fivetran)_'
       AND NOT (coalesce(p_unflatten, true) AND strpos(e.key, '__') > 0);
    IF NOT coalesce(p_unflatten, true) THEN
        RETURN v_out;
    END IF;
    FOR v_key, v_val IN
        SELECT e.key, e.value FROM jsonb_each(p_row) e
         WHERE strpos(e.key, '__') > 0 AND jsonb_typeof(e.value) <> 'null'
           AND e.key !~ '^_(dlt|airbyte|fivetran)_'
         ORDER BY e.key
    LOOP
        v_key := regexp_replace(v_key, '__v_(text|bigint|double|bool|timestamp|decimal|json|date|time|binary|wei)$', '');
        v_path := string_to_array(v_key, '__');
        IF array_position(v_path, '') IS NOT NULL THEN
            -- a leading, trailing or tripled underscore: not dlt's separator, keep the key
            IF NOT v_out ? v_key THEN
                v_out := v_out || jsonb_build_object(v_key, v_val);
            END IF;
            CONTINUE;
        END IF;
        FOR i IN 1 .. cardinality(v_path) - 1 LOOP
            IF jsonb_typeof(v_out #> v_path[1:i]) IS DISTINCT FROM 'object' THEN
                v_out := jsonb_set(v_out, v_path[1:i], '{}'::jsonb, true);
            END IF;
        END LOOP;
        IF v_out #> v_path IS NULL THEN
            v_out := jsonb_set(v_out, v_path, v_val, true);
        END IF;
    END LOOP;
    RETURN v_out;
END;
$$;

COMMENT ON FUNCTION crm_private.elt_payload(jsonb, boolean) IS
$c$A row an ELT tool loaded (to_jsonb of the row) as the source record: drops _dlt_/_airbyte_/_fivetran_ columns and top-level nulls, keeps jsonb columns as they are, and (p_unflatten) nests dlt's flattened a__b columns again. Used by crm_raw.land_from. Example: SELECT crm_private.elt_payload('{"id": 1, "via__channel": "email", "_dlt_id": "x"}');$c$;
