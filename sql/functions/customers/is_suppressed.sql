-- crm_private.is_suppressed(p_person, p_at) — is the customer suppressed (seed 002 "Exit —
-- Suppress": no outreach) at p_at?
-- Guarantees: true when the current do_not_contact assertion about the person (seed 001) is
-- not lifted and has no expiry or expires after p_at's date; false otherwise (also for a
-- node the caller cannot see: read as the caller). SQL-standard body: inlined by the planner.
CREATE OR REPLACE FUNCTION crm_private.is_suppressed(p_person uuid, p_at timestamptz DEFAULT now())
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT EXISTS (
        SELECT 1 FROM crm.assertions a
         WHERE a.subject_node_id = p_person AND a.assertion_type = 'do_not_contact'
           AND a.assertion_key = '' AND a.superseded_at IS NULL
           AND NOT coalesce((a.claim ->> 'lifted')::boolean, false)
           AND (a.claim ->> 'expires' IS NULL OR (a.claim ->> 'expires')::date > (p_at AT TIME ZONE 'UTC')::date));
END;

COMMENT ON FUNCTION crm_private.is_suppressed(uuid, timestamptz) IS
    'True when the person has a current, unlifted, unexpired do_not_contact assertion (suppressed: no outreach).';
