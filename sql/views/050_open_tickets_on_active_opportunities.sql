-- crm.open_tickets_on_active_opportunities — seed 001 §8: "all open support tickets for
-- contacts on active opportunities", fixed: archived opportunities, contacts, tickets and
-- edges are excluded; an opportunity is active when it is live and not in a terminal stage
-- of its pipeline; a ticket is open unless its current ticket_status is solved, closed or
-- resolved (no status yet counts as open).
CREATE OR REPLACE VIEW crm.open_tickets_on_active_opportunities
WITH (security_invoker = true) AS
SELECT
    opp.id                          AS opp_id,
    opp.properties ->> 'code'       AS opp_code,
    opp.properties ->> 'name'       AS opp_name,
    stg.claim ->> 'stage'           AS opp_stage,
    con.id                          AS contact_id,
    con.label                       AS contact_name,
    pc.edge_type                    AS contact_role,
    ticket.id                       AS ticket_id,
    ticket.label                    AS ticket_title,
    ticket_stg.claim ->> 'status'   AS ticket_status,
    ticket_stg.asserted_at          AS ticket_status_since
FROM crm.nodes opp
JOIN crm.edges pc ON pc.source_id = opp.id
                 AND pc.edge_type IN ('primary_contact', 'secondary_contact')
                 AND pc.archived_at IS NULL
JOIN crm.nodes con ON con.id = pc.target_id AND con.archived_at IS NULL
JOIN crm.edges filed ON filed.source_id = con.id
                    AND filed.edge_type = 'filed'
                    AND filed.archived_at IS NULL
JOIN crm.nodes ticket ON ticket.id = filed.target_id
                     AND ticket.node_type = 'ticket'
                     AND ticket.archived_at IS NULL
LEFT JOIN crm.assertions stg
       ON stg.subject_node_id = opp.id AND stg.assertion_type = 'deal_stage'
      AND stg.assertion_key = '' AND stg.superseded_at IS NULL
LEFT JOIN crm.assertions ticket_stg
       ON ticket_stg.subject_node_id = ticket.id AND ticket_stg.assertion_type = 'ticket_status'
      AND ticket_stg.assertion_key = '' AND ticket_stg.superseded_at IS NULL
WHERE opp.node_type = 'opportunity'
  AND opp.archived_at IS NULL
  AND (stg.claim ->> 'stage' IS NULL
       OR NOT coalesce(
            (SELECT coalesce(s -> 'terminal' = 'true'::jsonb, false)
               FROM crm.nodes p
               CROSS JOIN LATERAL jsonb_array_elements(p.properties -> 'stages') AS s
              WHERE p.node_type = 'pipeline'
                AND p.properties ->> 'code' = stg.claim ->> 'pipeline'
                AND s ->> 'key' = stg.claim ->> 'stage'
              ORDER BY p.archived_at NULLS FIRST, p.created_at
              LIMIT 1),
            stg.claim ->> 'stage' IN ('closed_won', 'closed_lost', 'dead')))
  AND (ticket_stg.claim ->> 'status' IS NULL
       OR ticket_stg.claim ->> 'status' NOT IN ('solved', 'closed', 'resolved'));

COMMENT ON VIEW crm.open_tickets_on_active_opportunities IS
    'Open support tickets filed by the primary/secondary contacts of active opportunities (seed 001 §8): one row per (opportunity, contact role, ticket). Open = current ticket_status not solved/closed/resolved, or none yet.';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.contact_role IS 'primary_contact or secondary_contact';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.opp_id IS 'The active opportunity (node) id';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.opp_code IS 'Opportunity code OPP-YYMM-NNNN';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.opp_name IS 'Opportunity name';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.opp_stage IS 'Current deal_stage of the opportunity';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.contact_id IS 'The contact (person) who filed the ticket';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.contact_name IS 'Name of the contact';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.ticket_id IS 'The open ticket (node) id';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.ticket_title IS 'Ticket subject (label)';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.ticket_status IS 'Current ticket_status (NULL: none yet, counted as open)';
COMMENT ON COLUMN crm.open_tickets_on_active_opportunities.ticket_status_since IS 'When the ticket entered its current status (when crm360 recorded it)';
