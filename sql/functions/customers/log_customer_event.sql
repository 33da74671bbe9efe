-- crm.log_customer_event(p_person, p_event_type, p_properties, p_occurred_at, p_summary) —
-- record an outreach or conversation event of the seed 002 activity log about a customer
-- (email sent/opened/clicked/replied/bounced, LinkedIn and Telegram sent/replied, bot
-- replied/escalated).
-- Guarantees: the type is one of the registry's outreach types (22023 otherwise — tag,
-- segment, task, note, scoring and ownership events are crm360's, logged by their functions);
-- the properties have the type's registered detail shape (CR013, crm.event_types
-- .detail_required / detail_shape); the customer is a person visible to the caller (P0002
-- otherwise) whom the caller may write (42501: seed 002 scoping, crm_private.can_write_node —
-- a colleague's claimed customer is logged by its owner); the event happened at most 5 minutes
-- in the future (22023: a date far ahead would pin the customer's last activity); the event has the customer as subject, so it is in the
-- customer's timeline under its channel (email, linkedin, telegram, bot). An email_bounced
-- event naming a channel_id of the customer marks that channel bounced (crm.mark_channel).
-- Returns the event id.
CREATE OR REPLACE FUNCTION crm.log_customer_event(
    p_person      uuid,
    p_event_type  text,
    p_properties  jsonb DEFAULT '{}',
    p_occurred_at timestamptz DEFAULT now(),
    p_summary     text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_event uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM crm.event_types t WHERE t.event_type = p_event_type AND t.event_group = 'outreach') THEN
        RAISE EXCEPTION 'not an outreach event type: %', coalesce(p_event_type, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'types: ' || (SELECT string_agg(t.event_type, ', ' ORDER BY t.event_type)
                                         FROM crm.event_types t WHERE t.event_group = 'outreach');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_person AND n.node_type = 'person') THEN
        RAISE EXCEPTION 'customer % not found', p_person USING ERRCODE = 'P0002';
    END IF;
    IF NOT crm_private.can_write_node(p_person) THEN
        RAISE EXCEPTION 'you may not write customer %', p_person USING ERRCODE = '42501',
              HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
    END IF;
    IF p_occurred_at IS NULL OR p_occurred_at > now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'an outreach event happened in the past, not at %', coalesce(p_occurred_at::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'occurred_at at most 5 minutes ahead of now()';
    END IF;
    v_event := crm.log_crm_activity(p_event_type,
                                    coalesce(p_summary, initcap(replace(p_event_type, '_', ' '))
                                                        || coalesce(': ' || (p_properties ->> 'subject'), '')),
                                    coalesce(p_properties, '{}'), NULL, ARRAY[p_person], ARRAY['subject'], p_occurred_at);
    IF p_event_type = 'email_bounced' AND pg_input_is_valid(p_properties ->> 'channel_id', 'uuid')
       AND EXISTS (SELECT 1 FROM crm.edges h WHERE h.source_id = p_person AND h.edge_type = 'has_channel'
                      AND h.target_id = (p_properties ->> 'channel_id')::uuid AND h.archived_at IS NULL) THEN
        PERFORM crm.mark_channel((p_properties ->> 'channel_id')::uuid, 'bounced', p_properties ->> 'reason');
    END IF;
    RETURN v_event;
END;
$$;

COMMENT ON FUNCTION crm.log_customer_event(uuid, text, jsonb, timestamptz, text) IS
$c$Log an outreach event about a customer (email_sent/opened/clicked/replied/bounced, linkedin_sent/replied, telegram_sent/replied, bot_replied/escalated) with its registered detail shape; it shows in crm.timeline under its channel. An email_bounced with the customer's channel_id marks that channel bounced. Returns the event id. Errors: 22023 not an outreach type or occurred_at more than 5 minutes ahead, CR013 details not of the registered shape, P0002 customer not found/visible, 42501 customer not writable for you. Example: SELECT crm.log_customer_event('<person uuid>', 'email_sent', '{"subject": "Welcome", "channel_id": "<channel uuid>"}');$c$;
