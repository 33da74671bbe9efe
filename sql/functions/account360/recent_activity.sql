-- crm.recent_activity(p_account_id, p_days) — events across all systems for one account in the
-- last p_days days, newest first (seed 000 AI tool RecentActivity; DESIGN §5).
-- Guarantees: SECURITY INVOKER (row-level security applies); the account must be an account
-- the caller can see (P0002 otherwise — the same error as a non-existent id; a merged-away id
-- resolves to the kept account); 1 <= p_days <= 3650 (22023); events up to now (future
-- meetings are not "recent"); the rows of crm.timeline for the account.
CREATE OR REPLACE FUNCTION crm.recent_activity(p_account_id uuid, p_days int DEFAULT 30)
RETURNS TABLE (occurred_at timestamptz, source text, event_type text, channel text, summary text,
               about_node_id uuid, about_type text, about_label text, event_id uuid)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    IF p_days IS NULL OR p_days < 1 OR p_days > 3650 THEN
        RAISE EXCEPTION 'p_days must be between 1 and 3650, got %', coalesce(p_days::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    v_id := crm_private.resolve_account_id(p_account_id);
    RETURN QUERY
        SELECT * FROM crm.timeline(v_id, NULL, NULL, now() - make_interval(days => p_days), now());
END;
$$;

COMMENT ON FUNCTION crm.recent_activity(uuid, int) IS
$c$Events across CRM, ticketing, contracts and billing for one account in the last p_days days (default 30), newest first (seed 000 RecentActivity): occurred_at, source, event_type, channel, summary, the node it is about (id, type, label) and event_id (NULL for derived invoice_overdue rows). Only what the caller may see. Errors: 22023 p_days outside 1..3650 or NULL id; P0002 not an account, not found or not visible. Example: SELECT * FROM crm.recent_activity('6f1c...'::uuid, 14);$c$;
