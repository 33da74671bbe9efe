-- crm_private.can_write_node(p_node_id) — may the caller write this node? (seed 002 scoping)
-- True for admins on any node; for members when their teams/claims make it visible and it
-- is unclaimed or claimed by them, or when a node WRITE grant matches it (a read grant
-- never gives write) — and only nodes of the types the caller may write at all
-- (crm_private.writable_node_types: users, teams, pipelines, territories, campaigns and products
-- are admins'). Evaluated as the caller; the rule itself is crm_private.node_write_rule.
CREATE OR REPLACE FUNCTION crm_private.can_write_node(p_node_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- the identity once per call (crm_private.caller_identity), and not at all for admins;
    -- OFFSET 0 keeps the subquery from being flattened into one lookup per field
    SELECT EXISTS (
        SELECT 1 FROM crm.nodes n,
               (SELECT crm_private.actor_is_admin() AS is_admin,
                       CASE WHEN NOT crm_private.actor_is_admin() THEN crm_private.caller_identity(current_user) END AS who
                 OFFSET 0) c
         WHERE n.id = p_node_id
           AND n.node_type = ANY (crm_private.writable_node_types())
           AND crm_private.node_write_rule(n.acl, n.claimed_by, n.node_type, n.attrs, c.is_admin,
                                           (c.who).actor, coalesce((c.who).principals, '{}'),
                                           coalesce((c.who).grants, '[]')))
$$;

COMMENT ON FUNCTION crm_private.can_write_node(uuid) IS
    'True when the caller may write the node: admin, or a member for whom it is visible and unclaimed/claimed by them/covered by a write grant.';
