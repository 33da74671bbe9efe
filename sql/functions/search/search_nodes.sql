-- crm_private.search_nodes(p_query, p_types, p_limit, p_role) — the work of crm.search, as
-- crm_owner, for the role p_role (the caller's current_user, passed by crm.search).
-- Why SECURITY DEFINER: under row-level security a caller's query may use an index only
-- with leakproof operators, and pg_trgm's % / <% / similarity are not leakproof — as the
-- caller, every search would scan all nodes of the types. As the owner the candidates come
-- from the indexes (nodes_search_label_trgm, nodes_search_email_trgm, nodes_search_external_id,
-- nodes_properties, the primary key), and then EVERY candidate, and the account shown with
-- it, passes an explicit visibility filter: exactly the rules of the nodes policy (admin;
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
    v_grants jsonb;
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
        v_grants := crm_private.grants_of(v_princ);
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

    RETURN QUERY
    WITH cand AS (
        -- each branch is one index probe; the literal node_type lists let the partial indexes apply
        SELECT n.id, 1.0::numeric AS score, 'id'::text AS why
          FROM crm.nodes n WHERE n.id = v_uuid
        UNION ALL
        SELECT n.id, 1.0, CASE WHEN n.node_type = 'ticket' THEN 'ticket_id' ELSE 'crm_id' END
          FROM crm.nodes n
         WHERE n.external_id IS NOT NULL AND n.archived_at IS NULL AND n.external_id = ANY (ARRAY[v_q, ltrim(v_q, '#')])
        UNION ALL
        SELECT n.id, 1.0, 'code'
          FROM crm.nodes n WHERE n.properties @> jsonb_build_object('code', upper(v_q))
        UNION ALL
        SELECT n.id, 0.95, 'exact_name'
          FROM crm.nodes n
         WHERE n.node_type IN ('org', 'person', 'opportunity', 'ticket') AND n.archived_at IS NULL
           AND crm_private.search_fold(n.label) = v_fold
        UNION ALL
        SELECT n.id, 0.95, 'email'
          FROM crm.nodes n WHERE n.properties @> jsonb_build_object('email', v_lower)
        UNION ALL
        SELECT n.id, 0.9, 'domain'
          FROM crm.nodes n WHERE v_domain IS NOT NULL AND n.properties @> jsonb_build_object('domain', v_domain)
        UNION ALL
        SELECT n.id,
               round(0.85 * greatest(extensions.similarity(crm_private.search_fold(n.label), v_fold),
                                     extensions.word_similarity(v_fold, crm_private.search_fold(n.label)))::numeric, 3),
               'similar_name'
          FROM crm.nodes n
         WHERE n.node_type IN ('org', 'person', 'opportunity', 'ticket') AND n.archived_at IS NULL
           AND (crm_private.search_fold(n.label) OPERATOR(extensions.%) v_fold
                OR v_fold OPERATOR(extensions.<%) crm_private.search_fold(n.label))
        UNION ALL
        -- emails: similarity (typos) and word similarity (a part: "jon.doe@acme") as two
        -- branches, each one scan of the trigram index nodes_search_email_trgm
        SELECT n.id,
               round(0.85 * greatest(extensions.similarity(lower(n.properties ->> 'email'), v_lower),
                                     extensions.word_similarity(v_lower, lower(n.properties ->> 'email')))::numeric, 3),
               'similar_email'
          FROM crm.nodes n
         WHERE v_q !~ '\s'        -- an email has no white space
           AND n.node_type = 'person' AND n.archived_at IS NULL
           AND lower(n.properties ->> 'email') OPERATOR(extensions.%) v_lower
        UNION ALL
        SELECT n.id,
               round(0.85 * greatest(extensions.similarity(lower(n.properties ->> 'email'), v_lower),
                                     extensions.word_similarity(v_lower, lower(n.properties ->> 'email')))::numeric, 3),
               'similar_email'
          FROM crm.nodes n
         WHERE v_q !~ '\s'
           AND n.node_type = 'person' AND n.archived_at IS NULL
           AND v_lower OPERATOR(extensions.<%) lower(n.properties ->> 'email')
    ), best AS (
        SELECT DISTINCT ON (c.id) c.id, c.score, c.why FROM cand c ORDER BY c.id, c.score DESC, c.why
    ), vis AS (
        -- the explicit visibility filter (the nodes policy's rules for p_role), on candidates only
        SELECT n.id, n.node_type, n.label, b.score, b.why
          FROM best b JOIN crm.nodes n ON n.id = b.id
         WHERE n.node_type = ANY (v_types) AND n.archived_at IS NULL
           AND (v_admin OR n.acl IS NULL OR n.acl && v_princ
                OR (v_grants <> '[]'::jsonb AND crm_private.node_grant_match(v_grants, 'read', n.node_type, n.attrs, n.acl)))
    )
    SELECT v.id, v.node_type, v.label, acc.id, acc.label, v.score, v.why
      FROM vis v
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
     ORDER BY v.score DESC, v.label, v.id
     LIMIT p_limit;
END;
$$;

COMMENT ON FUNCTION crm_private.search_nodes(text, text[], integer, name) IS
    'The work of crm.search as crm_owner: index-driven candidates, then the nodes policy''s rules for p_role (the caller''s current_user, trusted only when the session may become it). Example: SELECT * FROM crm_private.search_nodes(''acme'', NULL, 20, current_user);';
