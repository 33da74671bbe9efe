-- crm_raw.start_run(p_source, p_object, p_full_refresh, p_files) — open a sync run.
-- Guarantees: the source object is registered (CR042 otherwise, hint lists them); the run
-- starts as running with the object's current cursor as cursor_before; full_refresh
-- defaults to the object's setting (CLM and Stripe: full refresh). Returns the run id.
CREATE OR REPLACE FUNCTION crm_raw.start_run(p_source text, p_object text, p_full_refresh boolean DEFAULT NULL,
                                             p_files text[] DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_so crm_raw.source_objects%ROWTYPE;
    v_id bigint;
BEGIN
    SELECT * INTO v_so FROM crm_raw.source_objects o WHERE o.source = p_source AND o.object = p_object;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown source object %/%', coalesce(p_source, 'NULL'), coalesce(p_object, 'NULL')
            USING ERRCODE = 'CR042',
                  HINT = 'registered: ' || (SELECT string_agg(o.source || ' ' || o.object, ', ' ORDER BY o.apply_order)
                                              FROM crm_raw.source_objects o);
    END IF;
    INSERT INTO crm_raw.sync_runs (source, object, full_refresh, files, cursor_before)
    VALUES (p_source, p_object, coalesce(p_full_refresh, v_so.full_refresh), coalesce(p_files, '{}'),
            (SELECT c.cursor_value FROM crm_raw.cursors c WHERE c.source = p_source AND c.object = p_object))
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm_raw.start_run(text, text, boolean, text[]) IS
$c$Open a sync run for a source object (status running, cursor_before = the current cursor); full refresh defaults to the object's setting. Returns the run id. Errors: CR042 unknown source/object. Example: SELECT crm_raw.start_run('zendesk', 'tickets');$c$;
