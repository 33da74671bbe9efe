-- crm_private.tg_nodes__validate() — BEFORE INSERT OR UPDATE on crm.nodes.
-- Guarantees: the node type is registered (CR010); every required property of the type is
-- present, non-null and non-blank (CR011); label is derived from the properties when not
-- given; external_source/id are trimmed; acl is computed here and never taken from the
-- caller (NULL for types that are not access-checked, else the node's own restrictions —
-- inheritance through owned_by is layered on by the access-control triggers); updated_at
-- is bumped on every update.
CREATE OR REPLACE FUNCTION crm_private.tg_nodes__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_type    crm.node_types%ROWTYPE;
    v_missing text[];
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.node_type = OLD.node_type
       AND NEW.properties = OLD.properties
       AND NEW.label IS NOT DISTINCT FROM OLD.label
       AND NEW.restricted_to = OLD.restricted_to
       AND NEW.acl IS NOT DISTINCT FROM OLD.acl THEN
        NEW.updated_at := now();
        RETURN NEW;
    END IF;

    SELECT * INTO v_type FROM crm.node_types t WHERE t.node_type = NEW.node_type;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown node type "%"', NEW.node_type
            USING ERRCODE = 'CR010',
                  HINT = 'registered node types: ' ||
                         (SELECT string_agg(t.node_type, ', ' ORDER BY t.node_type) FROM crm.node_types t);
    END IF;

    SELECT array_agg(k ORDER BY k) INTO v_missing
      FROM unnest(v_type.required_properties) AS k
     WHERE NOT (NEW.properties ? k)
        OR jsonb_typeof(NEW.properties -> k) = 'null'
        OR (jsonb_typeof(NEW.properties -> k) = 'string' AND btrim(NEW.properties ->> k) = '');
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'a % node needs the propert% %', NEW.node_type,
                        CASE WHEN cardinality(v_missing) = 1 THEN 'y' ELSE 'ies' END,
                        array_to_string(v_missing, ', ')
            USING ERRCODE = 'CR011',
                  DETAIL = format('required properties of %s: %s', NEW.node_type,
                                  array_to_string(v_type.required_properties, ', ')),
                  HINT = format('add %s to properties (non-blank)', array_to_string(v_missing, ', '));
    END IF;

    IF NEW.label IS NULL OR btrim(NEW.label) = '' THEN
        NEW.label := coalesce(
            nullif(btrim(NEW.properties ->> 'name'), ''),
            nullif(btrim(concat_ws(' ', NEW.properties ->> 'first_name', NEW.properties ->> 'last_name')), ''),
            nullif(btrim(NEW.properties ->> 'subject'), ''),
            nullif(btrim(NEW.properties ->> 'title'), ''),
            nullif(btrim(NEW.properties ->> 'number'), ''),
            nullif(btrim(NEW.properties ->> 'value'), ''),
            NEW.properties ->> 'code');
        IF NEW.label IS NULL THEN
            RAISE EXCEPTION 'a % node needs a label', NEW.node_type
                USING ERRCODE = 'CR011', HINT = 'pass label, or a name/title/subject property';
        END IF;
    END IF;

    NEW.external_id := nullif(btrim(NEW.external_id), '');
    NEW.external_source := nullif(btrim(NEW.external_source), '');
    NEW.restricted_to := coalesce(NEW.restricted_to, '{}');
    IF v_type.access_checked THEN
        NEW.acl := CASE WHEN TG_OP = 'INSERT' OR NEW.restricted_to IS DISTINCT FROM OLD.restricted_to
                             OR OLD.acl IS NULL
                        THEN NEW.restricted_to ELSE OLD.acl END;
    ELSE
        NEW.acl := NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_nodes__validate() IS
    'Trigger: validates node type and required properties (CR010, CR011), derives label, computes acl, bumps updated_at.';

CREATE OR REPLACE TRIGGER tg_nodes__validate
    BEFORE INSERT OR UPDATE ON crm.nodes
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_nodes__validate();
