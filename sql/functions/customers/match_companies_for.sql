-- crm_private.match_companies_for(p_person_ids, p_role) — domain auto-match (seed 002 Companies):
-- link each given person without a current employer to the one company their email domain
-- belongs to.
-- Guarantees: a person (live, no open employs edge) is linked (employs org -> person, effective
-- now) when the domain of one of their live, usable email channels — else of
-- properties.email — is the domain of exactly one live org (properties.domain, normalised as
-- reconciliation stores it); free-mail domains (crm_raw.free_mail_domains) never match, nor
-- does a domain two or more companies share (ambiguous: nothing is guessed). Each link logs a
-- company_matched event (subject the person, the company as participant). Set-based; internal
-- (EXECUTE for nobody): called by crm360's own definer code as crm_owner (crm.add_channel,
-- crm.match_companies). Returns the number of people linked.
-- p_role: the member the match is made for (crm.add_channel's caller, trusted by its caller):
-- only companies that role can see take part — a hidden company is no match (not linked, its
-- id never in an event, and no ambiguity from it: nothing tells it exists); NULL (crm.
-- match_companies, an admin's job) or an admin role: every company. The one-argument form is
-- p_role NULL.
CREATE OR REPLACE FUNCTION crm_private.match_companies_for(p_person_ids uuid[], p_role name)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_people uuid[];
    v_orgs   uuid[];
    v_doms   text[];
    v_all    boolean := p_role IS NULL OR crm_private.role_is_admin(p_role);
    v_princ  uuid[] := CASE WHEN p_role IS NOT NULL THEN crm_private.caller_principals(p_role) END;
    v_grants jsonb := CASE WHEN p_role IS NOT NULL THEN crm_private.caller_grants(p_role) END;
BEGIN
    WITH cand AS (
        SELECT DISTINCT p.id AS person_id, split_part(d.email, '@', 2) AS dom
          FROM crm.nodes p
         CROSS JOIN LATERAL (
               SELECT c.properties ->> 'value' AS email
                 FROM crm.edges h JOIN crm.nodes c ON c.id = h.target_id
                WHERE h.source_id = p.id AND h.edge_type = 'has_channel' AND h.archived_at IS NULL
                  AND c.archived_at IS NULL AND c.properties ->> 'channel_type' = 'email'
               UNION ALL
               SELECT lower(btrim(p.properties ->> 'email'))) d
         WHERE p.id = ANY (p_person_ids) AND p.node_type = 'person' AND p.archived_at IS NULL
           AND d.email LIKE '%_@_%'
           AND NOT EXISTS (SELECT 1 FROM crm.edges e WHERE e.target_id = p.id AND e.edge_type = 'employs'
                              AND e.archived_at IS NULL AND e.effective_to IS NULL)
    ), m AS (
        SELECT c.person_id, c.dom, min(a.id::text)::uuid AS org_id, count(DISTINCT a.id) AS n
          FROM cand c
          JOIN crm.nodes a ON a.node_type = 'org' AND a.archived_at IS NULL AND a.properties ->> 'domain' = c.dom
                          -- for a member: only the companies they can see (a hidden one is no match)
                          AND (v_all OR a.acl IS NULL OR a.acl && v_princ
                               OR crm_private.node_grant_match(v_grants, 'read', a.node_type, a.attrs, a.acl))
         WHERE NOT EXISTS (SELECT 1 FROM crm_raw.free_mail_domains f WHERE c.dom LIKE f.pattern)
         GROUP BY c.person_id, c.dom
    ), one AS (
        -- one company per person: domains pointing at different companies are ambiguous too
        SELECT m.person_id, min(m.dom) AS dom, min(m.org_id::text)::uuid AS org_id
          FROM m WHERE m.n = 1
         GROUP BY m.person_id HAVING count(DISTINCT m.org_id) = 1
    ), ins AS (
        INSERT INTO crm.edges (edge_type, source_id, target_id, properties, effective_from)
        SELECT 'employs', one.org_id, one.person_id, jsonb_build_object('source', 'domain_match'), now()
          FROM one
        RETURNING source_id, target_id
    )
    SELECT array_agg(ins.target_id), array_agg(ins.source_id), array_agg(one.dom)
      INTO v_people, v_orgs, v_doms
      FROM ins JOIN one ON one.person_id = ins.target_id;
    IF v_people IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM crm_private.write_customer_events(
        array_fill('company_matched'::text, ARRAY[cardinality(v_people)]), v_people,
        (SELECT array_agg(jsonb_build_object('domain', d, 'company_id', o) ORDER BY i)
           FROM unnest(v_doms, v_orgs) WITH ORDINALITY AS u(d, o, i)),
        (SELECT array_agg('Matched to company by email domain ' || d ORDER BY i)
           FROM unnest(v_doms) WITH ORDINALITY AS u(d, i)),
        v_orgs, array_fill('company'::text, ARRAY[cardinality(v_people)]));
    RETURN cardinality(v_people);
END;
$$;

COMMENT ON FUNCTION crm_private.match_companies_for(uuid[], name) IS
    'Internal: domain auto-match (p_role: only companies that role can see; NULL: all) — links people without a current employer to the one company their email domain belongs to (never free-mail, never ambiguous), logging company_matched.';


CREATE OR REPLACE FUNCTION crm_private.match_companies_for(p_person_ids uuid[])
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.match_companies_for(p_person_ids, NULL::name)
$$;

COMMENT ON FUNCTION crm_private.match_companies_for(uuid[]) IS
    'Internal: domain auto-match over every company (crm_private.match_companies_for(ids, NULL)).';
