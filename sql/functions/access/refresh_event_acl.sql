-- crm_private.refresh_event_acl(p_event_ids) — what the events are about, and who sees them.
-- Guarantees: events.about := the access-checked participants taking part as subject, else
-- (none) as account, else every access-checked participant ('{}' when none: admins only);
-- events.acl := the union of their acl. Copied onto the event's participant rows (event_acl)
-- and onto artifacts attached only to the event, and onto the event's search chunks
-- (crm.chunks.acl, by crm_private.chunk_acl_of: the recorder for an event about nothing). One definition of the rule
-- (crm_private.event_about_of), shared with reconciliation's set-based path.
CREATE OR REPLACE FUNCTION crm_private.refresh_event_acl(p_event_ids uuid[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- one generic plan for every call: with a custom plan per call (the default for an array
-- parameter) planning cost more than running the statements for the one or two events of a
-- write; the generic plans are index scans by event id, at any array size
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    PERFORM set_config('crm.acl_maintenance', 'on', true);
    WITH comp AS (
        SELECT e.id, a.about, a.acl
          FROM crm.events e
         CROSS JOIN LATERAL crm_private.event_about_of(e.id) a
         WHERE e.id = ANY (p_event_ids)
    ), upd AS (
        UPDATE crm.events e SET acl = comp.acl, about = comp.about
          FROM comp
         WHERE e.id = comp.id AND (e.acl IS DISTINCT FROM comp.acl OR e.about IS DISTINCT FROM comp.about)
    ), changed AS (
        -- accounts taking part, in any role, in an event whose participants were written (the
        -- last touch of crm_private.accounts_360_facts counts every role: an account that only
        -- attended counts too) or whose acl changed: their stored Account 360 row is no longer
        -- served (crm_private.accounts_360_stored). All events of the call, not only those whose
        -- acl changed here: an event written with its final acl (declared at insert) changes
        -- the account's facts all the same
        INSERT INTO crm_private.changed_accounts (account_id, changed_at)
        SELECT DISTINCT p.node_id, now()
          FROM comp JOIN crm.event_participants p ON p.event_id = comp.id
          JOIN crm.nodes o ON o.id = p.node_id AND o.node_type = 'org'
    ), upd_p AS (
        -- every participant row of the events, not only of events whose acl changed: a
        -- participant added to an event whose acl it does not change still needs the copy
        UPDATE crm.event_participants p SET event_acl = comp.acl
          FROM comp
         WHERE p.event_id = comp.id AND p.event_acl IS DISTINCT FROM comp.acl
    )
    -- (each UPDATE also names its rows by p_event_ids directly: the plan is generic, and with
    -- statistics a bulk load has outdated a join to comp alone was planned as a scan of every
    -- artifact — 12 ms per call for reconciliation's membership events, 67,800 artifacts)
    UPDATE crm.artifacts a SET acl = comp.acl
      FROM comp
     WHERE a.event_id = ANY (p_event_ids) AND a.event_id = comp.id AND a.node_id IS NULL
       AND a.acl IS DISTINCT FROM comp.acl;
    -- the events' search chunks, in a statement of its own: its snapshot sees chunks written
    -- by a transaction that held the event row (crm_private.chunk_acl_of reads it FOR SHARE)
    -- and committed while the UPDATE above waited for it
    UPDATE crm.chunks c SET acl = x.acl
      FROM (SELECT k.id, crm_private.chunk_acl_of(k.event_id, NULL) AS acl
              FROM crm.chunks k WHERE k.event_id = ANY (p_event_ids)) x
     WHERE c.event_id = ANY (p_event_ids) AND c.id = x.id AND c.acl IS DISTINCT FROM x.acl;
END;
$$;

COMMENT ON FUNCTION crm_private.refresh_event_acl(uuid[]) IS
    'Recomputes events.about/acl from the participants (subject, else account, else all access-checked) and copies the acl to the participants'' event_acl, to event-attached artifacts and to the events'' search chunks.';
