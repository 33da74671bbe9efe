-- crm.normalize_org_name(p_name, p_strip_legal_form) — the comparable form of a company name,
-- as crm.duplicate_candidates compares them.
-- Guarantees: accent-folded (Unicode NFKD, combining marks removed; ß ss, æ ae, œ oe, ø o,
-- ł l, đ/ð d, þ th), lower case; "&" becomes "and"; periods, slashes and apostrophes are
-- dropped ("L.L.C." = "llc", "A/S" = "as", "O'Brien" = "obrien"); every other punctuation,
-- symbol or whitespace run becomes one space; trimmed; a leading "the" is dropped. With
-- p_strip_legal_form (default) trailing legal forms are dropped too, repeatedly ("Acme
-- Holdings Co., Ltd." = "acme holdings"): inc incorporated corp corporation co company cie
-- llc llp lp ltd limited plc gmbh mbh ag kg kgaa ohg ug se sa sas sarl srl spa sl bv nv ab
-- as asa aps oy oyj pty pte kk ltda, and a dangling "and"/"und"/"et" ("GmbH & Co. KG",
-- "et Cie"). The first word is never dropped. Words that tell companies of one group apart
-- are kept: Holdings, Group, Labs, International, Technologies, Systems… ("Acme Labs" and
-- "Acme Holdings" are different legal entities). Digits are kept (numbered names stay
-- apart). NULL for NULL or when nothing is left. Needs a UTF8 server encoding (normalize()).
-- Idempotent; a name already in this form (lower-case letters, digits, single spaces) skips
-- the folding, so stripping the legal form of a folded name costs one regular expression.
-- SQL-standard body (RETURN …), no SET clause: bound at CREATE time and inlined by the
-- planner into crm.duplicate_candidates (no function call per account).
CREATE OR REPLACE FUNCTION crm.normalize_org_name(p_name text, p_strip_legal_form boolean DEFAULT true)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN nullif(
    pg_catalog.regexp_replace(
        CASE WHEN p_name ~ '^[a-z0-9]+( [a-z0-9]+)*$' AND p_name !~ '^the '
             THEN p_name                -- already folded (a normalized name): only strip
             ELSE pg_catalog.regexp_replace(
                 pg_catalog.btrim(
                     pg_catalog.regexp_replace(
                         pg_catalog.regexp_replace(
                             pg_catalog.replace(
                                 pg_catalog.translate(
                                     pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
                                         pg_catalog.lower(
                                             pg_catalog.regexp_replace(pg_catalog.normalize(p_name, 'NFKD'),
                                                                       '[\u0300-\u036f]', '', 'g')),
                                         'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'),
                                     'øłđðħıŧ', 'olddhit'),
                                 '&', ' and '),
                             '[./''’`´]', '', 'g'),
                         '[\s!-/:-@\[-`{-~\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u3000-\u303f]+', ' ', 'g')),
                 '^the ', '')
        END,
        CASE WHEN p_strip_legal_form
             THEN '(?: (?:inc|incorporated|corp|corporation|co|company|cie|llc|llp|lp|ltd|limited|plc|gmbh|mbh|ag|kg|kgaa|ohg|ug|se|sa|sas|sarl|srl|spa|sl|bv|nv|ab|as|asa|aps|oy|oyj|pty|pte|kk|ltda|and|und|et))+$'
             ELSE '$' END,   -- '$' matches the empty end of the string: nothing is removed
        ''),
    '');

COMMENT ON FUNCTION crm.normalize_org_name(text, boolean) IS
$c$The comparable form of a company name (what crm.duplicate_candidates compares): accent-folded, lower case, & = and, periods, slashes and apostrophes dropped, other punctuation as spaces, a leading "the" dropped and — unless p_strip_legal_form is false — trailing legal forms dropped (Inc, LLC, Ltd, GmbH, AG, SA, BV, PLC, Corp, Co, Company, …; not Holdings, Group or Labs, which tell companies of one group apart). Digits are kept. NULL when nothing is left. Example: SELECT crm.normalize_org_name('The Société Générale, S.A.') -- 'societe generale'$c$;
