-- crm_private.reconcile_zendesk_ticket_comment() — mapping of zendesk ticket_comments records (docs/graph_contract.md).
-- Guarantees: each comment becomes one ticket_comment event (participants: ticket as subject,
-- its account, the author person) with the body attached as a ticket_comment artifact; a
-- comment whose ticket is unknown is an orphan until the ticket arrives.
-- Stages the newest pending version per key into pg_temp.rc_stage (the common shape that
-- crm_private.rc_apply writes to the graph, set-based). Returns the number of rows staged.
CREATE OR REPLACE FUNCTION crm_private.reconcile_zendesk_ticket_comment()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO pg_temp.rc_stage (record_id, source, object, external_id, kind, source_time, reject_reason, node_type, node_source, node_key, label, properties, deleted, acct_crm_id, acct_ref, acct_domains, email, phone, refs, assertions, activity, body, artifact_type, owner_id, country)
    SELECT r.id, 'zendesk', 'ticket_comments', r.external_id, 'activity', r.source_updated_at,
           nullif(concat_ws('; ', CASE WHEN nullif(btrim(r.p ->> 'ticket_id'), '') IS NULL THEN 'missing ticket_id' END, crm_private.rc_check('ticket_id', r.p -> 'ticket_id', 'integer'), crm_private.rc_check('created_at', r.p -> 'created_at', 'timestamptz'), crm_private.rc_check('author_id', r.p -> 'author_id', 'integer'), crm_private.rc_check('public', r.p -> 'public', 'boolean')), ''),
           NULL, NULL, NULL, NULL, NULL, false,
           NULL, ARRAY['zendesk', 'tickets', nullif(btrim(r.p ->> 'ticket_id'), '')], NULL, NULL, NULL,
           jsonb_strip_nulls(jsonb_build_object('subject', jsonb_build_array('zendesk', 'tickets', nullif(btrim(r.p ->> 'ticket_id'), '')),
                             'author', CASE WHEN nullif(btrim(r.p ->> 'author_id'), '') IS NOT NULL THEN jsonb_build_array('zendesk', 'users', nullif(btrim(r.p ->> 'author_id'), '')) END)),
           NULL,
           jsonb_build_object('event_type', 'ticket_comment',
                              'occurred_at', coalesce(crm_private.rc_ts(r.p -> 'created_at'), r.source_updated_at),
                              'summary', left(coalesce(nullif(btrim(r.p ->> 'plain_body'), ''), nullif(btrim(r.p ->> 'body'), ''), '(empty comment)'), 140),
                              'properties', jsonb_strip_nulls(jsonb_build_object('public', crm_private.rc_bool(r.p -> 'public'),
                                                              'author_id', nullif(btrim(r.p ->> 'author_id'), ''), 'ticket_id', nullif(btrim(r.p ->> 'ticket_id'), ''),
                                                              'zendesk_id', r.external_id))),
           coalesce(nullif(btrim(r.p ->> 'body'), ''), nullif(btrim(r.p ->> 'plain_body'), ''), nullif(btrim(r.p ->> 'html_body'), '')), 'ticket_comment', NULL, NULL
      FROM crm_private.rc_pending('zendesk', 'ticket_comments') r;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_zendesk_ticket_comment() IS
    'Reconciliation mapping of zendesk ticket_comments: stages pending records in the common shape (rc_stage) for crm_private.rc_apply.';
