-- crm.duplicate_candidates — pairs of live accounts that are probably the same company.
-- A pair is listed when
--   (1) both accounts have the same normalized domain (properties.domain, else website: lower
--       case, no scheme, no www.) — unless more than 10 accounts share it (a placeholder or a
--       parent's website is not a duplicate signal); or
--   (2) their names are the same after crm.normalize_org_name (legal form, punctuation, case,
--       accents and spacing ignored; Holdings/Group/Labs and digits kept) — unless more than
--       10 accounts share that name — and their domains do not contradict each other (one or
--       both missing, or equal); or
--   (3) their normalized names (without, or else with, the legal form) are one typo apart —
--       one letter inserted, dropped or replaced, or two neighbouring letters swapped, never
--       the first letter of a word (Motors/Rotors stay apart) — with the same numbers in the
--       same order, at least 8 letters each, and at least one of the two has no domain.
-- So numbered variants ("Acme 12" / "Acme 13") are never name candidates, a shared first word
-- is never enough, and two companies with different websites are never paired by name.
-- Every pair has a score (0..1) and readable reasons. Blocked, never an unblocked self-join:
-- equality joins on the domain and on the normalized name; for rule 3 each account without a
-- domain is joined to the accounts with the same numbers, a length within one and one of the
-- parts of the name that a single edit leaves intact (see typo_keys), and only those pairs are
-- checked letter by letter. Reads crm.nodes as the caller (security_invoker): a rep
-- sees pairs among the accounts they can see, nothing about the others.
CREATE OR REPLACE VIEW crm.duplicate_candidates
WITH (security_invoker = true) AS
WITH named AS MATERIALIZED (
    SELECT n.id, n.label, n.external_source, n.external_id, n.updated_at,
           crm_private.normalize_domain(coalesce(nullif(n.properties ->> 'domain', ''), n.properties ->> 'website')) AS domain,
           crm.normalize_org_name(n.label, false) AS plain
      FROM crm.nodes n
     WHERE n.node_type = 'org' AND n.archived_at IS NULL
), keyed AS MATERIALIZED (
    SELECT k.*, replace(k.name_key, ' ', '') AS compact,
           btrim(regexp_replace(k.name_key, '[^0-9]+', ' ', 'g')) AS numbers,
           btrim(substr(k.plain, length(k.name_key) + 1)) AS legal_form
      FROM (SELECT a.*, crm.normalize_org_name(a.plain) AS name_key    -- = crm.normalize_org_name(label)
              FROM named a
            OFFSET 0) k                                                -- computed once, not per use
), crowded_domains AS (        -- more than 10 accounts: not a duplicate signal
    SELECT k.domain FROM keyed k WHERE k.domain IS NOT NULL GROUP BY k.domain HAVING count(*) > 10
), crowded_names AS (
    SELECT k.compact FROM keyed k WHERE k.compact IS NOT NULL GROUP BY k.compact HAVING count(*) > 10
), typo_keys AS (
    -- rule 3 blocks. One edit at letter k (never k = 1: the first letter of a word is never
    -- edited) of the shorter name s (length L; the longer one is compared at the same
    -- positions from either end) leaves intact: the first letter and the part after the
    -- middle (k <= L/2), or the first half and the last two letters (L/2 < k <= L-3), or the
    -- first L-3 letters (k >= L-2). Each account emits those keys, with its numbers and L, as
    -- the shorter name (L = its length) and as the longer one (L = its length - 1), for its
    -- name and, when it differs, its name with the legal form — hashed to a bigint (a
    -- collision only adds a pair that the letter-by-letter check then drops).
    SELECT k.id, k.domain IS NULL AS no_domain, x.block
      FROM keyed k
      CROSS JOIN LATERAL (VALUES (k.name_key, length(k.name_key)), (k.name_key, length(k.name_key) - 1),
                                 (nullif(k.plain, k.name_key), length(k.plain)),
                                 (nullif(k.plain, k.name_key), length(k.plain) - 1)) AS f (s, n)
      CROSS JOIN LATERAL unnest(ARRAY[
          hashtextextended(concat_ws('|', k.numbers, f.n, 't', left(f.s, 1), right(f.s, f.n - f.n / 2 - 1)), 0),
          hashtextextended(concat_ws('|', k.numbers, f.n, 'h', left(f.s, f.n / 2), right(f.s, 2)), 0),
          hashtextextended(concat_ws('|', k.numbers, f.n, 'e', left(f.s, f.n - 3)), 0)]) AS x (block)
     WHERE length(k.compact) >= 7 AND f.s IS NOT NULL
       AND k.compact NOT IN (SELECT c.compact FROM crowded_names c)   -- 5,000 "Unknown Customer": no block
), pairs AS (          -- candidate generation (blocking); the rules are applied below
    SELECT a.id AS a_id, b.id AS b_id
      FROM keyed a JOIN keyed b ON b.domain COLLATE "C" = a.domain COLLATE "C" AND b.id > a.id
     WHERE a.domain NOT IN (SELECT c.domain FROM crowded_domains c)
    UNION
    SELECT a.id, b.id
      FROM keyed a JOIN keyed b ON b.compact COLLATE "C" = a.compact COLLATE "C" AND b.id > a.id
     WHERE a.compact NOT IN (SELECT c.compact FROM crowded_names c)
    UNION
    SELECT least(a.id, b.id), greatest(a.id, b.id)
      FROM typo_keys a JOIN typo_keys b ON b.block = a.block AND b.id <> a.id
     WHERE a.no_domain
), judged AS (
    SELECT a.id AS a_id, a.label AS a_label, a.external_source AS a_source, a.external_id AS a_external_id,
           a.domain AS a_domain, a.plain AS a_plain, a.legal_form AS a_legal, a.updated_at AS a_updated,
           b.id AS b_id, b.label AS b_label, b.external_source AS b_source, b.external_id AS b_external_id,
           b.domain AS b_domain, b.plain AS b_plain, b.legal_form AS b_legal, b.updated_at AS b_updated,
           a.compact,
           coalesce(a.domain = b.domain, false)
               AND a.domain NOT IN (SELECT c.domain FROM crowded_domains c)    AS same_domain,
           coalesce(a.compact = b.compact, false)
               AND a.compact NOT IN (SELECT c.compact FROM crowded_names c)    AS same_name,
           (a.domain IS NULL OR b.domain IS NULL OR a.domain = b.domain)       AS domains_agree,
           a.numbers IS NOT DISTINCT FROM b.numbers                            AS same_numbers,
           coalesce(extensions.similarity(a.name_key, b.name_key), 0)          AS sim,
           CASE WHEN a.compact <> b.compact AND a.numbers = b.numbers
                     AND least(length(a.compact), length(b.compact)) >= 8
                THEN (  -- one edit apart, not at the first letter of a word, without or with the
                        -- legal form ("Corporaiton"): p = common prefix, s = common suffix of
                        -- the shorter (s1) and the longer (s2) of the two names
                      SELECT coalesce(bool_or(CASE
                                 WHEN length(t.s2) > length(t.s1) THEN t.p + t.s >= length(t.s1)
                                      AND t.p > 0 AND substr(t.s2, t.p, 1) <> ' '
                                 WHEN t.p + t.s = length(t.s1) - 1 THEN t.p > 0 AND substr(t.s1, t.p, 1) <> ' '
                                 WHEN t.p + t.s = length(t.s1) - 2 THEN t.p > 0 AND substr(t.s1, t.p, 1) <> ' '
                                      AND substr(t.s1, t.p + 1, 1) = substr(t.s2, t.p + 2, 1)
                                      AND substr(t.s1, t.p + 2, 1) = substr(t.s2, t.p + 1, 1)
                                 ELSE false END), false)
                        FROM (SELECT o.s1, o.s2, ps.p, ps.s
                                FROM (VALUES (a.name_key, b.name_key), (a.plain, b.plain)) AS v (x, y)
                                CROSS JOIN LATERAL (SELECT CASE WHEN length(v.x) <= length(v.y) THEN v.x ELSE v.y END AS s1,
                                                           CASE WHEN length(v.x) <= length(v.y) THEN v.y ELSE v.x END AS s2) o
                                CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE left(o.s1, i) = left(o.s2, i))::int AS p,
                                                           count(*) FILTER (WHERE right(o.s1, i) = right(o.s2, i))::int AS s
                                                      FROM generate_series(1, length(o.s1)) i) ps
                               WHERE v.x <> v.y AND abs(length(v.x) - length(v.y)) <= 1) t)
                ELSE false END                                                 AS one_typo
      FROM pairs p
      JOIN keyed a ON a.id = p.a_id
      JOIN keyed b ON b.id = p.b_id
), described AS (
    SELECT s.*,
           CASE WHEN s.same_domain THEN 'same_domain' ELSE 'similar_name' END AS kind,
           round(CASE
               WHEN s.same_domain AND s.same_name THEN CASE WHEN s.a_plain = s.b_plain THEN 1.00 ELSE 0.98 END
               WHEN s.same_domain AND s.one_typo THEN 0.95
               WHEN s.same_domain THEN 0.50 + 0.40 * s.sim::numeric
               WHEN s.same_name THEN CASE WHEN s.a_domain IS NULL AND s.b_domain IS NULL THEN 0.85 ELSE 0.90 END
               ELSE CASE WHEN s.a_domain IS NULL AND s.b_domain IS NULL THEN 0.75 ELSE 0.80 END
           END, 2)::numeric(3,2) AS score,
           concat_ws('; ',
               CASE WHEN s.same_domain THEN 'same domain ' || s.a_domain END,
               CASE WHEN s.a_label = s.b_label THEN 'identical names'
                    WHEN s.a_plain = s.b_plain THEN 'names differ only by case, punctuation or accents'
                    WHEN s.same_name AND s.a_legal = s.b_legal THEN 'names differ only by spacing, case or punctuation'
                    WHEN s.same_name THEN format('names differ only by legal form (%s vs %s)',
                                                 coalesce(nullif(s.a_legal, ''), 'none'), coalesce(nullif(s.b_legal, ''), 'none'))
                    WHEN s.one_typo THEN format('names one typo apart (similarity %s)', to_char(s.sim, 'FM0.00'))
                    WHEN NOT s.same_numbers THEN format('different names (similarity %s, numbers differ)', to_char(s.sim, 'FM0.00'))
                    ELSE format('different names (similarity %s)', to_char(s.sim, 'FM0.00'))
               END,
               CASE WHEN s.same_domain THEN NULL
                    WHEN s.a_domain IS NULL AND s.b_domain IS NULL THEN 'neither has a domain'
                    WHEN s.a_domain IS NULL OR s.b_domain IS NULL THEN 'only one has a domain (' || coalesce(s.a_domain, s.b_domain) || ')'
                    ELSE 'same domain ' || s.a_domain || ' (shared by more than 10 accounts)'
               END) AS reasons
      FROM judged s
     WHERE s.same_domain
        OR (s.domains_agree AND (s.same_name OR s.one_typo))
)
SELECT d.a_id                                        AS account_id,
       d.b_id                                        AS other_account_id,
       greatest(d.a_updated, d.b_updated)            AS detected_at,
       coalesce(d.a_source, 'crm360')                AS source,
       d.kind,
       jsonb_strip_nulls(jsonb_build_object(
           'kind', d.kind, 'block', CASE WHEN d.same_domain THEN d.a_domain ELSE d.compact END,
           'similarity', round(d.sim::numeric, 3), 'score', d.score, 'reasons', d.reasons,
           'account', jsonb_build_object('id', d.a_id, 'name', d.a_label, 'domain', d.a_domain, 'external_id', d.a_external_id),
           'other', jsonb_build_object('id', d.b_id, 'name', d.b_label, 'domain', d.b_domain, 'external_id', d.b_external_id)
       ))                                            AS evidence,
       d.a_label                                     AS account_name,
       d.b_label                                     AS other_name,
       d.a_domain                                    AS domain,
       d.b_domain                                    AS other_domain,
       d.score,
       d.reasons,
       CASE WHEN d.a_source = 'salesforce' THEN d.a_external_id END AS account_crm_id,
       CASE WHEN d.b_source = 'salesforce' THEN d.b_external_id END AS other_crm_id
  FROM described d;

COMMENT ON VIEW crm.duplicate_candidates IS
    'Probable duplicate accounts, surfaced not merged: pairs of live accounts with the same normalized domain (kind same_domain), or with the same normalized name (crm.normalize_org_name: legal form, punctuation, case, accents ignored) or names one typo apart (same numbers, 8+ letters, one without a domain) whose domains do not contradict (kind similar_name). Numbered variants and names sharing only a first word are never paired; a domain or name shared by more than 10 accounts is not a signal. Each pair has a score (0..1) and reasons. Blocked (no all-pairs comparison); rows only among the accounts the caller can see. Resolve with crm.merge_nodes(keep, drop) or `crm360 quality merge KEEP DROP`.';
COMMENT ON COLUMN crm.duplicate_candidates.account_id IS 'One account of the pair (account_id < other_account_id)';
COMMENT ON COLUMN crm.duplicate_candidates.other_account_id IS 'The other account of the pair (account_id < other_account_id)';
COMMENT ON COLUMN crm.duplicate_candidates.detected_at IS 'The later update time of the two accounts (when the pair became a candidate at the latest)';
COMMENT ON COLUMN crm.duplicate_candidates.source IS 'Source system of account_id (external_source; crm360 for accounts created in crm360)';
COMMENT ON COLUMN crm.duplicate_candidates.kind IS 'same_domain (same normalized domain) or similar_name (same normalized name, or one typo apart, domains not contradicting)';
COMMENT ON COLUMN crm.duplicate_candidates.evidence IS 'jsonb for programs: kind, block (domain or normalized name), name similarity, score, reasons and both accounts (id, name, domain, external id); the flat columns carry the same';
COMMENT ON COLUMN crm.duplicate_candidates.account_name IS 'Name (label) of account_id';
COMMENT ON COLUMN crm.duplicate_candidates.other_name IS 'Name (label) of other_account_id';
COMMENT ON COLUMN crm.duplicate_candidates.domain IS 'Normalized domain of account_id (NULL when it has none)';
COMMENT ON COLUMN crm.duplicate_candidates.other_domain IS 'Normalized domain of other_account_id (NULL when it has none)';
COMMENT ON COLUMN crm.duplicate_candidates.score IS 'How likely the pair is one company, 0..1: same domain and same normalized name 1.00 (0.98 when the names differ by legal form or spacing); same domain and names one typo apart 0.95; same domain, other name 0.50 + 0.40 x name similarity; same normalized name 0.90 (0.85 when neither has a domain); names one typo apart 0.80 (0.75 when neither has a domain)';
COMMENT ON COLUMN crm.duplicate_candidates.reasons IS 'Why the pair is listed, readable, e.g. "same domain acme.com; names differ only by case, punctuation or accents" or "names differ only by legal form (inc vs none); only one has a domain (globex.com)"';
COMMENT ON COLUMN crm.duplicate_candidates.account_crm_id IS 'Salesforce Account Id of account_id (NULL when it does not come from the CRM); accepted by `crm360 quality merge`';
COMMENT ON COLUMN crm.duplicate_candidates.other_crm_id IS 'Salesforce Account Id of other_account_id (NULL when it does not come from the CRM)';
