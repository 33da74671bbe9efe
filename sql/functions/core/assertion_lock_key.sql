-- crm_private.assertion_lock_key(p_subject, p_assertion_type, p_key) — the name of the
-- transaction lock that serialises the writers of one assertion key (subject, type, key),
-- passed to crm_private.xact_lock. The one definition both takers use: crm_private.assertion_lock
-- (for a caller, after checking that the caller may write the assertion) and
-- crm_private.supersede_assertion_as (for crm360's own SECURITY DEFINER code, which checked the
-- caller itself): the same key, so they serialise against each other.
-- Guarantees: pure; distinct (subject, type, key) give distinct names ('/'-joined, the subject a
-- uuid); a NULL key is the empty key. A SQL-standard body, inlined. EXECUTE for nobody but
-- crm_owner's own functions.
CREATE OR REPLACE FUNCTION crm_private.assertion_lock_key(p_subject uuid, p_assertion_type text, p_key text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN concat_ws('/', 'assertion', p_subject::text, p_assertion_type, coalesce(p_key, ''));

REVOKE EXECUTE ON FUNCTION crm_private.assertion_lock_key(uuid, text, text) FROM PUBLIC;

COMMENT ON FUNCTION crm_private.assertion_lock_key(uuid, text, text) IS
    'The name of the transaction lock of one assertion key (subject, type, key), for crm_private.xact_lock: shared by crm_private.assertion_lock and crm360''s own writers.';
