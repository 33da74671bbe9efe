-- crm_private.compile_segment_filter(p_node, p_base, p_params, p_path) — compile a dynamic
-- segment definition (the JSON filter language of docs/customers.md) into a boolean SQL
-- expression over the person row alias n, safely.
-- Guarantees:
-- * nothing from the definition is ever spliced into SQL: field names and operators are
--   looked up in a fixed whitelist (each maps to a SQL fragment written here), and every value
--   (text, number, uuid, tag name, property key, day count) is appended to the jsonb array
--   p_params and referenced as (p_base ->> i) / (p_base -> i) with the integer index i — the
--   statement is run with EXECUTE ... USING that array, so values are bound parameters;
-- * p_base must be a parameter reference ($n, optionally -> k); anything else is refused;
-- * fit and last_activity conditions read segment_fit (node_id, product_id, score: the overall
--   fit) and segment_activity (node_id, last_at: the last activity event), which the statement
--   that runs the expression defines once for all its filters (crm_private.refresh_segments_pass,
--   the only place a compiled filter runs);
-- * values are type-checked here (numbers, integers, uuids, booleans, dates, non-empty
--   lists), so a compiled filter cannot fail at refresh time on a cast;
-- * every problem raises CR053 with the JSON path of the offending part in DETAIL (e.g.
--   $.all[1].op); depth is limited to 10 levels and 200 conditions.
-- Output: p_sql (the expression) and p_params (the values, in order).
CREATE OR REPLACE FUNCTION crm_private.compile_segment_filter(
    p_node   jsonb,
    p_base   text,
    INOUT p_params jsonb,
    p_path   text DEFAULT '$',
    OUT p_sql text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_field text;
    v_op    text;
    v_val   jsonb;
    v_parts text[];
    v_sub   record;
    v_i     integer;
    v_x     text;       -- the SQL of the field's value (text fields)
    v_k     text;       -- param reference of the value
    v_list  text;
    v_keys  text[];
BEGIN
    IF p_base IS NULL OR p_base !~ '^\$[0-9]+( -> [0-9]+)?$' THEN
        RAISE EXCEPTION 'invalid parameter base' USING ERRCODE = '22023';
    END IF;
    IF length(p_path) > 400 OR (length(p_path) - length(replace(p_path, '[', ''))) > 10 THEN
        RAISE EXCEPTION 'segment filter nested too deeply' USING ERRCODE = 'CR053', DETAIL = p_path;
    END IF;
    IF jsonb_array_length(coalesce(p_params, '[]')) > 400 THEN
        RAISE EXCEPTION 'segment filter too large' USING ERRCODE = 'CR053', DETAIL = p_path,
              HINT = 'at most 200 conditions';
    END IF;
    IF p_node IS NULL OR jsonb_typeof(p_node) <> 'object' THEN
        RAISE EXCEPTION 'a filter must be a JSON object' USING ERRCODE = 'CR053', DETAIL = p_path,
              HINT = '{"all": [...]}, {"any": [...]}, {"not": {...}} or {"field": ..., "op": ..., "value": ...}';
    END IF;
    p_params := coalesce(p_params, '[]');

    -- ------------------------------------------------------------ logic
    IF p_node ? 'all' OR p_node ? 'any' THEN
        SELECT array_agg(k) INTO v_keys FROM jsonb_object_keys(p_node) AS k;
        IF cardinality(v_keys) <> 1 THEN
            RAISE EXCEPTION 'a logical node has exactly one key (all or any)' USING ERRCODE = 'CR053', DETAIL = p_path;
        END IF;
        v_op := v_keys[1];
        IF jsonb_typeof(p_node -> v_op) <> 'array' OR jsonb_array_length(p_node -> v_op) = 0 THEN
            RAISE EXCEPTION '"%" needs a non-empty array of filters', v_op USING ERRCODE = 'CR053', DETAIL = p_path || '.' || v_op;
        END IF;
        FOR v_i IN 0 .. jsonb_array_length(p_node -> v_op) - 1 LOOP
            SELECT * INTO v_sub FROM crm_private.compile_segment_filter(p_node -> v_op -> v_i, p_base, p_params,
                                                                     format('%s.%s[%s]', p_path, v_op, v_i));
            p_params := v_sub.p_params;
            v_parts := v_parts || v_sub.p_sql;
        END LOOP;
        p_sql := '(' || array_to_string(v_parts, CASE v_op WHEN 'all' THEN ' AND ' ELSE ' OR ' END) || ')';
        RETURN;
    END IF;
    IF p_node ? 'not' THEN
        IF (SELECT count(*) FROM jsonb_object_keys(p_node)) <> 1 THEN
            RAISE EXCEPTION 'a not node has exactly one key' USING ERRCODE = 'CR053', DETAIL = p_path;
        END IF;
        SELECT * INTO v_sub FROM crm_private.compile_segment_filter(p_node -> 'not', p_base, p_params, p_path || '.not');
        p_params := v_sub.p_params;
        p_sql := '(NOT coalesce(' || v_sub.p_sql || ', false))';
        RETURN;
    END IF;

    -- ------------------------------------------------------------ condition
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(p_node) k WHERE k NOT IN ('field', 'op', 'value', 'key', 'product')) THEN
        RAISE EXCEPTION 'unknown key in condition' USING ERRCODE = 'CR053', DETAIL = p_path,
              HINT = 'a condition has field, op, value (and key for property, product for fit)';
    END IF;
    v_field := p_node ->> 'field';
    v_op := p_node ->> 'op';
    v_val := p_node -> 'value';
    IF v_field IS NULL OR v_op IS NULL THEN
        RAISE EXCEPTION 'a condition needs field and op' USING ERRCODE = 'CR053', DETAIL = p_path;
    END IF;

    -- the value, as a parameter (appended; referenced by index)
    IF v_op NOT IN ('is_empty', 'is_not_empty') THEN
        IF v_val IS NULL OR jsonb_typeof(v_val) = 'null' THEN
            RAISE EXCEPTION 'operator % needs a value', v_op USING ERRCODE = 'CR053', DETAIL = p_path || '.value';
        END IF;
        IF v_op IN ('in', 'not_in', 'has_any', 'has_none') THEN
            IF jsonb_typeof(v_val) <> 'array' OR jsonb_array_length(v_val) = 0
               OR EXISTS (SELECT 1 FROM jsonb_array_elements(v_val) x WHERE jsonb_typeof(x) NOT IN ('string', 'number')) THEN
                RAISE EXCEPTION 'operator % needs a non-empty list of strings or numbers', v_op
                    USING ERRCODE = 'CR053', DETAIL = p_path || '.value';
            END IF;
            v_val := (SELECT jsonb_agg(x #>> '{}') FROM jsonb_array_elements(v_val) x);
        ELSIF jsonb_typeof(v_val) NOT IN ('string', 'number', 'boolean') THEN
            RAISE EXCEPTION 'operator % needs a string, number or boolean', v_op
                USING ERRCODE = 'CR053', DETAIL = p_path || '.value';
        END IF;
        p_params := p_params || jsonb_build_array(v_val);
        v_k := format('(%s ->> %s)', p_base, jsonb_array_length(p_params) - 1);
        v_list := format('(SELECT lower(x) FROM jsonb_array_elements_text(%s -> %s) AS x)', p_base, jsonb_array_length(p_params) - 1);
    END IF;

    -- text fields of the person (and of their current employer)
    v_x := CASE
        WHEN v_field IN ('first_name', 'last_name', 'title', 'source', 'country', 'city') THEN format('n.properties ->> %L', v_field)
        WHEN v_field = 'name' THEN 'n.label'
        WHEN v_field = 'email' THEN 'lower(n.properties ->> ''email'')'
        WHEN v_field = 'email_domain' THEN 'nullif(split_part(lower(n.properties ->> ''email''), ''@'', 2), '''')'
        WHEN v_field = 'company.name' THEN 'o.label'
        WHEN v_field IN ('company.domain', 'company.industry', 'company.country') THEN format('o.properties ->> %L', split_part(v_field, '.', 2))
    END;
    IF v_field = 'property' THEN
        IF coalesce(p_node ->> 'key', '') !~ '^[a-z][a-z0-9_]{0,62}$' THEN
            RAISE EXCEPTION 'field property needs a key (lower-case letters, digits, _)' USING ERRCODE = 'CR053', DETAIL = p_path || '.key';
        END IF;
        p_params := p_params || jsonb_build_array(p_node ->> 'key');
        v_x := format('n.properties ->> (%s ->> %s)', p_base, jsonb_array_length(p_params) - 1);
    ELSIF p_node ? 'key' THEN
        RAISE EXCEPTION 'key is only for field property' USING ERRCODE = 'CR053', DETAIL = p_path || '.key';
    END IF;

    IF v_x IS NOT NULL THEN
        p_sql := CASE v_op
            WHEN 'eq' THEN format('lower(%s) = lower(%s)', v_x, v_k)
            WHEN 'neq' THEN format('lower(%s) IS DISTINCT FROM lower(%s)', v_x, v_k)
            WHEN 'in' THEN format('lower(%s) IN %s', v_x, v_list)
            WHEN 'not_in' THEN format('coalesce(lower(%s) NOT IN %s, true)', v_x, v_list)
            WHEN 'contains' THEN format('strpos(lower(%s), lower(%s)) > 0', v_x, v_k)
            WHEN 'starts_with' THEN format('starts_with(lower(%s), lower(%s))', v_x, v_k)
            WHEN 'ends_with' THEN format('right(lower(%s), length(%s)) = lower(%s)', v_x, v_k, v_k)
            WHEN 'is_empty' THEN format('coalesce(btrim(%s), '''') = ''''', v_x)
            WHEN 'is_not_empty' THEN format('coalesce(btrim(%s), '''') <> ''''', v_x)
        END;
        IF p_sql IS NULL THEN
            RAISE EXCEPTION 'operator % does not apply to text field %', v_op, v_field USING ERRCODE = 'CR053',
                  DETAIL = p_path || '.op', HINT = 'text operators: eq, neq, in, not_in, contains, starts_with, ends_with, is_empty, is_not_empty';
        END IF;
        IF v_field LIKE 'company.%' THEN
            p_sql := format('n.id IN (SELECT e.target_id FROM crm.edges e JOIN crm.nodes o ON o.id = e.source_id '
                            'WHERE e.edge_type = ''employs'' AND e.archived_at IS NULL AND e.effective_to IS NULL '
                            'AND o.archived_at IS NULL AND %s)', p_sql);
        END IF;
        p_sql := '(' || p_sql || ')';
        RETURN;
    END IF;

    p_sql := CASE
        WHEN v_field = 'tag' AND v_op IN ('has', 'not_has', 'has_any', 'has_none') THEN
            format('(n.id %s IN (SELECT nt.node_id FROM crm.node_tags nt JOIN crm.tags t ON t.id = nt.tag_id '
                   'WHERE nt.removed_at IS NULL AND lower(t.name) %s))',
                   CASE WHEN v_op IN ('not_has', 'has_none') THEN 'NOT' ELSE '' END,
                   CASE WHEN v_op IN ('has', 'not_has') THEN '= lower(' || v_k || ')' ELSE 'IN ' || v_list END)
        WHEN v_field = 'company' AND v_op IN ('eq', 'neq', 'in', 'not_in', 'is_empty', 'is_not_empty') THEN
            format('(n.id %s IN (SELECT e.target_id FROM crm.edges e WHERE e.edge_type = ''employs'' '
                   'AND e.archived_at IS NULL AND e.effective_to IS NULL%s))',
                   CASE WHEN v_op IN ('neq', 'not_in', 'is_empty') THEN 'NOT' ELSE '' END,
                   CASE WHEN v_op IN ('eq', 'neq') THEN ' AND e.source_id = ' || v_k || '::uuid'
                        WHEN v_op IN ('in', 'not_in') THEN format(' AND e.source_id IN (SELECT x::uuid FROM jsonb_array_elements_text(%s -> %s) AS x)',
                                                                   p_base, jsonb_array_length(p_params) - 1)
                        ELSE '' END)
        WHEN v_field = 'owner' AND v_op IN ('eq', 'neq', 'in', 'not_in', 'is_empty', 'is_not_empty') THEN
            CASE v_op WHEN 'eq' THEN format('(n.claimed_by = %s::uuid)', v_k)
                      WHEN 'neq' THEN format('(n.claimed_by IS DISTINCT FROM %s::uuid)', v_k)
                      WHEN 'in' THEN format('(n.claimed_by IN (SELECT x::uuid FROM jsonb_array_elements_text(%s -> %s) AS x))', p_base, jsonb_array_length(p_params) - 1)
                      WHEN 'not_in' THEN format('(n.claimed_by IS NULL OR n.claimed_by NOT IN (SELECT x::uuid FROM jsonb_array_elements_text(%s -> %s) AS x))', p_base, jsonb_array_length(p_params) - 1)
                      WHEN 'is_empty' THEN '(n.claimed_by IS NULL)'
                      ELSE '(n.claimed_by IS NOT NULL)' END
        WHEN v_field = 'fit' AND v_op IN ('gte', 'gt', 'lte', 'lt', 'eq', 'is_empty', 'is_not_empty') THEN
            -- segment_fit: the overall fit per customer and product, computed once per refresh
            -- (crm_private.refresh_segments_pass)
            format('(n.id %s IN (SELECT f.node_id FROM segment_fit f WHERE f.product_id = %s::uuid%s))',
                   CASE WHEN v_op = 'is_empty' THEN 'NOT' ELSE '' END,
                   'PRODUCT',
                   CASE WHEN v_op IN ('is_empty', 'is_not_empty') THEN ''
                        ELSE format(' AND f.score %s %s::numeric',
                                    CASE v_op WHEN 'gte' THEN '>=' WHEN 'gt' THEN '>' WHEN 'lte' THEN '<=' WHEN 'lt' THEN '<' ELSE '=' END, v_k) END)
        WHEN v_field IN ('last_activity', 'created_at') AND v_op IN ('within_days', 'older_than_days', 'is_empty', 'is_not_empty', 'before', 'after')
             AND NOT (v_field = 'created_at' AND v_op IN ('is_empty', 'is_not_empty'))
             AND NOT (v_field = 'last_activity' AND v_op IN ('before', 'after')) THEN
            CASE WHEN v_field = 'created_at' THEN
                     CASE v_op WHEN 'within_days' THEN format('(n.created_at >= now() - make_interval(days => %s::integer))', v_k)
                               WHEN 'older_than_days' THEN format('(n.created_at < now() - make_interval(days => %s::integer))', v_k)
                               WHEN 'before' THEN format('(n.created_at < %s::date)', v_k)
                               ELSE format('(n.created_at >= %s::date)', v_k) END
                 -- segment_activity: each customer's last activity, computed once per refresh
                 -- (crm_private.refresh_segments_pass)
                 ELSE CASE v_op
                     WHEN 'within_days' THEN format('(n.id IN (SELECT l.node_id FROM segment_activity l '
                                                    'WHERE l.last_at >= now() - make_interval(days => %s::integer)))', v_k)
                     WHEN 'older_than_days' THEN format('(n.id NOT IN (SELECT l.node_id FROM segment_activity l '
                                                        'WHERE l.last_at >= now() - make_interval(days => %s::integer)))', v_k)
                     WHEN 'is_empty' THEN '(n.id NOT IN (SELECT l.node_id FROM segment_activity l))'
                     ELSE '(n.id IN (SELECT l.node_id FROM segment_activity l))' END END
        WHEN v_field = 'suppressed' AND v_op = 'eq' THEN
            format('(n.id %s IN (SELECT a.subject_node_id FROM crm.assertions a WHERE a.assertion_type = ''do_not_contact'' '
                   'AND a.assertion_key = '''' AND a.superseded_at IS NULL AND NOT coalesce((a.claim ->> ''lifted'')::boolean, false) '
                   'AND (a.claim ->> ''expires'' IS NULL OR (a.claim ->> ''expires'')::date > (now() AT TIME ZONE ''UTC'')::date)))',
                   CASE WHEN v_val = 'true'::jsonb THEN '' ELSE 'NOT' END)
        WHEN v_field = 'channel' AND v_op IN ('has', 'not_has') THEN
            format('(n.id %s IN (SELECT h.source_id FROM crm.edges h JOIN crm.nodes c ON c.id = h.target_id '
                   'WHERE h.edge_type = ''has_channel'' AND h.archived_at IS NULL AND c.archived_at IS NULL '
                   'AND c.properties ->> ''channel_type'' = %s AND NOT EXISTS (SELECT 1 FROM crm.assertions s '
                   'WHERE s.subject_node_id = c.id AND s.assertion_type = ''channel_status'' AND s.assertion_key = '''' '
                   'AND s.superseded_at IS NULL AND s.claim ->> ''status'' <> ''active'')))',
                   CASE WHEN v_op = 'not_has' THEN 'NOT' ELSE '' END, v_k)
        WHEN v_field = 'segment' AND v_op IN ('member_of', 'not_member_of') THEN
            format('(n.id %s IN (SELECT m.node_id FROM crm.segment_memberships m WHERE m.left_at IS NULL AND m.segment_id = %s::uuid))',
                   CASE WHEN v_op = 'not_member_of' THEN 'NOT' ELSE '' END, v_k)
    END;
    IF p_sql IS NULL THEN
        IF v_field NOT IN ('tag', 'company', 'owner', 'fit', 'last_activity', 'created_at', 'suppressed', 'channel', 'segment') THEN
            RAISE EXCEPTION 'unknown field %', v_field USING ERRCODE = 'CR053', DETAIL = p_path || '.field',
                  HINT = 'fields: first_name, last_name, name, title, source, country, city, email, email_domain, property, company, company.name, company.domain, company.industry, company.country, tag, owner, fit, last_activity, created_at, suppressed, channel, segment';
        END IF;
        RAISE EXCEPTION 'operator % does not apply to field %', v_op, v_field USING ERRCODE = 'CR053', DETAIL = p_path || '.op',
              HINT = 'see docs/customers.md for the operators of each field';
    END IF;

    -- value types
    IF v_field IN ('company', 'owner', 'segment') AND v_op NOT IN ('is_empty', 'is_not_empty') THEN
        IF EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(v_val) = 'array' THEN v_val ELSE jsonb_build_array(v_val) END) x
                    WHERE NOT pg_input_is_valid(x, 'uuid')) THEN
            RAISE EXCEPTION '% needs node ids (uuid)', v_field USING ERRCODE = 'CR053', DETAIL = p_path || '.value';
        END IF;
    ELSIF v_field = 'fit' THEN
        IF NOT pg_input_is_valid(coalesce(p_node ->> 'product', ''), 'uuid') THEN
            RAISE EXCEPTION 'fit needs product (a product node id)' USING ERRCODE = 'CR053', DETAIL = p_path || '.product';
        END IF;
        IF v_op NOT IN ('is_empty', 'is_not_empty') AND (jsonb_typeof(v_val) <> 'number' OR (v_val #>> '{}')::numeric NOT BETWEEN 0 AND 100) THEN
            RAISE EXCEPTION 'fit is compared with a number from 0 to 100' USING ERRCODE = 'CR053', DETAIL = p_path || '.value';
        END IF;
        p_params := p_params || jsonb_build_array(p_node ->> 'product');
        p_sql := replace(p_sql, 'PRODUCT', format('(%s ->> %s)', p_base, jsonb_array_length(p_params) - 1));
    ELSIF v_op IN ('within_days', 'older_than_days') THEN
        IF jsonb_typeof(v_val) <> 'number' OR (v_val #>> '{}') !~ '^[0-9]{1,5}$' THEN
            RAISE EXCEPTION '% needs a whole number of days (0-99999)', v_op USING ERRCODE = 'CR053', DETAIL = p_path || '.value';
        END IF;
    ELSIF v_op IN ('before', 'after') THEN
        IF jsonb_typeof(v_val) <> 'string' OR NOT pg_input_is_valid(v_val #>> '{}', 'date') THEN
            RAISE EXCEPTION '% needs a date (YYYY-MM-DD)', v_op USING ERRCODE = 'CR053', DETAIL = p_path || '.value';
        END IF;
    ELSIF v_field = 'suppressed' THEN
        IF jsonb_typeof(v_val) <> 'boolean' THEN
            RAISE EXCEPTION 'suppressed is compared with true or false' USING ERRCODE = 'CR053', DETAIL = p_path || '.value';
        END IF;
    ELSIF v_field = 'channel' THEN
        IF v_val #>> '{}' NOT IN ('email', 'phone', 'linkedin', 'telegram') THEN
            RAISE EXCEPTION 'channel kinds: email, phone, linkedin, telegram' USING ERRCODE = 'CR053', DETAIL = p_path || '.value';
        END IF;
    END IF;
    IF v_field <> 'fit' AND p_node ? 'product' THEN
        RAISE EXCEPTION 'product is only for field fit' USING ERRCODE = 'CR053', DETAIL = p_path || '.product';
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.compile_segment_filter(jsonb, text, jsonb, text) IS
    'Compiles a dynamic segment filter (docs/customers.md) into a SQL expression over person alias n with every value a bound parameter; CR053 with the JSON path on any error.';
