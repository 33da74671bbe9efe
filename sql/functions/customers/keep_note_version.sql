-- crm_private.keep_note_version(p_note, p_version, p_body, p_from) — store a replaced version of
-- a note in crm.note_versions (history never overwritten). SECURITY DEFINER: nobody writes
-- note_versions directly; called by the notes trigger (crm_private.tg_notes__validate) while
-- the note's author updates it. Guarantees: only the version the note has right now can be
-- kept, and only by its author (the row is read as crm360 and must match note, version, body
-- and the author = the CRM user of the session's login: a direct call by anyone else — who
-- could otherwise pre-empt the author's next edit — is refused), once (primary key);
-- edited_by is that user.
CREATE OR REPLACE FUNCTION crm_private.keep_note_version(p_note uuid, p_version integer, p_body text, p_from timestamptz)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM crm.notes t WHERE t.id = p_note AND t.version = p_version AND t.body = p_body
                      AND t.updated_at = p_from AND t.author_id = crm_private.actor_of(session_user)) THEN
        RAISE EXCEPTION 'not the current version of note %', p_note USING ERRCODE = '42501';
    END IF;
    INSERT INTO crm.note_versions (note_id, version, body, valid_from, valid_to, edited_by)
    VALUES (p_note, p_version, p_body, p_from, greatest(now(), p_from), crm_private.actor_of(session_user));
END;
$$;

COMMENT ON FUNCTION crm_private.keep_note_version(uuid, integer, text, timestamptz) IS
    'Internal (notes trigger): keeps the version of a note that an edit replaces in crm.note_versions.';
