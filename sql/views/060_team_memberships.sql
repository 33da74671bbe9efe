-- crm.team_memberships — current memberships (seed 000 "Audit _MemberOf regularly"): who is
-- in which team, directly or through nested teams, since when and added by whom.
CREATE OR REPLACE VIEW crm.team_memberships
WITH (security_invoker = true) AS
WITH RECURSIVE direct AS (
    SELECT e.id AS edge_id, e.source_id AS member_id, e.target_id AS team_id, e.effective_from AS since,
           e.properties ->> 'added_by' AS added_by
      FROM crm.edges e
     WHERE e.edge_type = 'member_of' AND e.archived_at IS NULL
       AND (e.effective_to IS NULL OR e.effective_to > now())
), closure AS (
    SELECT d.member_id, d.team_id, d.since, d.added_by, d.edge_id, NULL::uuid AS via_team_id
      FROM direct d
    UNION
    SELECT c.member_id, d.team_id, greatest(c.since, d.since), d.added_by, d.edge_id, coalesce(c.via_team_id, c.team_id)
      FROM closure c JOIN direct d ON d.member_id = c.team_id
)
SELECT c.member_id,
       m.node_type                 AS member_type,
       m.label                     AS member_name,
       c.team_id,
       t.label                     AS team_name,
       c.via_team_id IS NULL       AS is_direct,
       c.via_team_id,
       v.label                     AS via_team_name,
       c.since,
       c.added_by,
       a.label                     AS added_by_name
  FROM closure c
  JOIN crm.nodes m ON m.id = c.member_id
  JOIN crm.nodes t ON t.id = c.team_id
  LEFT JOIN crm.nodes v ON v.id = c.via_team_id
  LEFT JOIN crm.nodes a ON a.id::text = c.added_by;

COMMENT ON VIEW crm.team_memberships IS
    'Current team memberships, direct and inherited through nested teams, with since-when (effective_from) and by whom (the acting user recorded on the member_of edge). History: crm.edges member_of rows with effective_to, and the membership_added/removed events.';
COMMENT ON COLUMN crm.team_memberships.is_direct IS 'true: a member_of edge links member and team; false: inherited through via_team';
COMMENT ON COLUMN crm.team_memberships.added_by IS 'CRM user id (or login role) that added the direct membership';
COMMENT ON COLUMN crm.team_memberships.member_id IS 'The member: a user or a (nested) team';
COMMENT ON COLUMN crm.team_memberships.member_type IS 'user or team';
COMMENT ON COLUMN crm.team_memberships.member_name IS 'Name of the member';
COMMENT ON COLUMN crm.team_memberships.team_id IS 'The team';
COMMENT ON COLUMN crm.team_memberships.team_name IS 'Name of the team';
COMMENT ON COLUMN crm.team_memberships.via_team_id IS 'For an inherited membership: the team the member is directly in (NULL when direct)';
COMMENT ON COLUMN crm.team_memberships.via_team_name IS 'Name of via_team_id';
COMMENT ON COLUMN crm.team_memberships.since IS 'Since when (effective_from of the membership; the later one along a nested path)';
COMMENT ON COLUMN crm.team_memberships.added_by_name IS 'Name of the user who added the direct membership';
