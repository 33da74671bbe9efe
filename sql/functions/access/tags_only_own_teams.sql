-- crm_private.tags_only_own_teams(p_attrs, p_principals) — does a node's attrs tag it only with
-- teams among p_principals? attrs.teams (names) is what team-scoped grants match, so a member
-- may tag a node only with their own teams (an admin tags for any team).
-- Guarantees: true when attrs has no teams key, or its teams is an array of names of team
-- nodes among p_principals; false for a non-array or any other name. Runs as its caller: the
-- one rule of crm_private.tg_nodes__validate (a member's own write) and of crm360's SECURITY
-- DEFINER write API (crm_private.create_opportunity_as, which writes as crm_owner).
CREATE OR REPLACE FUNCTION crm_private.tags_only_own_teams(p_attrs jsonb, p_principals uuid[])
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT NOT (p_attrs ? 'teams')
        OR (jsonb_typeof(p_attrs -> 'teams') = 'array'
            AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(p_attrs -> 'teams') AS t(name)
                             WHERE t.name NOT IN (SELECT m.properties ->> 'name' FROM crm.nodes m
                                                   WHERE m.id = ANY (p_principals) AND m.node_type = 'team')))
$$;

COMMENT ON FUNCTION crm_private.tags_only_own_teams(jsonb, uuid[]) IS
    'True when attrs.teams is absent or an array naming only teams among the given principals (a member''s team tags).';
