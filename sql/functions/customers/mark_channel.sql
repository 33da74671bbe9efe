-- crm.mark_channel(p_channel, p_status, p_reason) — mark a contact channel active, bounced or
-- invalid (seed 002: a channel can be marked bounced/invalid).
-- Guarantees: the channel is visible and its person writable for the caller (42501, the same
-- for hidden and missing); the status is recorded as a channel_status assertion superseding
-- the previous one (history kept; CR013 for an unknown status); marking it as it already is
-- changes nothing and returns false. A bounced or invalid channel is never picked by
-- crm.pick_channel. Returns true when the status changed.
CREATE OR REPLACE FUNCTION crm.mark_channel(p_channel uuid, p_status text, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_person uuid;
BEGIN
    SELECT h.source_id INTO v_person
      FROM crm.nodes c JOIN crm.edges h ON h.target_id = c.id AND h.edge_type = 'has_channel' AND h.archived_at IS NULL
     WHERE c.id = p_channel AND c.node_type = 'channel'
     LIMIT 1;
    IF v_person IS NULL OR NOT crm_private.can_write_node(v_person) THEN
        RAISE EXCEPTION 'channel % does not exist or you may not write its customer', p_channel
            USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
    END IF;
    IF coalesce((SELECT a.claim ->> 'status' FROM crm.assertions a
                  WHERE a.subject_node_id = p_channel AND a.assertion_type = 'channel_status'
                    AND a.assertion_key = '' AND a.superseded_at IS NULL), 'active') = p_status THEN
        RETURN false;
    END IF;
    PERFORM crm.supersede_assertion(NULL, 'channel_status', p_channel, NULL,
                                    jsonb_strip_nulls(jsonb_build_object('status', p_status, 'reason', p_reason)));
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.mark_channel(uuid, text, text) IS
$c$Mark a contact channel active, bounced or invalid (channel_status assertion, history kept); bounced and invalid channels are never picked for outreach. Returns false when it already had that status. Errors: 42501 channel hidden/missing or its customer not writable for you, CR013 unknown status. Example: SELECT crm.mark_channel('<channel uuid>', 'bounced', 'mailbox does not exist');$c$;
