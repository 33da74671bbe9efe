-- crm.segment_members — segment membership with its history, flat for BI (seed 002 Segments):
-- one row per stay of a customer in a segment, entered_at / left_at (NULL while a member).
-- "Members now": WHERE is_member; "members on date D": crm.segment_members_at(segment, D) or
-- WHERE entered_at <= D AND (left_at IS NULL OR left_at > D). security_invoker: only the
-- customers the caller can see.
CREATE OR REPLACE VIEW crm.segment_members
WITH (security_invoker = true) AS
SELECT m.segment_id,
       s.label                          AS segment,
       s.properties ->> 'kind'          AS segment_kind,
       m.node_id                        AS customer_id,
       p.label                          AS customer,
       m.entered_at,
       m.left_at,
       m.left_at IS NULL                AS is_member,
       m.entered_reason,
       m.left_reason,
       m.entered_by,
       m.left_by
  FROM crm.segment_memberships m
  JOIN crm.nodes s ON s.id = m.segment_id
  JOIN crm.nodes p ON p.id = m.node_id;

COMMENT ON VIEW crm.segment_members IS
    'Segment membership with history (seed 002): one row per stay of a customer in a segment, entered_at until left_at (NULL = still a member). security_invoker: row-level security applies.';
COMMENT ON COLUMN crm.segment_members.segment_id IS 'The segment node id';
COMMENT ON COLUMN crm.segment_members.segment IS 'Segment name';
COMMENT ON COLUMN crm.segment_members.segment_kind IS 'static or dynamic';
COMMENT ON COLUMN crm.segment_members.customer_id IS 'The person node id';
COMMENT ON COLUMN crm.segment_members.customer IS 'Customer name';
COMMENT ON COLUMN crm.segment_members.entered_at IS 'When this stay began';
COMMENT ON COLUMN crm.segment_members.left_at IS 'When this stay ended; NULL = still a member';
COMMENT ON COLUMN crm.segment_members.is_member IS 'true while the stay is open (left_at NULL)';
COMMENT ON COLUMN crm.segment_members.entered_reason IS 'manual (added to a static segment) or rule (matched by a dynamic filter)';
COMMENT ON COLUMN crm.segment_members.left_reason IS 'manual, rule (no longer matched), archived or merged';
COMMENT ON COLUMN crm.segment_members.entered_by IS 'The user who added the customer (static segments); NULL for rule matches';
COMMENT ON COLUMN crm.segment_members.left_by IS 'The user who removed the customer';
