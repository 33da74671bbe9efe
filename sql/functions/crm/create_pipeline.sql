-- crm.create_pipeline(p_name, p_code, p_stages, p_default_stage) — a new sales process
-- (seed 001 §4.1).
-- Guarantees: the stages are a non-empty array of {key, label, order, terminal} with unique
-- snake_case keys and unique orders, stored normalized and sorted by order (label defaults
-- to the key, order to the position, terminal to false); at least one stage is not
-- terminal; default_stage (default: the first non-terminal stage) is one of the keys and
-- not terminal; the code is unique among live nodes with external_source 'internal'.
CREATE OR REPLACE FUNCTION crm.create_pipeline(
    p_name          text,
    p_code          text,
    p_stages        jsonb,
    p_default_stage text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_bad     text;
    v_stages  jsonb;
    v_default text;
    v_id      uuid;
BEGIN
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION 'p_name must not be blank' USING ERRCODE = '22023';
    END IF;
    IF p_code IS NULL OR p_code !~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' THEN
        RAISE EXCEPTION 'invalid pipeline code "%"', p_code
            USING ERRCODE = '22023', HINT = 'letters, digits, _ . - (e.g. PL-SALES)';
    END IF;
    IF p_stages IS NULL OR jsonb_typeof(p_stages) <> 'array' OR jsonb_array_length(p_stages) = 0 THEN
        RAISE EXCEPTION 'p_stages must be a non-empty JSON array of stage objects'
            USING ERRCODE = '22023',
                  HINT = 'e.g. [{"key":"open","label":"Open","order":1},{"key":"won","order":2,"terminal":true}]';
    END IF;

    SELECT string_agg(format('stage #%s: %s', s.i, s.problem), '; ' ORDER BY s.i) INTO v_bad
      FROM (SELECT e.i,
                   CASE WHEN jsonb_typeof(e.v) <> 'object' THEN 'not an object'
                        WHEN jsonb_typeof(e.v -> 'key') IS DISTINCT FROM 'string'
                             OR (e.v ->> 'key') !~ '^[a-z][a-z0-9_]*$' THEN 'key must be a snake_case string'
                        WHEN e.v ? 'label' AND jsonb_typeof(e.v -> 'label') <> 'string' THEN 'label must be a string'
                        WHEN e.v ? 'order' AND jsonb_typeof(e.v -> 'order') <> 'number' THEN 'order must be a number'
                        WHEN e.v ? 'terminal' AND jsonb_typeof(e.v -> 'terminal') <> 'boolean' THEN 'terminal must be true or false'
                   END AS problem
              FROM jsonb_array_elements(p_stages) WITH ORDINALITY AS e(v, i)) s
     WHERE s.problem IS NOT NULL;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'invalid stages: %', v_bad USING ERRCODE = '22023';
    END IF;

    WITH st AS (
        SELECT e.v ->> 'key' AS key,
               coalesce(nullif(btrim(e.v ->> 'label'), ''), initcap(replace(e.v ->> 'key', '_', ' '))) AS label,
               coalesce((e.v ->> 'order')::numeric, e.i) AS ord,
               coalesce((e.v ->> 'terminal')::boolean, false) AS terminal
          FROM jsonb_array_elements(p_stages) WITH ORDINALITY AS e(v, i))
    SELECT concat_ws('; ',
             (SELECT 'duplicate keys: ' || string_agg(DISTINCT d.key, ', ')
                FROM st d WHERE (SELECT count(*) FROM st x WHERE x.key = d.key) > 1),
             (SELECT 'duplicate orders: ' || string_agg(DISTINCT d.ord::text, ', ')
                FROM st d WHERE (SELECT count(*) FROM st x WHERE x.ord = d.ord) > 1),
             CASE WHEN bool_and(terminal) THEN 'every stage is terminal' END),
           jsonb_agg(jsonb_build_object('key', key, 'label', label, 'order', ord, 'terminal', terminal)
                     ORDER BY ord),
           coalesce(p_default_stage, (array_agg(key ORDER BY ord) FILTER (WHERE NOT terminal))[1])
      INTO v_bad, v_stages, v_default
      FROM st;
    IF v_bad <> '' THEN
        RAISE EXCEPTION 'invalid stages: %', v_bad USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v_stages) s
                    WHERE s ->> 'key' = v_default AND NOT (s ->> 'terminal')::boolean) THEN
        RAISE EXCEPTION 'default stage "%" is not a non-terminal stage of the pipeline', v_default
            USING ERRCODE = '22023',
                  HINT = 'non-terminal stages: ' ||
                         (SELECT string_agg(s ->> 'key', ', ') FROM jsonb_array_elements(v_stages) s
                           WHERE NOT (s ->> 'terminal')::boolean);
    END IF;

    IF EXISTS (SELECT 1 FROM crm.nodes n
                WHERE n.archived_at IS NULL
                  AND n.node_type = 'pipeline'
                  AND (ARRAY[n.external_source, n.external_id] = ARRAY['internal', p_code]
                       OR n.properties ->> 'code' = p_code)) THEN
        RAISE EXCEPTION 'a pipeline with code % already exists', p_code USING ERRCODE = '23505';
    END IF;

    INSERT INTO crm.nodes (node_type, label, properties, external_id, external_source)
    VALUES ('pipeline', btrim(p_name),
            jsonb_build_object('name', btrim(p_name), 'code', p_code, 'stages', v_stages,
                               'default_stage', v_default),
            p_code, 'internal')
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.create_pipeline(text, text, jsonb, text) IS
$c$Create a pipeline node with ordered stages [{key, label, order, terminal}] and a default stage (default: the first non-terminal one). Guarantees: unique snake_case keys and unique orders, at least one non-terminal stage, default among the non-terminal keys, unique code; stages are stored normalized and sorted. Errors: 22023 invalid name/code/stages/default, 23505 code taken. Example: SELECT crm.create_pipeline('Renewals', 'PL-RENEW', '[{"key":"open","order":1},{"key":"renewed","order":2,"terminal":true},{"key":"churned","order":3,"terminal":true}]');$c$;
