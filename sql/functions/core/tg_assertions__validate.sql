-- crm_private.tg_assertions__validate() — BEFORE INSERT OR UPDATE on crm.assertions.
-- Guarantees on INSERT: the assertion type is registered (CR010); the subject is a node or
-- an edge as the type requires, exists and is visible to the caller (42501; 23503 for admins) and has an allowed node type (CR014); the
-- source event, if any, is visible to the caller (42501, the same answer as for a missing
-- one; 23503 for admins) and, for a writer who is not an admin, was recorded by them (42501:
-- its actor is who the stage history shows); the
-- claim has every required key non-null, every registered key of its declared JSON type,
-- and satisfies the type's jsonpath rule (CR013); acl and sensitive are copied from the
-- subject and the type.
-- Guarantees on UPDATE: an assertion is history — only superseded_at/superseded_by may be
-- set, once (CR015), and a successor a caller names must be the next claim of the same
-- subject, type and key, asserted when this one was closed (CR015); acl/sensitive only by ACL
-- maintenance.
CREATE OR REPLACE FUNCTION crm_private.tg_assertions__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- generic plans: its lookups are by key, and a custom plan per row for the cited event's
-- visibility check (under the events policy) cost several times its execution
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_row record;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.assertion_type <> OLD.assertion_type
           OR NEW.subject_node_id IS DISTINCT FROM OLD.subject_node_id
           OR NEW.subject_edge_id IS DISTINCT FROM OLD.subject_edge_id
           OR NEW.assertion_key <> OLD.assertion_key
           OR NEW.claim <> OLD.claim
           OR NEW.confidence <> OLD.confidence
           OR NEW.asserted_at <> OLD.asserted_at
           OR NEW.source_event_id IS DISTINCT FROM OLD.source_event_id
           OR (OLD.superseded_at IS NOT NULL AND NEW.superseded_at IS DISTINCT FROM OLD.superseded_at)
           OR (OLD.superseded_by IS NOT NULL AND NEW.superseded_by IS DISTINCT FROM OLD.superseded_by)
           OR ((NEW.acl IS DISTINCT FROM OLD.acl OR NEW.sensitive IS DISTINCT FROM OLD.sensitive)
               AND NOT (coalesce(current_setting('crm.acl_maintenance', true), '') = 'on'
                        AND crm_private.acl_maintenance())) THEN
            RAISE EXCEPTION 'assertion % is history and cannot be changed', OLD.id
                USING ERRCODE = 'CR015',
                      HINT = 'record a new claim with crm.supersede_assertion(...)';
        END IF;
        -- a successor a caller names must be the next claim of the same key, asserted when this
        -- one was closed, as crm.supersede_assertion chains them (read as the caller: a hidden
        -- row counts as missing); crm360's own code (crm_owner) names it in the statement that
        -- inserts it (crm_private.supersede_assertion_as)
        IF NEW.superseded_by IS NOT NULL AND OLD.superseded_by IS NULL AND current_user <> 'crm_owner'
           AND NOT EXISTS (SELECT 1 FROM crm.assertions s
                            WHERE s.id = NEW.superseded_by AND s.id <> NEW.id
                              AND s.assertion_type = NEW.assertion_type
                              AND s.subject_node_id IS NOT DISTINCT FROM NEW.subject_node_id
                              AND s.subject_edge_id IS NOT DISTINCT FROM NEW.subject_edge_id
                              AND s.assertion_key = NEW.assertion_key
                              AND s.asserted_at = NEW.superseded_at) THEN
            RAISE EXCEPTION 'assertion % can only be superseded by the next claim of its subject, type and key', OLD.id
                USING ERRCODE = 'CR015',
                      HINT = 'record a new claim with crm.supersede_assertion(...)';
        END IF;
        RETURN NEW;
    END IF;

    -- One query per row: registry row, subject node (read as the caller) and the claim checks.
    SELECT t.assertion_type, t.subject_types, t.subject_is_edge, t.claim_required, t.claim_properties,
           t.claim_rule, t.sensitive,
           n.id AS n_id, n.node_type AS n_type, n.acl AS n_acl,
           c.missing, c.bad, c.rule_ok
      INTO v_row
      FROM (SELECT 1) one
      LEFT JOIN crm.assertion_types t ON t.assertion_type = NEW.assertion_type
      LEFT JOIN crm.nodes n ON n.id = NEW.subject_node_id
      LEFT JOIN LATERAL crm_private.claim_problems(NEW.claim, t.claim_required, t.claim_properties, t.claim_rule) c
             ON true;

    IF v_row.assertion_type IS NULL THEN
        RAISE EXCEPTION 'unknown assertion type "%"', NEW.assertion_type
            USING ERRCODE = 'CR010',
                  HINT = 'registered assertion types: ' ||
                         (SELECT string_agg(t.assertion_type, ', ' ORDER BY t.assertion_type) FROM crm.assertion_types t);
    END IF;

    IF v_row.subject_is_edge THEN
        IF NEW.subject_edge_id IS NULL THEN
            RAISE EXCEPTION 'a % assertion is about an edge', NEW.assertion_type
                USING ERRCODE = 'CR014', HINT = 'pass subject_edge_id, not subject_node_id';
        END IF;
        PERFORM 1 FROM crm.edges e WHERE e.id = NEW.subject_edge_id;
        IF NOT FOUND THEN
            IF pg_catalog.pg_has_role(current_user, 'crm_admin', 'MEMBER') THEN
                RAISE EXCEPTION 'subject edge % does not exist', NEW.subject_edge_id USING ERRCODE = '23503';
            END IF;
            RAISE EXCEPTION 'subject edge % does not exist or is not visible to you', NEW.subject_edge_id
                USING ERRCODE = '42501';
        END IF;
        NEW.acl := '{}';   -- checked through the edge (both ends visible)
    ELSE
        IF NEW.subject_node_id IS NULL THEN
            RAISE EXCEPTION 'a % assertion is about a node', NEW.assertion_type
                USING ERRCODE = 'CR014', HINT = 'pass subject_node_id, not subject_edge_id';
        END IF;
        IF v_row.n_id IS NULL THEN
            PERFORM crm_private.raise_not_visible('subject', NEW.subject_node_id);
        END IF;
        IF v_row.subject_types IS NOT NULL AND NOT (v_row.n_type = ANY (v_row.subject_types)) THEN
            RAISE EXCEPTION 'a % assertion cannot be about a % node', NEW.assertion_type, v_row.n_type
                USING ERRCODE = 'CR014',
                      HINT = format('%s is about: %s', NEW.assertion_type, array_to_string(v_row.subject_types, ', '));
        END IF;
        NEW.acl := v_row.n_acl;
    END IF;

    -- the event a claim cites must be visible too: a foreign-key error for a missing event
    -- (and success for a hidden one) would tell the caller that a hidden event exists
    IF NEW.source_event_id IS NOT NULL AND current_user <> 'crm_owner'
       AND NOT EXISTS (SELECT 1 FROM crm.events e WHERE e.id = NEW.source_event_id) THEN
        IF crm_private.actor_is_admin() THEN
            RAISE EXCEPTION 'source event % does not exist', NEW.source_event_id USING ERRCODE = '23503';
        END IF;
        RAISE EXCEPTION 'source event % does not exist or is not visible to you', NEW.source_event_id
            USING ERRCODE = '42501';
    END IF;
    -- and a writer cites only an event they recorded themselves: the source event's actor is who
    -- the stage history shows as having made the change (crm.opportunity_stage_history.changed_by),
    -- so citing a colleague's call or an ingested Salesforce event would put their name on it
    -- (third review of issue 11, F1)
    IF NEW.source_event_id IS NOT NULL AND current_user <> 'crm_owner'
       AND (TG_OP = 'INSERT' OR NEW.source_event_id IS DISTINCT FROM OLD.source_event_id)
       AND NOT EXISTS (SELECT 1 FROM crm.events e
                        WHERE e.id = NEW.source_event_id AND e.recorded_by = crm.current_actor())
       AND NOT crm_private.actor_is_admin() THEN
        RAISE EXCEPTION 'a claim may cite only an event you recorded'
            USING ERRCODE = '42501',
                  HINT = 'record the event that caused the claim first (crm.log_crm_activity, crm.log_note, ...), or leave the source event out';
    END IF;

    IF v_row.missing IS NOT NULL THEN
        RAISE EXCEPTION 'a % claim needs %', NEW.assertion_type, v_row.missing
            USING ERRCODE = 'CR013',
                  DETAIL = format('claim shape: %s', v_row.claim_properties::text),
                  HINT = format('required keys: %s', array_to_string(v_row.claim_required, ', '));
    END IF;
    IF v_row.bad IS NOT NULL THEN
        RAISE EXCEPTION 'malformed % claim: %', NEW.assertion_type, v_row.bad
            USING ERRCODE = 'CR013', DETAIL = format('claim shape: %s', v_row.claim_properties::text),
                  HINT = 'fix the JSON types of the claim keys';
    END IF;
    IF NOT v_row.rule_ok THEN
        RAISE EXCEPTION 'malformed % claim: % violates %', NEW.assertion_type, NEW.claim::text, v_row.claim_rule::text
            USING ERRCODE = 'CR013', HINT = format('the claim must satisfy %s', v_row.claim_rule::text);
    END IF;
    NEW.sensitive := v_row.sensitive;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_assertions__validate() IS
    'Trigger: validates assertion type, subject and claim shape on insert (CR010, CR013, CR014, 23503); makes assertions immutable except for supersession (CR015).';

-- skipped (WHEN) only for crm360's own statements (current_user crm_owner) in rc_apply's bulk
-- mode, which does this work set-based; every SECURITY DEFINER function pins crm.bulk_apply off,
-- so no caller's setting reaches crm_owner's code, and a caller's own statements never skip it
CREATE OR REPLACE TRIGGER tg_assertions__validate
    BEFORE INSERT OR UPDATE ON crm.assertions
    FOR EACH ROW
    WHEN (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_assertions__validate();
