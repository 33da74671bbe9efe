-- crm_private.search_nodes(p_query, p_types, p_limit, p_role) — the work of crm.search, as
-- crm_owner, for the role p_role (the caller's current_user, passed by crm.search).
-- Why SECURITY DEFINER: under row-level security a caller's query may use an index only
-- with leakproof operators, and pg_trgm's % / <% / similarity are not leakproof — as the
-- caller, every search would scan all nodes of the types. As the owner the candidates come
-- from indexes: for an admin or a caller with grants (who may see any node) from the indexes
-- on what was typed (nodes_search_label_trgm, nodes_search_email_trgm, nodes_search_external_id,
-- nodes_properties, the primary key); for anyone else from the nodes they see — those whose
-- acl overlaps their principals (GIN nodes_acl: the work follows what the caller sees, not
-- the size of the graph; "ticket 7" matches one ticket per account) — plus the typed-text
-- indexes over public nodes (acl NULL). Whether and why a candidate matches is decided once
-- (the matched CTE). EVERY candidate, and the account shown with it, passes an explicit
-- visibility filter: exactly the rules of the nodes policy (admin;
-- acl NULL; acl overlapping the principals; a node read grant), evaluated for p_role only
-- when the session may become it (crm_private.caller_principals / role_is_admin: '{}' and
-- false otherwise, so a forged p_role sees only unrestricted nodes — what the nodes policy
-- shows anyone). The same trust rule as crm_private.visible_node_ids. No candidate limit is
-- applied before the filter (the trigram thresholds bound the candidates), so a rep never
-- gets fewer rows because other teams' nodes matched better.
-- Reads no caller temp object; crm360's flags pinned off. The trigram thresholds are the
-- session's (pg_trgm.similarity_threshold 0.3, word_similarity_threshold 0.6 by default).
CREATE OR REPLACE FUNCTION crm_private.search_nodes(p_query text, p_types text[], p_limit int, p_role name)
RETURNS TABLE (node_id uuid, node_type text, label text, account_id uuid, account_name text, score numeric,
               matched text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
#variable_conflict use_column
DECLARE
    -- the default collation, not the call's ("C", from p_role's type name): the expression
    -- indexes are built with the default collation and match only clauses in it
    v_q      text COLLATE "default" := btrim(p_query);
    v_fold   text COLLATE "default";
    v_lower  text COLLATE "default";
    v_domain text COLLATE "default";
    v_uuid   uuid;
    v_types  text[];
    v_bad    text;
    v_admin  boolean := crm_private.role_is_admin(p_role);
    v_princ  uuid[];
    v_grants jsonb := '[]';
    v_all    boolean;
    v_code_j   jsonb;
    v_email_j  jsonb;
    v_domain_j jsonb;
    v_sim_t    real := coalesce(nullif(current_setting('pg_trgm.similarity_threshold', true), ''), '0.3')::real;
    v_wsim_t   real := coalesce(nullif(current_setting('pg_trgm.word_similarity_threshold', true), ''), '0.6')::real;
BEGIN
    IF v_q IS NULL OR v_q = '' THEN
        RAISE EXCEPTION 'the search text must not be blank' USING ERRCODE = 'CR044',
            HINT = 'search by name, email, domain, CRM id, opportunity code or ticket id';
    END IF;
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100 THEN
        RAISE EXCEPTION 'p_limit must be between 1 and 100, got %', coalesce(p_limit::text, 'NULL')
            USING ERRCODE = 'CR044', HINT = 'the default is 20';
    END IF;
    -- types: the seed's names (account, contact, opportunity, ticket) or crm360's node types
    SELECT string_agg(coalesce(t, 'NULL'), ', ') INTO v_bad
      FROM unnest(p_types) t
     WHERE t IS NULL OR t NOT IN ('account', 'org', 'contact', 'person', 'opportunity', 'ticket');
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'unknown search type(s): %', v_bad USING ERRCODE = 'CR044',
            HINT = 'types: account (org), contact (person), opportunity, ticket';
    END IF;
    SELECT coalesce(array_agg(DISTINCT CASE t WHEN 'account' THEN 'org' WHEN 'contact' THEN 'person' ELSE t END),
                    '{org,person,opportunity,ticket}')
      INTO v_types FROM unnest(p_types) t;
    IF NOT v_admin THEN
        v_princ := crm_private.caller_principals(p_role);
        -- node grants only: assertion, edge and event grants do not widen which nodes or chunks
        -- are visible (their holders are answered by the acl overlap like everyone else)
        v_grants := (SELECT coalesce(jsonb_agg(g), '[]') FROM jsonb_array_elements(crm_private.grants_of(v_princ)) g
                      WHERE g ->> 'resource_type' = 'node');
    END IF;
    v_fold := crm_private.search_fold(v_q);
    v_lower := lower(v_q);
    -- a domain: from an email address, a URL or the text itself
    v_domain := CASE WHEN v_lower LIKE '%@%' THEN split_part(v_lower, '@', 2) ELSE v_lower END;
    v_domain := regexp_replace(v_domain, '^[a-z][a-z0-9+.-]*://', '');
    v_domain := regexp_replace(split_part(split_part(v_domain, '/', 1), ':', 1), '^www\.', '');
    IF v_domain !~ '^[a-z0-9-]+(\.[a-z0-9-]+)+$' THEN
        v_domain := NULL;
    END IF;
    IF pg_input_is_valid(v_q, 'uuid') THEN
        v_uuid := v_q::uuid;
    END IF;

    -- who sees what decides where candidates come from: an admin or a caller with grants may
    -- see any node, so the indexes on what was typed are probed over all nodes; anyone else
    -- sees exactly the nodes whose acl overlaps their principals (and the public ones, acl
    -- NULL: none of the searched types today), so those are read first (GIN nodes_acl; the
    -- cost follows what the caller sees, not the size of the graph) and the typed-text
    -- indexes are probed over public nodes only.
    v_all := v_admin OR v_grants <> '[]'::jsonb;
    v_code_j := jsonb_build_object('code', upper(v_q));
    v_email_j := jsonb_build_object('email', v_lower);
    v_domain_j := CASE WHEN v_domain IS NOT NULL THEN jsonb_build_object('domain', v_domain) END;

    RETURN QUERY
    WITH cand AS (
        -- candidate ids only; each branch is one index probe (the literal node_type lists let
        -- the partial indexes apply). Whether and why a candidate matches is decided once, below.
        SELECT n.id FROM crm.nodes n WHERE n.id = v_uuid AND (v_all OR n.acl IS NULL)
        UNION
        SELECT n.id FROM crm.nodes n
         WHERE n.external_id IS NOT NULL AND n.archived_at IS NULL AND n.external_id = ANY (ARRAY[v_q, ltrim(v_q, '#')])
           AND (v_all OR n.acl IS NULL)
        UNION
        SELECT n.id FROM crm.nodes n
         WHERE n.properties @> v_code_j AND (v_all OR n.acl IS NULL)
        UNION
        SELECT n.id FROM crm.nodes n
         WHERE n.properties @> v_email_j AND (v_all OR n.acl IS NULL)
        UNION
        SELECT n.id FROM crm.nodes n
         WHERE n.properties @> v_domain_j AND (v_all OR n.acl IS NULL)
        UNION
        SELECT n.id FROM crm.nodes n
         WHERE n.node_type IN ('org', 'person', 'opportunity', 'ticket') AND n.archived_at IS NULL
           AND crm_private.search_fold(n.label) = v_fold AND (v_all OR n.acl IS NULL)
        UNION
        SELECT n.id FROM crm.nodes n
         WHERE n.node_type IN ('org', 'person', 'opportunity', 'ticket') AND n.archived_at IS NULL
           AND (crm_private.search_fold(n.label) OPERATOR(extensions.%) v_fold
                OR v_fold OPERATOR(extensions.<%) crm_private.search_fold(n.label))
           AND (v_all OR n.acl IS NULL)
        UNION
        -- emails: similarity (typos) and word similarity (a part: "jon.doe@acme"), each one
        -- scan of the trigram index nodes_search_email_trgm
        SELECT n.id FROM crm.nodes n
         WHERE v_q !~ '\s' AND n.node_type = 'person' AND n.archived_at IS NULL
           AND lower(n.properties ->> 'email') OPERATOR(extensions.%) v_lower
           AND (v_all OR n.acl IS NULL)
        UNION
        SELECT n.id FROM crm.nodes n
         WHERE v_q !~ '\s' AND n.node_type = 'person' AND n.archived_at IS NULL
           AND v_lower OPERATOR(extensions.<%) lower(n.properties ->> 'email')
           AND (v_all OR n.acl IS NULL)
        UNION
        -- the restricted nodes the caller sees (not for admins and grant holders: above)
        SELECT n.id FROM crm.nodes n
         WHERE NOT v_all AND n.acl && v_princ
           AND n.node_type IN ('org', 'person', 'opportunity', 'ticket') AND n.archived_at IS NULL
    ), vis AS MATERIALIZED (
        -- the explicit visibility filter (the nodes policy's rules for p_role), on candidates only;
        -- the fold and each trigram measure computed once per candidate (MATERIALIZED: inlined,
        -- every reference below would compute them again)
        SELECT x.*,
               extensions.similarity(x.fl, v_fold) AS sim, extensions.word_similarity(v_fold, x.fl) AS wsim,
               extensions.similarity(x.email, v_lower) AS esim, extensions.word_similarity(v_lower, x.email) AS ewsim
          FROM (SELECT n.id, n.node_type, n.label, n.external_id, n.properties, crm_private.search_fold(n.label) AS fl,
                       CASE WHEN n.node_type = 'person' AND v_q !~ '\s' THEN lower(n.properties ->> 'email') END AS email
                  FROM cand c JOIN crm.nodes n ON n.id = c.id
                 WHERE n.node_type = ANY (v_types) AND n.archived_at IS NULL
                   AND (v_admin OR n.acl IS NULL OR n.acl && v_princ
                        OR (v_grants <> '[]'::jsonb
                            AND crm_private.node_grant_match(v_grants, 'read', n.node_type, n.attrs, n.acl)))
                OFFSET 0) x
    ), reasons AS (
        SELECT v.id, v.node_type, v.label,
               v.id = v_uuid AS by_id,
               v.external_id = ANY (ARRAY[v_q, ltrim(v_q, '#')]) AS by_key,
               v.properties @> v_code_j AS by_code,
               v.fl = v_fold AS by_name,
               v.properties @> v_email_j AS by_email,
               coalesce(v.properties @> v_domain_j, false) AS by_domain,
               CASE WHEN v.sim >= v_sim_t OR v.wsim >= v_wsim_t
                    THEN round(0.85 * greatest(v.sim, v.wsim)::numeric, 3) END AS name_score,
               CASE WHEN v.esim >= v_sim_t OR v.ewsim >= v_wsim_t
                    THEN round(0.85 * greatest(v.esim, v.ewsim)::numeric, 3) END AS email_score
          FROM vis v
    ), matched AS (
        -- why a node matched (the one definition): its best reason — the highest score, ties by
        -- the reason's name — with score. similar_*: the session's pg_trgm thresholds, as the %
        -- and <% operators of the index probes use them
        SELECT r.id, r.node_type, r.label, x.why,
               CASE x.why WHEN 'similar_name' THEN r.name_score WHEN 'similar_email' THEN r.email_score
                          WHEN 'email' THEN 0.95 WHEN 'exact_name' THEN 0.95 WHEN 'domain' THEN 0.9
                          ELSE 1.0 END AS score
          FROM reasons r
         CROSS JOIN LATERAL (SELECT CASE
                   WHEN r.by_code THEN 'code'
                   WHEN r.by_key AND r.node_type <> 'ticket' THEN 'crm_id'
                   WHEN r.by_id THEN 'id'
                   WHEN r.by_key THEN 'ticket_id'
                   WHEN r.by_email THEN 'email'
                   WHEN r.by_name THEN 'exact_name'
                   WHEN r.by_domain THEN 'domain'
                   WHEN r.email_score >= coalesce(r.name_score, 0) THEN 'similar_email'
                   WHEN r.name_score IS NOT NULL THEN 'similar_name' END AS why) x
         WHERE x.why IS NOT NULL
    ), top AS (
        SELECT m.id, m.node_type, m.label, m.score, m.why FROM matched m ORDER BY m.score DESC, m.label, m.id LIMIT p_limit
    )
    SELECT v.id, v.node_type, v.label, acc.id, acc.label, v.score, v.why
      FROM top v
      LEFT JOIN LATERAL (
          SELECT o.id, o.label FROM crm.nodes o
           WHERE o.id = CASE WHEN v.node_type = 'org' THEN v.id ELSE
                            (SELECT e.target_id FROM crm.edges e JOIN crm.nodes t ON t.id = e.target_id AND t.node_type = 'org'
                              WHERE e.source_id = v.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL
                                AND e.effective_to IS NULL
                              ORDER BY e.created_at DESC LIMIT 1) END
             AND (v_admin OR o.acl IS NULL OR o.acl && v_princ
                  OR (v_grants <> '[]'::jsonb AND crm_private.node_grant_match(v_grants, 'read', o.node_type, o.attrs, o.acl)))
      ) acc ON true
     ORDER BY v.score DESC, v.label, v.id;
END;
$$;

COMMENT ON FUNCTION crm_private.search_nodes(text, text[], integer, name) IS
    'The work of crm.search as crm_owner: index-driven candidates, then the nodes policy''s rules for p_role (the caller''s current_user, trusted only when the session may become it). Example: SELECT * FROM crm_private.search_nodes(''acme'', NULL, 20, current_user);';
