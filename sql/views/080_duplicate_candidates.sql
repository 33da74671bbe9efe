-- crm.duplicate_candidates — pairs of live accounts that may be the same company: the same
-- normalized website domain, or near-identical normalized names within a block (same first
-- three characters of the normalized name; pg_trgm similarity >= 0.6). Never an unblocked
-- self-join. Reads crm.nodes as the caller (a rep sees pairs among accounts they can see).
CREATE OR REPLACE VIEW crm.duplicate_candidates
WITH (security_invoker = true) AS
WITH accts AS (
    SELECT n.id, n.label, n.external_source, n.external_id, n.updated_at,
           n.properties ->> 'domain' AS domain,
           btrim(regexp_replace(regexp_replace(lower(n.label), '[^a-z0-9 ]+', ' ', 'g'),
                                '\m(inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sarl|bv|plc|corp|corporation|co|company|the)\M', ' ', 'g')) AS norm
      FROM crm.nodes n
     WHERE n.node_type = 'org' AND n.archived_at IS NULL
), normed AS (
    SELECT a.*, regexp_replace(a.norm, '\s+', ' ', 'g') AS name_key, left(replace(a.norm, ' ', ''), 3) AS block
      FROM accts a
), pairs AS (
    SELECT a.id AS account_id, b.id AS other_id, 'same_domain' AS kind, a.domain AS block_key,
           NULL::real AS similarity, a, b
      FROM normed a JOIN normed b ON b.domain = a.domain AND a.id < b.id
     WHERE a.domain IS NOT NULL
    UNION ALL
    SELECT a.id, b.id, 'similar_name', a.block, extensions.similarity(a.name_key, b.name_key), a, b
      FROM normed a JOIN normed b ON b.block = a.block AND a.id < b.id
     WHERE a.block <> '' AND (a.domain IS NULL OR b.domain IS NULL OR a.domain <> b.domain)
       AND extensions.similarity(a.name_key, b.name_key) >= 0.6
)
SELECT p.account_id,
       p.other_id                                     AS other_account_id,
       greatest((p.a).updated_at, (p.b).updated_at)   AS detected_at,
       coalesce((p.a).external_source, 'crm360')      AS source,
       p.kind,
       jsonb_strip_nulls(jsonb_build_object(
           'kind', p.kind, 'block', p.block_key, 'similarity', round(p.similarity::numeric, 3),
           'account', jsonb_build_object('id', (p.a).id, 'name', (p.a).label, 'domain', (p.a).domain, 'external_id', (p.a).external_id),
           'other', jsonb_build_object('id', (p.b).id, 'name', (p.b).label, 'domain', (p.b).domain, 'external_id', (p.b).external_id)
       )) AS evidence
  FROM pairs p;

COMMENT ON VIEW crm.duplicate_candidates IS
    'Possible duplicate accounts, surfaced not merged: pairs sharing a normalized domain (kind same_domain) or with near-identical names (kind similar_name: pg_trgm similarity >= 0.6 within the block of the first three characters of the normalized name). Resolve with crm.merge_nodes(keep, drop).';
COMMENT ON COLUMN crm.duplicate_candidates.other_account_id IS 'The other account of the pair (account_id < other_account_id)';
COMMENT ON COLUMN crm.duplicate_candidates.detected_at IS 'The later update time of the two accounts (when the pair became a candidate at the latest)';
COMMENT ON COLUMN crm.duplicate_candidates.kind IS 'same_domain or similar_name';
COMMENT ON COLUMN crm.duplicate_candidates.evidence IS 'Block, similarity and both accounts (id, name, domain, external id)';
