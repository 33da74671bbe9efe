-- crm.create_opportunity(...) — a new deal in a pipeline (seed 001 §5.1, corrected).
-- Guarantees, all in the caller's transaction: the pipeline exists (P0002, instead of the
-- seed's silent NULL); the opportunity gets a fresh OPP code in properties.code and as
-- external_id with external_source 'internal'; its initial deal_stage assertion (the
-- pipeline's default stage) is written through crm.supersede_assertion; a pipeline_member
-- edge links it to the pipeline; when p_assigned_to_id is given it must be a live person or
-- user and gets an open assigned_to edge with role owner. p_teams go to attrs.teams.
-- The work is crm_private.create_opportunity_as's (SECURITY DEFINER: it checks the caller's
-- permission once and writes exactly what the caller may).
CREATE OR REPLACE FUNCTION crm.create_opportunity(
    p_name           text,
    p_pipeline_code  text,
    p_assigned_to_id uuid,
    p_properties     jsonb DEFAULT '{}',
    p_teams          text[] DEFAULT '{}'
)
RETURNS uuid
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.create_opportunity_as(current_user, p_name, p_pipeline_code, p_assigned_to_id,
                                             p_properties, p_teams)
$$;

COMMENT ON FUNCTION crm.create_opportunity(text, text, uuid, jsonb, text[]) IS
$c$Create an opportunity in a pipeline: OPP code (properties.code and external_id/internal), initial deal_stage = the pipeline's default stage, pipeline_member edge, and an assigned_to edge (role owner) when p_assigned_to_id is given; p_teams are stored in attrs.teams. One transaction. Errors: 22023 blank name / bad properties, P0002 unknown pipeline (hint lists pipelines) or assignee, CR012 assignee not a person/user, CR020 archived assignee. Example: SELECT crm.create_opportunity('Acme renewal', 'PL-SALES', '<person uuid>', '{"estimated_value": 50000}', '{sales}');$c$;
