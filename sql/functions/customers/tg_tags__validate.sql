-- crm_private.tg_tags__validate() — BEFORE INSERT OR UPDATE on crm.tags (the tag library).
-- Guarantees: bot: tags (system tags) are created or changed only by system roles (CR052,
-- crm_private.is_system_role) — also by a direct INSERT; a tag cannot be renamed into or out
-- of the bot: prefix by anyone else — nor created or renamed to a look-alike of it (the name
-- NFKD-normalised, lower-cased, with white space, invisible format characters, variation
-- selectors, tag characters and combining marks removed and
-- the common Cyrillic/Greek look-alikes of b, o, t folded, starts with bot:; e.g. 'bot：x'
-- with a fullwidth colon, 'bоt:x' with a Cyrillic o, 'b\u200bot:x', 'bot :x'), nor — since no
-- list of confusables is complete — any name shaped like a prefix (three characters and a
-- separator) whose three characters are not plain ASCII letters or digits ('ʙot:x', 'Ꮟot:x',
-- 'bot։x'); created_by is the acting CRM user and created_at the
-- transaction's time at insert, and never change.
CREATE OR REPLACE FUNCTION crm_private.tg_tags__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_fold text;
BEGIN
    -- legal erasure (crm.purge_node): the foreign keys clear references to the erased node
    IF current_user = 'crm_owner' AND pg_catalog.current_setting('crm.purge', true) = 'on' THEN
        RETURN NEW;
    END IF;
    -- NFKD (compatibility forms and accents decomposed), lower case; then white space,
    -- invisible format characters, variation selectors, tag characters and combining marks
    -- removed (third review, F4: 'b<U+E0100>ot:', 'b<U+0301>ot:', 'ḇot:' read as 'bot:')
    v_fold := translate(regexp_replace(lower(normalize(NEW.name, NFKD)),
                                       '[[:space:]\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0'
                                       '\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f'
                                       '\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef]',
                                       '', 'g'),
                        'оοօ০୦ɵᴏᴑвβьƅḃḅʙᏼᏴꓐтτᴛꓔ꞉∶ː˸׃։ꓽ᛬⁚',
                        'oooooooobbbbbbbbbbtttt:::::::::');
    IF (lower(NEW.name) LIKE 'bot:%' OR v_fold LIKE 'bot:%' OR (TG_OP = 'UPDATE' AND lower(OLD.name) LIKE 'bot:%')
        -- no list of confusables is complete (review of issue 11, N6: 'ʙot:', 'Ꮟot:', 'botꓽ'):
        -- 'bot' followed by anything but an ASCII letter or digit, and a three-character prefix
        -- (three characters and a colon, after the folding) that is not plain ASCII
        OR (v_fold LIKE 'bot_%' AND substr(v_fold, 4, 1) !~ '^[a-z0-9]$')
        OR (substr(v_fold, 4, 1) = ':' AND substr(v_fold, 1, 3) !~ '^[a-z0-9]{3}$'))
       AND NOT crm_private.is_system_role() THEN
        RAISE EXCEPTION 'bot: tags are system tags' USING ERRCODE = 'CR052',
              HINT = 'only system roles (admins not acting for a user, crm360 itself) create or change them';
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.created_by := crm.current_actor();
        NEW.created_at := now();
    ELSE
        NEW.created_by := OLD.created_by;
        NEW.created_at := OLD.created_at;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_tags__validate() IS
    'Trigger: bot: tags and look-alikes of the prefix only by system roles (CR052); created_by/created_at set by crm360.';

CREATE OR REPLACE TRIGGER tg_tags__validate
    BEFORE INSERT OR UPDATE ON crm.tags
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_tags__validate();
