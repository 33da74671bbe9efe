-- crm_private.reconcile_salesforce_event() — mapping of salesforce Event records (docs/graph_contract.md).
-- Guarantees: each Event Id becomes one meeting event (occurred_at = StartDateTime) with
-- participants account, contact (attendee), opportunity (subject) and owner user (owner);
-- the Description is attached as meeting_notes. Replays add nothing (events external key).
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_salesforce_event()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country)
    SELECT r.id, 'salesforce', 'Event', r.external_id, 'activity', r.source_updated_at,
           nullif(concat_ws('; ', crm_private.rc_check('StartDateTime', r.p -> 'StartDateTime', 'timestamptz'), crm_private.rc_check('EndDateTime', r.p -> 'EndDateTime', 'timestamptz'), crm_private.rc_check('LastModifiedDate', r.p -> 'LastModifiedDate', 'timestamptz')), ''),
           NULL, NULL, NULL, NULL, NULL, false,
           CASE WHEN left(nullif(btrim(r.p ->> 'WhatId'), ''), 3) = '001' THEN nullif(btrim(r.p ->> 'WhatId'), '') END,
           CASE WHEN left(nullif(btrim(r.p ->> 'WhatId'), ''), 3) = '006' THEN ARRAY['salesforce', 'Opportunity', nullif(btrim(r.p ->> 'WhatId'), '')]
                WHEN nullif(btrim(r.p ->> 'WhoId'), '') IS NOT NULL THEN ARRAY['salesforce', 'Contact', nullif(btrim(r.p ->> 'WhoId'), '')] END,
           NULL, NULL, NULL,
           jsonb_strip_nulls(jsonb_build_object(
               'attendee', CASE WHEN nullif(btrim(r.p ->> 'WhoId'), '') IS NOT NULL THEN jsonb_build_array('salesforce', 'Contact', nullif(btrim(r.p ->> 'WhoId'), '')) END,
               'subject', CASE WHEN left(nullif(btrim(r.p ->> 'WhatId'), ''), 3) = '006' THEN jsonb_build_array('salesforce', 'Opportunity', nullif(btrim(r.p ->> 'WhatId'), '')) END,
               'owner', CASE WHEN nullif(btrim(r.p ->> 'OwnerId'), '') IS NOT NULL THEN jsonb_build_array('salesforce', 'User', nullif(btrim(r.p ->> 'OwnerId'), '')) END)),
           NULL,
           jsonb_build_object('event_type', 'meeting', 'occurred_at', coalesce(crm_private.rc_ts(r.p -> 'StartDateTime'), crm_private.rc_ts(r.p -> 'ActivityDateTime'), r.source_updated_at),
                              'summary', coalesce(nullif(btrim(r.p ->> 'Subject'), ''), '(no subject)'), 'properties', jsonb_strip_nulls(jsonb_build_object('subject', nullif(btrim(r.p ->> 'Subject'), ''), 'location', nullif(btrim(r.p ->> 'Location'), ''), 'duration_minutes', (extract(epoch FROM crm_private.rc_ts(r.p -> 'EndDateTime') - crm_private.rc_ts(r.p -> 'StartDateTime')) / 60)::integer, 'salesforce_id', r.external_id))),
           nullif(btrim(r.p ->> 'Description'), ''), 'meeting_notes', NULL, NULL
      FROM crm_private.rc_pending('salesforce', 'Event') r;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_salesforce_event() IS
    'Reconciliation mapping of salesforce Event: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
