-- crm_private.can_write_node(p_node_id) — may the caller write this node? (seed 002 scoping)
-- True for admins on any node; for members when their teams/claims make it visible and it
-- is unclaimed or claimed by them, or when a node WRITE grant matches it (a read grant
-- never gives write) — and only nodes of the types the caller may write at all
-- (users, teams, pipelines, territories, campaigns and products are admins'). The rule itself
-- is crm_private.node_write_rule.
-- Evaluated for the caller's current_user by crm_private.role_can_write_node (one identity
-- lookup, the node read once by primary key); crm_owner (crm360's own definer code) may write
-- every node.
CREATE OR REPLACE FUNCTION crm_private.can_write_node(p_node_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN current_user = 'crm_owner'
                THEN EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_node_id)
                ELSE crm_private.role_can_write_node(current_user, p_node_id) END
$$;

COMMENT ON FUNCTION crm_private.can_write_node(uuid) IS
    'True when the caller may write the node: admin, or a member for whom it is visible and unclaimed/claimed by them/covered by a write grant (crm_private.role_can_write_node for current_user).';
