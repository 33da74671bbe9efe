-- crm_private.tg_notes__audit() — AFTER INSERT (statement, transition table) on crm.notes.
-- Guarantees: one note_added event (write scope system) per note the statement inserted, on
-- its anchor (subject), properties note_id; the summary is the note's first line (at most 200
-- characters). SECURITY DEFINER (a trigger function cannot be called directly).
CREATE OR REPLACE FUNCTION crm_private.tg_notes__audit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_types text[];
    v_nodes uuid[];
    v_props jsonb[];
    v_sums  text[];
BEGIN
    SELECT array_agg('note_added'::text), array_agg(n.anchor_id), array_agg(jsonb_build_object('note_id', n.id)),
           array_agg(left(split_part(btrim(n.body), E'\n', 1), 200))
      INTO v_types, v_nodes, v_props, v_sums
      FROM new_rows n;
    IF v_types IS NOT NULL THEN
        PERFORM crm_private.write_customer_events(v_types, v_nodes, v_props, v_sums);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_notes__audit() IS
    'Trigger: logs note_added for the notes a statement inserted.';

CREATE OR REPLACE TRIGGER tg_notes__audit
    AFTER INSERT ON crm.notes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_notes__audit();
