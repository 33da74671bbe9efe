-- crm_private.supersede_assertion_as(p_role, ...) — crm.supersede_assertion's work, with the
-- role whose write permission decides whether the assertion key is locked passed in:
-- crm.supersede_assertion passes current_user (its statements run as the caller, under
-- row-level security); crm360's SECURITY DEFINER write API (crm_private.advance_deal_stage_as)
-- passes the caller's role after checking that role's permission itself (its statements run as
-- crm_owner). Invoker: it never runs with more rights than its caller has.
-- Guarantees: crm.supersede_assertion's (one current assertion per key, a complete history
-- chain, the 40001/P0002/22023 checks of p_old_assertion_id, time running forward), with
-- the key's lock taken only when p_role may write the assertion (crm_private.assertion_lock)
-- — or, when crm360's SECURITY DEFINER write API has checked p_role on the subject itself and
-- says so (p_role_checked, honoured only running as crm_owner), taken directly under the same
-- name (crm_private.assertion_lock_key).
-- (the signature before p_role_checked; its grants are re-applied by sql/rls/000_privileges.sql)
DROP FUNCTION IF EXISTS crm_private.supersede_assertion_as(name, uuid, text, uuid, uuid, jsonb, uuid, numeric, text);

CREATE OR REPLACE FUNCTION crm_private.supersede_assertion_as(
    p_role                name,
    p_old_assertion_id    uuid,
    p_new_assertion_type  text,
    p_new_subject_node_id uuid,
    p_new_subject_edge_id uuid,
    p_new_claim           jsonb,
    p_new_source_event_id uuid DEFAULT NULL,
    p_new_confidence      numeric DEFAULT 1.0,
    p_assertion_key       text DEFAULT '',
    p_role_checked        boolean DEFAULT false
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_current uuid;
    v_old     record;
    v_new_id  uuid;
    v_key     text := coalesce(p_assertion_key, '');
    v_now     timestamptz;
    v_checked boolean;
BEGIN
    IF p_new_assertion_type IS NULL THEN
        RAISE EXCEPTION 'p_new_assertion_type is required' USING ERRCODE = '22023';
    END IF;
    IF num_nonnulls(p_new_subject_node_id, p_new_subject_edge_id) <> 1 THEN
        RAISE EXCEPTION 'exactly one of p_new_subject_node_id and p_new_subject_edge_id must be given'
            USING ERRCODE = '22023';
    END IF;
    IF p_new_claim IS NULL OR jsonb_typeof(p_new_claim) <> 'object' THEN
        RAISE EXCEPTION 'p_new_claim must be a JSON object' USING ERRCODE = '22023';
    END IF;

    -- Serialize writers of this (subject, type, key). Readers are never blocked, and cannot
    -- hold the lock themselves: its key is salted with a secret (crm_private.xact_lock).
    -- For a caller it is taken only when the caller may write this assertion
    -- (crm_private.assertion_lock). crm360's own SECURITY DEFINER code that has checked
    -- p_role's permission on the subject itself (crm_private.advance_deal_stage_as: before and
    -- after locking the deal) says so with p_role_checked and takes the same lock directly —
    -- honoured only running as crm_owner: a caller passing it runs as itself
    v_checked := p_role_checked AND current_user = 'crm_owner';
    IF v_checked THEN
        PERFORM crm_private.xact_lock(crm_private.assertion_lock_key(
                    coalesce(p_new_subject_node_id, p_new_subject_edge_id), p_new_assertion_type, v_key));
    ELSE
        PERFORM crm_private.assertion_lock(coalesce(p_new_subject_node_id, p_new_subject_edge_id),
                                           p_new_assertion_type, v_key, p_role);
    END IF;
    v_now := clock_timestamp();

    SELECT a.id INTO v_current
      FROM crm.assertions a
     WHERE a.superseded_at IS NULL
       AND a.assertion_type = p_new_assertion_type
       AND a.assertion_key = v_key
       AND (a.subject_node_id = p_new_subject_node_id OR a.subject_edge_id = p_new_subject_edge_id)
       FOR UPDATE;

    IF p_old_assertion_id IS NOT NULL AND p_old_assertion_id IS DISTINCT FROM v_current THEN
        SELECT a.id, a.assertion_type, a.subject_node_id, a.subject_edge_id, a.assertion_key,
               a.superseded_by
          INTO v_old
          FROM crm.assertions a WHERE a.id = p_old_assertion_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'assertion % does not exist', p_old_assertion_id USING ERRCODE = 'P0002';
        END IF;
        IF v_old.assertion_type <> p_new_assertion_type
           OR v_old.subject_node_id IS DISTINCT FROM p_new_subject_node_id
           OR v_old.subject_edge_id IS DISTINCT FROM p_new_subject_edge_id
           OR v_old.assertion_key <> v_key THEN
            RAISE EXCEPTION 'assertion % is not a % assertion about this subject', p_old_assertion_id, p_new_assertion_type
                USING ERRCODE = '22023', HINT = 'supersede an assertion of the same subject, type and key';
        END IF;
        RAISE EXCEPTION 'assertion % is no longer current', p_old_assertion_id
            USING ERRCODE = '40001',
                  DETAIL = format('it was superseded by %s; the current one is %s', v_old.superseded_by, v_current),
                  HINT = 're-read crm.current_assertions and retry';
    END IF;

    -- the current claim stops being current first (one current per key: partial unique
    -- index), then the new one is inserted and chained to its predecessor. Its id is assigned
    -- by the database, never by the caller (a primary-key conflict would tell a caller that a
    -- hidden row exists): for crm360's own checked SECURITY DEFINER code (running as
    -- crm_owner) it is drawn here first, so the predecessor is closed and chained in one
    -- update, in the same statement as the insert (the chain's foreign key holds at the
    -- statement's end, also for a caller that SET CONSTRAINTS ALL IMMEDIATE; the insert reads
    -- the update's result, so the update runs first); a caller under row-level security cannot
    -- name an id, and its new claim is chained by a second update
    IF v_checked AND v_current IS NOT NULL THEN
        v_new_id := crm_private.new_id();
        WITH closed AS (
            UPDATE crm.assertions SET superseded_at = v_now, superseded_by = v_new_id
             WHERE id = v_current
            RETURNING id
        )
        INSERT INTO crm.assertions (id, assertion_type, subject_node_id, subject_edge_id, assertion_key,
                                    claim, confidence, asserted_at, source_event_id)
        SELECT v_new_id, p_new_assertion_type, p_new_subject_node_id, p_new_subject_edge_id, v_key,
               p_new_claim, coalesce(p_new_confidence, 1.0), v_now, p_new_source_event_id
          FROM closed;
    ELSE
        IF v_current IS NOT NULL THEN
            UPDATE crm.assertions SET superseded_at = v_now WHERE id = v_current;
        END IF;
        INSERT INTO crm.assertions (assertion_type, subject_node_id, subject_edge_id, assertion_key,
                                    claim, confidence, asserted_at, source_event_id)
        VALUES (p_new_assertion_type, p_new_subject_node_id, p_new_subject_edge_id, v_key,
                p_new_claim, coalesce(p_new_confidence, 1.0), v_now, p_new_source_event_id)
        RETURNING id INTO v_new_id;
        IF v_current IS NOT NULL THEN
            UPDATE crm.assertions SET superseded_by = v_new_id WHERE id = v_current;
        END IF;
    END IF;

    RETURN v_new_id;
END;
$$;

COMMENT ON FUNCTION crm_private.supersede_assertion_as(name, uuid, text, uuid, uuid, jsonb, uuid, numeric, text, boolean) IS
    'crm.supersede_assertion for the caller''s role p_role (which decides the assertion-key lock, crm_private.assertion_lock); runs as its caller.';
