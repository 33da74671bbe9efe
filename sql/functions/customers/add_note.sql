-- crm.add_note(p_anchor, p_body) — an internal markdown note on a customer, deal or company
-- (seed 002 CustomerNote).
-- Guarantees: the body is not blank (22023); the anchor is a person, org or opportunity
-- (CR012) the caller may write (42501, the same for hidden and missing; seed 002 scoping); the
-- author is the acting CRM user (CR030 without one) — the only one who may edit it later; the
-- note is visible to whoever sees the anchor; crm360 logs note_added on the anchor. Returns
-- the note id.
CREATE OR REPLACE FUNCTION crm.add_note(p_anchor uuid, p_body text)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor uuid := crm.current_actor();
    v_type  text;
    v_id    uuid;
BEGIN
    IF v_actor IS NULL THEN
        RAISE EXCEPTION 'a note needs an author: the session has no CRM identity' USING ERRCODE = 'CR030',
              HINT = 'map your login (crm.map_login) or call crm.act_as(user)';
    END IF;
    IF p_body IS NULL OR btrim(p_body) = '' THEN
        RAISE EXCEPTION 'a note needs a body' USING ERRCODE = '22023';
    END IF;
    SELECT n.node_type INTO v_type FROM crm.nodes n WHERE n.id = p_anchor;
    IF v_type IS NULL OR NOT crm_private.can_write_node(p_anchor) THEN
        RAISE EXCEPTION 'node % does not exist or you may not write it', p_anchor
            USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
    END IF;
    IF v_type NOT IN ('person', 'org', 'opportunity') THEN
        RAISE EXCEPTION 'notes are written on a customer, company or deal, not on a %', v_type USING ERRCODE = 'CR012';
    END IF;
    INSERT INTO crm.notes (anchor_id, author_id, body) VALUES (p_anchor, v_actor, p_body) RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.add_note(uuid, text) IS
$c$Write an internal markdown note on a customer, company or deal (seed 002 Notes); logs note_added. Visible to whoever sees the anchor; only you can edit it (crm.edit_note). Returns the note id. Errors: CR030 no identity, 22023 blank body, 42501 anchor hidden/missing or not writable for you, CR012 anchor not a person/org/opportunity. Example: SELECT crm.add_note('<person uuid>', '**Budget** approved for Q3');$c$;
