-- crm_private.create_opportunity_as(p_role, ...) — crm.create_opportunity's work for the caller's
-- role p_role (crm.create_opportunity passes current_user). SECURITY DEFINER: the caller's
-- permission is checked once, here, and the node, its first deal_stage and its two edges are then
-- written as crm_owner, without row-level security re-deriving the caller's identity and write
-- permission in every nested statement (issue 16).
-- Guarantees:
-- * p_role must be a role the session may become (crm_private.role_trusted) that may make the
--   call (EXECUTE on the public function, crm_writer's privileges) — 42501 otherwise, as
--   SET ROLE p_role and the call would answer; its identity is resolved only then (through
--   crm_private.role_is_admin and crm_private.caller_identity): for any other role there is no
--   identity and nothing is written (CR030);
-- * it writes only what the same call as p_role under row-level security would write, and
--   refuses what that call refused, with the same errors:
--   - the pipeline and the assignee are read only when p_role can see them (P0002 otherwise,
--     and the hint lists only pipelines p_role can see);
--   - opportunity nodes, the pipeline_member edge and (with an assignee) the assigned_to edge
--     must be of types p_role may write (write_scope member, or admin for admins: 42501), and deal_stage, when registered
--     as sensitive, readable by p_role (a grant: 42501);
--   - a member needs a CRM identity (CR030), may tag the deal only with their own teams
--     (crm_private.tags_only_own_teams: 42501), and owns what they create: the deal is claimed
--     by them (a claimable type; a type that is not claimable and access-checked would be
--     visible to nobody but admins: 42501), as crm_private.tg_nodes__validate makes a member's
--     own insert; an admin's deal is unclaimed, as before;
-- * the rest is crm.create_opportunity's: one OPP code (gap-free), the initial deal_stage is the
--   pipeline's default stage, the pipeline_member edge, and an assigned_to edge (role owner)
--   when an assignee is given; triggers validate the rows as for any crm_owner statement
--   (required properties, edge endpoint types, archived endpoints) with crm.bulk_apply and the
--   other flags pinned off.
CREATE OR REPLACE FUNCTION crm_private.create_opportunity_as(
    p_role           name,
    p_name           text,
    p_pipeline_code  text,
    p_assigned_to_id uuid,
    p_properties     jsonb,
    p_teams          text[]
)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- every statement below is a key lookup whatever the arguments: one generic plan each
SET plan_cache_mode = 'force_generic_plan'
AS $$
DECLARE
    v_admin         boolean;
    v_id            crm_private.identity;
    v_type          crm.node_types%ROWTYPE;
    v_attrs         jsonb;
    v_claim         uuid;
    v_opp_id        uuid;
    v_code          text;
    v_pipeline_id   uuid;
    v_default_stage text;
    v_assignee      record;
    v_now           timestamptz := clock_timestamp();
BEGIN
    -- p_role must be a role the session may become that may make this call at all (a reader the
    -- session may SET ROLE to may not: review of issue 16)
    PERFORM crm_private.require_writer_call(p_role, 'crm.create_opportunity(text,text,uuid,jsonb,text[])');
    v_admin := crm_private.role_is_admin(p_role);
    v_id := crm_private.caller_identity(p_role, true);    -- nothing for an untrusted role
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION 'p_name must not be blank' USING ERRCODE = '22023';
    END IF;
    IF p_properties IS NOT NULL AND jsonb_typeof(p_properties) <> 'object' THEN
        RAISE EXCEPTION 'p_properties must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF p_teams IS NOT NULL AND array_position(p_teams, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'p_teams must not contain NULL' USING ERRCODE = '22023';
    END IF;

    -- the pipeline, as p_role sees pipelines (not access-checked as registered: acl NULL)
    SELECT p.id,
           coalesce(p.properties ->> 'default_stage',
                    (SELECT s ->> 'key' FROM jsonb_array_elements(p.properties -> 'stages') s
                      WHERE coalesce(s -> 'terminal', 'false') <> 'true'
                      ORDER BY (s ->> 'order')::numeric NULLS LAST LIMIT 1))
      INTO v_pipeline_id, v_default_stage
      FROM crm.nodes p
     WHERE p.node_type = 'pipeline' AND p.properties ->> 'code' = p_pipeline_code
       AND p.archived_at IS NULL
       AND crm_private.node_read_rule(p.acl, p.node_type, p.attrs, v_admin, v_id.principals, v_id.grants)
     ORDER BY p.created_at
     LIMIT 1;
    IF v_pipeline_id IS NULL THEN
        RAISE EXCEPTION 'pipeline % does not exist', coalesce(p_pipeline_code, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'live pipelines: ' || coalesce(
                         (SELECT string_agg(p.properties ->> 'code', ', ' ORDER BY p.properties ->> 'code')
                            FROM crm.nodes p
                           WHERE p.node_type = 'pipeline' AND p.archived_at IS NULL
                             AND crm_private.node_read_rule(p.acl, p.node_type, p.attrs, v_admin,
                                                            v_id.principals, v_id.grants)),
                         'none');
    END IF;
    IF v_default_stage IS NULL THEN
        RAISE EXCEPTION 'pipeline % has no default stage', p_pipeline_code USING ERRCODE = 'CR001';
    END IF;

    -- the assignee, as p_role sees people
    IF p_assigned_to_id IS NOT NULL THEN
        SELECT n.node_type, n.archived_at INTO v_assignee
          FROM crm.nodes n
         WHERE n.id = p_assigned_to_id
           AND crm_private.node_read_rule(n.acl, n.node_type, n.attrs, v_admin, v_id.principals, v_id.grants);
        IF NOT FOUND THEN
            RAISE EXCEPTION 'assignee % does not exist', p_assigned_to_id USING ERRCODE = 'P0002';
        END IF;
        IF v_assignee.node_type NOT IN ('person', 'user') THEN
            RAISE EXCEPTION 'an opportunity can be assigned to a person or user, not a %', v_assignee.node_type
                USING ERRCODE = 'CR012';
        END IF;
        IF v_assignee.archived_at IS NOT NULL THEN
            RAISE EXCEPTION 'assignee % is archived', p_assigned_to_id USING ERRCODE = 'CR020';
        END IF;
    END IF;

    -- what the nodes, edges and assertions policies and the nodes trigger require of p_role
    SELECT * INTO v_type FROM crm.node_types t WHERE t.node_type = 'opportunity';
    IF NOT (v_type.write_scope = 'member' OR (v_type.write_scope = 'admin' AND v_admin))
       OR EXISTS (SELECT 1 FROM crm.edge_types t
                   WHERE (t.edge_type = 'pipeline_member' OR (t.edge_type = 'assigned_to' AND p_assigned_to_id IS NOT NULL))
                     AND NOT (t.write_scope = 'member' OR (t.write_scope = 'admin' AND v_admin))) THEN
        RAISE EXCEPTION 'opportunities are not writable by %', p_role USING ERRCODE = '42501';
    END IF;
    IF NOT v_admin AND EXISTS (SELECT 1 FROM crm.assertion_types t
                                WHERE t.assertion_type = 'deal_stage' AND t.sensitive)
       AND NOT crm_private.type_grant_match(v_id.grants, 'assertion', 'read', 'deal_stage') THEN
        RAISE EXCEPTION 'deal_stage is sensitive: writing it needs a read grant for it' USING ERRCODE = '42501';
    END IF;
    v_attrs := jsonb_build_object('teams', to_jsonb(coalesce(p_teams, '{}')));
    IF NOT v_admin THEN
        IF v_id.actor IS NULL THEN
            RAISE EXCEPTION 'writing nodes needs a CRM identity; % has none', p_role
                USING ERRCODE = 'CR030',
                      HINT = 'map the login with crm.map_login(role, user), or call crm.act_as(user) from a crm_service role';
        END IF;
        IF NOT crm_private.tags_only_own_teams(v_attrs, v_id.principals) THEN
            RAISE EXCEPTION 'you may only tag a node with your own teams'
                USING ERRCODE = '42501', HINT = 'attrs.teams: names of teams you are a member of (an admin tags for other teams)';
        END IF;
        IF v_type.claimable THEN
            v_claim := v_id.actor;      -- what a member creates, they own (seed 002)
        ELSIF v_type.access_checked THEN
            RAISE EXCEPTION 'a new opportunity would be visible to nobody but admins'
                USING ERRCODE = '42501',
                      HINT = 'restrict it to one of your teams (restricted_to), or create it through a function that links it to an account';
        END IF;
    END IF;

    v_code := crm.generate_crm_code('OPP');

    INSERT INTO crm.nodes (node_type, label, properties, attrs, external_id, external_source, claimed_by)
    VALUES ('opportunity', btrim(p_name),
            coalesce(p_properties, '{}') || jsonb_build_object('name', btrim(p_name), 'code', v_code),
            v_attrs, v_code, 'internal', v_claim)
    RETURNING id INTO v_opp_id;

    -- the initial deal_stage: the deal was inserted a moment ago in this transaction and no
    -- other transaction can see it (or write an assertion about it) until commit, so there is
    -- no current stage to supersede and no writer to serialise with (what
    -- crm_private.supersede_assertion_as would look for and lock)
    INSERT INTO crm.assertions (assertion_type, subject_node_id, assertion_key, claim, confidence, asserted_at)
    VALUES ('deal_stage', v_opp_id, '',
            jsonb_build_object('stage', v_default_stage, 'pipeline', p_pipeline_code), 1.0, clock_timestamp());

    INSERT INTO crm.edges (edge_type, source_id, target_id, properties)
    VALUES ('pipeline_member', v_opp_id, v_pipeline_id, jsonb_build_object('entered_at', v_now));

    IF p_assigned_to_id IS NOT NULL THEN
        INSERT INTO crm.edges (edge_type, source_id, target_id, properties, effective_from)
        VALUES ('assigned_to', v_opp_id, p_assigned_to_id, '{"role": "owner"}', v_now);
    END IF;

    RETURN v_opp_id;
END;
$$;

COMMENT ON FUNCTION crm_private.create_opportunity_as(name, text, text, uuid, jsonb, text[]) IS
    'crm.create_opportunity for the caller''s role p_role (a role the session may become): checks p_role''s permission once, then writes as crm_owner exactly what the call would write under row-level security.';
