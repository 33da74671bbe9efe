-- crm.activities — one row per event the caller can see, with its account, type, channel,
-- source, time and summary, flat and typed for BI (issue 12): meetings, calls, emails, notes,
-- ticket/contract/invoice/opportunity events across all systems. Audit events (event groups
-- access and system: restrictions, grants, memberships, archiving) are left out, as in
-- crm.timeline. crm.activities_detail has the jsonb (properties, participants).
-- The account of an event: its org participant (role account first), else the account its
-- subject (or another participant) is owned_by. Every event about an account's child has the
-- account as participant (docs/graph_contract.md), so "activities per account" is a GROUP BY.
-- Times: occurred_at is when it happened at the source (ticket_opened = the ticket's
-- created_at, opportunity_created = CreatedDate, ...: crm.tickets.opened_at and the
-- ticket_opened rows here agree).
-- Visibility: security_invoker — events, participants and nodes are read as the caller
-- (row-level security: an event is visible through what it is about). For non-admins the
-- candidate events are found through the nodes they can see (crm_private.visible_node_ids,
-- acl index, then event_participants by node): the cost follows what the caller can see.
CREATE OR REPLACE VIEW crm.activities
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT DISTINCT p.event_id AS id
      FROM adm
     CROSS JOIN crm.node_types t
     CROSS JOIN LATERAL crm_private.visible_node_ids(t.node_type, current_user) AS v(id)
      JOIN crm.event_participants p ON p.node_id = v.id
     WHERE NOT adm.is_admin AND t.access_checked
)
SELECT ev.id                                            AS event_id,
       ev.id::text                                      AS event_id_text,
       ev.event_type,
       coalesce(et.channel, et.event_group)             AS channel,
       et.event_group,
       coalesce(ev.external_source, ev.actor_system, 'crm360') AS source,
       ev.occurred_at,
       ev.recorded_at,
       coalesce(ev.summary, initcap(replace(ev.event_type, '_', ' '))) AS summary,
       (ev.event_type IN ('meeting', 'phone_call', 'email') AND ev.occurred_at <= now()) AS is_touch,
       coalesce(ap.id, ao.id)                           AS account_id,
       coalesce(ap.id, ao.id)::text                     AS account_id_text,
       coalesce(ap.name, ao.name)                       AS account_name,
       coalesce(ap.crm_id, ao.crm_id)                   AS account_crm_id,
       ab.id                                            AS about_id,
       ab.id::text                                      AS about_id_text,
       ab.node_type                                     AS about_type,
       ab.label                                         AS about_name,
       coalesce(up.id, ur.id)                           AS user_id,
       coalesce(up.id, ur.id)::text                     AS user_id_text,
       coalesce(up.label, ur.label)                     AS user_name
  FROM (SELECT e.* FROM crm.events e WHERE (SELECT is_admin FROM adm)
        UNION ALL
        SELECT e.* FROM vis JOIN crm.events e ON e.id = vis.id WHERE NOT (SELECT is_admin FROM adm)) ev
  JOIN crm.event_types et ON et.event_type = ev.event_type AND et.event_group NOT IN ('access', 'system')
  LEFT JOIN LATERAL (   -- the org taking part (role account first)
      SELECT a.id, coalesce(a.properties ->> 'name', a.label) AS name,
             CASE WHEN a.external_source = 'salesforce' THEN a.external_id END AS crm_id
        FROM crm.event_participants p
        JOIN crm.nodes a ON a.id = p.node_id
       WHERE p.event_id = ev.id AND a.node_type = 'org'
       ORDER BY (p.role = 'account') DESC, a.id
       LIMIT 1) ap ON true
  LEFT JOIN LATERAL (   -- else the account a participant is owned_by (subject first)
      SELECT a.id, coalesce(a.properties ->> 'name', a.label) AS name,
             CASE WHEN a.external_source = 'salesforce' THEN a.external_id END AS crm_id
        FROM crm.event_participants p
        JOIN crm.edges ob ON ob.source_id = p.node_id AND ob.edge_type = 'owned_by'
                         AND ob.archived_at IS NULL AND ob.effective_to IS NULL
        JOIN crm.nodes a ON a.id = ob.target_id
       WHERE ap.id IS NULL AND p.event_id = ev.id AND a.node_type = 'org'
       ORDER BY (p.role = 'subject') DESC, a.id
       LIMIT 1) ao ON true
  LEFT JOIN LATERAL (   -- what it is about: the subject, else another customer-side participant, else the account
      SELECT n.id, n.node_type, n.label
        FROM crm.event_participants p
        JOIN crm.nodes n ON n.id = p.node_id
       WHERE p.event_id = ev.id AND n.node_type NOT IN ('user', 'team', 'pipeline')
       ORDER BY CASE p.role WHEN 'subject' THEN 0 WHEN 'account' THEN 2 ELSE 1 END, n.id
       LIMIT 1) ab ON true
  LEFT JOIN LATERAL (   -- the user who did it: a user participant (role owner first)
      SELECT u.id, u.label
        FROM crm.event_participants p
        JOIN crm.nodes u ON u.id = p.node_id
       WHERE p.event_id = ev.id AND u.node_type = 'user'
       ORDER BY (p.role = 'owner') DESC, u.id
       LIMIT 1) up ON true
  LEFT JOIN crm.nodes ur   -- else, for an activity logged in crm360, the user who recorded it
         ON up.id IS NULL AND ev.external_source IS NULL AND ur.id = ev.recorded_by AND ur.node_type = 'user';

COMMENT ON VIEW crm.activities IS
    'Activities for BI: one row per event visible to the caller (meetings, calls, emails, notes, ticket, contract, invoice and opportunity events from every system; audit events left out), with type, channel, source, when it happened at the source, summary, its account, the node it is about and the user who did it. Flat and typed; jsonb in crm.activities_detail. Live (no refresh needed).';
COMMENT ON COLUMN crm.activities.event_id IS 'The event id';
COMMENT ON COLUMN crm.activities.event_id_text IS 'event_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN crm.activities.event_type IS 'Event type (crm.event_types): meeting, phone_call, email, note, ticket_opened, ticket_solved, ticket_comment, opportunity_created, stage_change, contract_signed, invoice_issued, invoice_paid, ...';
COMMENT ON COLUMN crm.activities.channel IS 'Channel of the event type: email, phone, meeting, note, ticket, deal, contract, billing';
COMMENT ON COLUMN crm.activities.event_group IS 'Group of the event type: crm, support, contracts, billing';
COMMENT ON COLUMN crm.activities.source IS 'Where it comes from: the source system (salesforce, zendesk, clm, stripe), else the recording system (crm360)';
COMMENT ON COLUMN crm.activities.occurred_at IS 'When it happened at the source (ticket_opened: the ticket''s created_at; opportunity_created: CreatedDate; invoice_issued: finalized/created; meetings: start time; ...)';
COMMENT ON COLUMN crm.activities.recorded_at IS 'When crm360 recorded the event';
COMMENT ON COLUMN crm.activities.summary IS 'One-line summary (email/meeting subject, "<ticket>: open", ...)';
COMMENT ON COLUMN crm.activities.is_touch IS 'true for a meeting, phone call or email in the past: what the Account 360 last touch counts';
COMMENT ON COLUMN crm.activities.account_id IS 'The account of the event: its org participant (role account first), else the account a participant is owned_by; NULL when none is visible to the caller';
COMMENT ON COLUMN crm.activities.account_id_text IS 'account_id as text';
COMMENT ON COLUMN crm.activities.account_name IS 'Account name';
COMMENT ON COLUMN crm.activities.account_crm_id IS 'The account''s Salesforce Account Id';
COMMENT ON COLUMN crm.activities.about_id IS 'The node the event is about: its subject participant (ticket, opportunity, contract, invoice), else another customer-side participant, else the account';
COMMENT ON COLUMN crm.activities.about_id_text IS 'about_id as text';
COMMENT ON COLUMN crm.activities.about_type IS 'Node type of about_id (ticket, opportunity, contract, invoice, person, org)';
COMMENT ON COLUMN crm.activities.about_name IS 'Label of about_id';
COMMENT ON COLUMN crm.activities.user_id IS 'The CRM user who did it: a user participant (Salesforce OwnerId of a meeting/task; role owner first), else for activities logged in crm360 the user who recorded it';
COMMENT ON COLUMN crm.activities.user_id_text IS 'user_id as text';
COMMENT ON COLUMN crm.activities.user_name IS 'Name of the user';

CREATE OR REPLACE VIEW crm.activities_detail
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT DISTINCT p.event_id AS id
      FROM adm
     CROSS JOIN crm.node_types t
     CROSS JOIN LATERAL crm_private.visible_node_ids(t.node_type, current_user) AS v(id)
      JOIN crm.event_participants p ON p.node_id = v.id
     WHERE NOT adm.is_admin AND t.access_checked
)
SELECT ev.id AS event_id, ev.id::text AS event_id_text,
       ev.properties,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('node_id', n.id, 'node_type', n.node_type, 'role', p.role,
                                                     'label', n.label) ORDER BY p.role, n.label, n.id), '[]'::jsonb)
          FROM crm.event_participants p
          JOIN crm.nodes n ON n.id = p.node_id
         WHERE p.event_id = ev.id) AS participants
  FROM (SELECT e.* FROM crm.events e WHERE (SELECT is_admin FROM adm)
        UNION ALL
        SELECT e.* FROM vis JOIN crm.events e ON e.id = vis.id WHERE NOT (SELECT is_admin FROM adm)) ev
  JOIN crm.event_types et ON et.event_type = ev.event_type AND et.event_group NOT IN ('access', 'system');

COMMENT ON VIEW crm.activities_detail IS
    'The JSON side of crm.activities (same rows, join on event_id): the event''s properties and its participants visible to the caller.';
COMMENT ON COLUMN crm.activities_detail.event_id IS 'The event id (crm.activities.event_id)';
COMMENT ON COLUMN crm.activities_detail.event_id_text IS 'event_id as text';
COMMENT ON COLUMN crm.activities_detail.properties IS 'The event''s properties (from/to stage or status, amounts, source ids, ...)';
COMMENT ON COLUMN crm.activities_detail.participants IS 'The participants the caller can see: JSON array of {node_id, node_type, role, label}';
