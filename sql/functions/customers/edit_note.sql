-- crm.edit_note(p_note, p_body) — change the text of your note; the previous text is kept
-- (crm.note_versions: from when to when, replaced by whom) — history never overwritten.
-- Guarantees: the body is not blank (22023); the note is visible and yours (42501 otherwise —
-- also for an admin: only the author edits a note); an unchanged body changes nothing and
-- returns the current version. Returns the new version number.
CREATE OR REPLACE FUNCTION crm.edit_note(p_note uuid, p_body text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_version integer;
BEGIN
    IF p_body IS NULL OR btrim(p_body) = '' THEN
        RAISE EXCEPTION 'a note needs a body' USING ERRCODE = '22023';
    END IF;
    UPDATE crm.notes t SET body = p_body WHERE t.id = p_note AND t.archived_at IS NULL
    RETURNING t.version INTO v_version;
    IF v_version IS NULL THEN
        RAISE EXCEPTION 'note % does not exist or is not yours', p_note
            USING ERRCODE = '42501', HINT = 'only the author edits a note';
    END IF;
    RETURN v_version;
END;
$$;

COMMENT ON FUNCTION crm.edit_note(uuid, text) IS
$c$Edit the text of your own note; the previous version is kept in crm.note_versions. Returns the new version number (unchanged text: the current one). Errors: 22023 blank body, 42501 not your note (or hidden/missing/archived). Example: SELECT crm.edit_note('<note uuid>', '**Budget** approved for Q4');$c$;
