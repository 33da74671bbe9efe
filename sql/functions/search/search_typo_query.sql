-- crm_private.search_typo_query(p_words) — the typo fallback's full-text query: each word
-- (folded, 3+ letters and digits with a letter; others are skipped) as a prefix of itself:
-- its first 60 % (at least 3 characters: "renewl" -> rene:*, "pricng" -> pric:*,
-- "quantumlaep" -> quantum:*; a typo in the first 60 %, "certficate" -> certfi:*, is not
-- found), all OR-ed. NULL when no word qualifies. At most 8 words are used.
-- Why prefixes and not a vocabulary of close words: a vocabulary shared by every account is
-- read before visibility is known, so its contents (whether a word exists in text the caller
-- may not see) would show in timings and statistics counters; a prefix is searched inside
-- the GIN index together with the caller's principals, which returns visible chunks only.
-- A typo early in a word is not found here; with an embedding the vector branch covers it.
CREATE OR REPLACE FUNCTION crm_private.search_typo_query(p_words text[])
RETURNS tsquery
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(format('%s:*', quote_literal(left(w.w, greatest(3, ceil(length(w.w) * 0.6)::int)))), ' | ')::tsquery
      FROM (SELECT DISTINCT x AS w FROM unnest(p_words) x
             WHERE x ~ '^[[:alnum:]]{3,64}$' AND x ~ '[[:alpha:]]'
             ORDER BY x LIMIT 8) w
$$;

COMMENT ON FUNCTION crm_private.search_typo_query(text[]) IS
    'The typo fallback''s query: each word (3+ letters/digits with a letter, at most 8) as a prefix of itself (its first 60 %, at least 3 characters), OR-ed. Example: SELECT crm_private.search_typo_query(ARRAY[''renewl'', ''pricng'']) → ''pric'':* | ''rene'':*';
