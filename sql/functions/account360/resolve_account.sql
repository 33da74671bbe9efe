-- crm.resolve_account(p_text, p_limit) — find the account a user means, ranked (issue 6 §4).
-- Guarantees:
-- * SECURITY INVOKER: only accounts the caller can see; archived accounts are skipped.
-- * match_kind and score: id (the uuid itself, 1.0), crm_id (Salesforce Account Id, 1.0),
--   exact_name (case-insensitive, 0.95), domain (p_text, or the domain of an email address or
--   URL, without www., 0.9), similar_name (pg_trgm: greatest of similarity and
--   word_similarity, scaled to 0..0.85) — so "Acme" finds "ACME Corp.". One row per account
--   (its best match), best first, then by name.
-- * Every branch is indexable and filtered by node_type = 'org': nodes_external_key,
--   nodes_properties (jsonb @>), the partial trigram index nodes_org_label_trgm (ILIKE, %, <%).
-- * Errors: 22023 blank text or p_limit outside 1..100.
CREATE OR REPLACE FUNCTION crm.resolve_account(p_text text, p_limit int DEFAULT 10)
RETURNS TABLE (account_id uuid, name text, domain text, crm_id text, match_kind text, score numeric)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_q      text := btrim(p_text);
    v_domain text;
    v_like   text;
    v_uuid   uuid;
BEGIN
    IF v_q IS NULL OR v_q = '' THEN
        RAISE EXCEPTION 'the text to resolve must not be blank' USING ERRCODE = '22023';
    END IF;
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100 THEN
        RAISE EXCEPTION 'p_limit must be between 1 and 100, got %', coalesce(p_limit::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    -- a domain: from an email address, a URL or the text itself
    v_domain := lower(v_q);
    v_domain := CASE WHEN v_domain LIKE '%@%' THEN split_part(v_domain, '@', 2) ELSE v_domain END;
    v_domain := regexp_replace(v_domain, '^[a-z][a-z0-9+.-]*://', '');
    v_domain := regexp_replace(split_part(split_part(v_domain, '/', 1), ':', 1), '^www\.', '');
    IF v_domain !~ '^[a-z0-9-]+(\.[a-z0-9-]+)+$' THEN
        v_domain := NULL;
    END IF;
    IF pg_input_is_valid(v_q, 'uuid') THEN
        v_uuid := v_q::uuid;
    END IF;
    v_like := replace(replace(replace(v_q, '\', '\\'), '%', '\%'), '_', '\_');

    RETURN QUERY
    SELECT m.id, m.name, m.domain, m.crm_id, m.kind, m.score
      FROM (
        SELECT DISTINCT ON (c.id) c.id, coalesce(c.properties ->> 'name', c.label) AS name,
               c.properties ->> 'domain' AS domain,
               CASE WHEN c.external_source = 'salesforce' THEN c.external_id END AS crm_id,
               c.kind, c.score
          FROM (
            SELECT n.*, 'id'::text AS kind, 1.0::numeric AS score
              FROM crm.nodes n
             WHERE n.id = v_uuid AND n.node_type = 'org'
               AND n.archived_at IS NULL
            UNION ALL
            SELECT n.*, 'crm_id', 1.0
              FROM crm.nodes n
             WHERE n.id = crm_private.node_by_key('salesforce', v_q, current_user) AND n.node_type = 'org'
               AND n.archived_at IS NULL
            UNION ALL
            SELECT n.*, 'exact_name', 0.95
              FROM crm.nodes n
             WHERE n.node_type = 'org' AND n.label ILIKE v_like AND n.archived_at IS NULL
            UNION ALL
            SELECT n.*, 'domain', 0.9
              FROM crm.nodes n
             WHERE v_domain IS NOT NULL AND n.node_type = 'org'
               AND n.properties @> jsonb_build_object('domain', v_domain) AND n.archived_at IS NULL
            UNION ALL
            SELECT n.*, 'similar_name',
                   round(0.85 * greatest(extensions.similarity(n.label, v_q),
                                         extensions.word_similarity(v_q, n.label))::numeric, 3)
              FROM crm.nodes n
             WHERE n.node_type = 'org' AND n.archived_at IS NULL
               AND (n.label OPERATOR(extensions.%) v_q OR v_q OPERATOR(extensions.<%) n.label)
          ) c
         ORDER BY c.id, c.score DESC
      ) m
     ORDER BY m.score DESC, m.name, m.id
     LIMIT p_limit;
END;
$$;

COMMENT ON FUNCTION crm.resolve_account(text, int) IS
$c$Find accounts matching a text, best first (one row per account, its best match): match_kind id | crm_id (Salesforce Account Id) | exact_name (case-insensitive) | domain (also from an email address or URL) | similar_name (trigram; "Acme" finds "ACME Corp."), with a score 0..1. Only accounts the caller can see. Errors: 22023 blank text, p_limit outside 1..100. Example: SELECT * FROM crm.resolve_account('acme');$c$;
