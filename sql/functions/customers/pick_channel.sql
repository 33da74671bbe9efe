-- crm.pick_channel(p_person, p_kind) — the channel automation should use to reach a customer
-- (seed 002: automation picks a channel; the channel maps to the matching contact).
-- Guarantees: at most one row; nothing when the customer is suppressed (do_not_contact,
-- crm_private.is_suppressed), archived, or not visible to the caller (read as the caller:
-- row-level security decides); only live channels of the kind (NULL = any kind) whose
-- current channel_status is active (bounced and invalid never); the preferred one first
-- (has_channel primary), then the most recently added. 22023 for an unknown kind.
CREATE OR REPLACE FUNCTION crm.pick_channel(p_person uuid, p_kind text DEFAULT NULL)
RETURNS TABLE (channel_id uuid, kind text, value text, preferred boolean)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_kind IS NOT NULL AND p_kind NOT IN ('email', 'phone', 'linkedin', 'telegram') THEN
        RAISE EXCEPTION 'unknown channel kind %', p_kind
            USING ERRCODE = '22023', HINT = 'kinds: email, phone, linkedin, telegram';
    END IF;
    RETURN QUERY
    SELECT c.id, c.properties ->> 'channel_type', c.properties ->> 'value',
           coalesce((h.properties ->> 'primary')::boolean, false)
      FROM crm.nodes p
      JOIN crm.edges h ON h.source_id = p.id AND h.edge_type = 'has_channel' AND h.archived_at IS NULL
      JOIN crm.nodes c ON c.id = h.target_id AND c.node_type = 'channel' AND c.archived_at IS NULL
     WHERE p.id = p_person AND p.node_type = 'person' AND p.archived_at IS NULL
       AND (p_kind IS NULL OR c.properties ->> 'channel_type' = p_kind)
       AND NOT crm_private.is_suppressed(p.id)
       AND coalesce((SELECT a.claim ->> 'status' FROM crm.assertions a
                      WHERE a.subject_node_id = c.id AND a.assertion_type = 'channel_status'
                        AND a.assertion_key = '' AND a.superseded_at IS NULL), 'active') = 'active'
     ORDER BY coalesce((h.properties ->> 'primary')::boolean, false) DESC, h.created_at DESC, c.id
     LIMIT 1;
END;
$$;

COMMENT ON FUNCTION crm.pick_channel(uuid, text) IS
$c$The channel automation should use for a customer: live, of the kind (NULL = any), active (never bounced or invalid), the preferred one first, then the newest; no row when the customer is suppressed, archived or not visible to you. Errors: 22023 unknown kind. Example: SELECT * FROM crm.pick_channel('<person uuid>', 'email');$c$;
