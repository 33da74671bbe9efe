-- crm.advance_deal_stage(...) — move a deal to another stage of its pipeline (seed 001
-- §4.2/§5.2, corrected).
-- Guarantees: the opportunity row is locked (FOR NO KEY UPDATE) before anything is read,
-- so concurrent advances of one deal serialize and moved_from is always the true previous
-- stage; the new stage must be a stage key of the deal's pipeline; a deal in a terminal
-- stage (terminal: true, e.g. closed_won/closed_lost) only moves with p_reopen => true;
-- moving to the current stage is a no-op that returns the current assertion id (safe to
-- retry); otherwise a stage_change event (participant: the deal, role subject) and a new
-- deal_stage assertion {stage, pipeline, moved_from, reason} superseding the old one are
-- written in the caller's transaction. The work is crm_private.advance_deal_stage_as's (SECURITY
-- DEFINER: it checks the caller's permission once and writes exactly what the caller may). Actor: the acting CRM user (crm.current_actor()), else the login role; p_actor may name another actor for admins only (for a writer, any other value is refused: 42501).
CREATE OR REPLACE FUNCTION crm.advance_deal_stage(
    p_opp_id    uuid,
    p_new_stage text,
    p_reason    text DEFAULT NULL,
    p_actor     text DEFAULT NULL,
    p_reopen    boolean DEFAULT false
)
RETURNS uuid
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.advance_deal_stage_as(current_user, p_opp_id, p_new_stage, p_reason, p_actor, p_reopen)
$$;

COMMENT ON FUNCTION crm.advance_deal_stage(uuid, text, text, text, boolean) IS
$c$Move an opportunity to another stage of its pipeline: logs a stage_change event (opportunity as subject) and supersedes the deal_stage assertion with {stage, pipeline, moved_from, reason}; returns the new assertion id. Guarantees: concurrent advances of one deal serialize on the deal's row, so moved_from is always the true previous stage; moving to the current stage is a no-op returning the current assertion id; leaving a terminal stage needs p_reopen => true. Actor: the acting CRM user (crm.current_actor()), else the login role; p_actor may name another actor for admins only (for a writer, any other value is refused: 42501). Errors: P0002 unknown opportunity or no pipeline, CR020 archived, 22023 blank stage, CR001 stage not in the pipeline (hint lists the stages), CR002 terminal stage without p_reopen. Example: SELECT crm.advance_deal_stage('<opp uuid>', 'negotiation', 'Proposal accepted, entering terms discussion');$c$;
