-- crm_private.normalize_channel(p_kind, p_value) — the comparable form of a contact channel,
-- or NULL when the value is not valid for the kind (seed 002: a contact is a channel).
-- Guarantees: email — trimmed, lower case, one @, a dot in the domain, no spaces; phone —
-- digits only (spaces, dashes, dots, parentheses and a leading + dropped; a leading 00 is the
-- international prefix, as +: 0049 30 1234567 = +49 30 1234567 = 49301234567), 7 to 15 digits
-- (E.164 length); linkedin — https://www.linkedin.com/in/<handle> with the handle lower-cased
-- (scheme, www., query, trailing slash dropped; only /in/ profile URLs); telegram — a numeric
-- chat id (optionally negative, 5 to 20 digits); any other kind → NULL. The key of a channel
-- node is kind || ':' || this value (the same key reconciliation uses for emails and phones),
-- unique among live channels. SQL-standard body: bound at CREATE time and inlined.
CREATE OR REPLACE FUNCTION crm_private.normalize_channel(p_kind text, p_value text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE p_kind
    WHEN 'email' THEN CASE WHEN lower(btrim(p_value)) ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:].]+$'
                           THEN lower(btrim(p_value)) END
    WHEN 'phone' THEN CASE WHEN btrim(p_value) ~ '^\+?[0-9 ().-]+$'
                            AND length(regexp_replace(regexp_replace(btrim(p_value), '^00', '+'), '\D', '', 'g')) BETWEEN 7 AND 15
                           THEN regexp_replace(regexp_replace(btrim(p_value), '^00', '+'), '\D', '', 'g') END
    WHEN 'linkedin' THEN CASE WHEN lower(btrim(p_value)) ~ '^(https?://)?([a-z]{2,3}\.)?linkedin\.com/in/[a-z0-9_%-]{2,100}/?([?#].*)?$'
                              THEN 'https://www.linkedin.com/in/'
                                   || substring(lower(btrim(p_value)) FROM 'linkedin\.com/in/([a-z0-9_%-]+)') END
    WHEN 'telegram' THEN CASE WHEN btrim(p_value) ~ '^-?[0-9]{5,20}$' THEN btrim(p_value) END
END;

COMMENT ON FUNCTION crm_private.normalize_channel(text, text) IS
    'Normalised channel value for a kind (email, phone, linkedin, telegram), NULL when invalid.';
