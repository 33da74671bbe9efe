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
    SELECT EXISTS (
        SELECT 1 FROM crm.nodes n
         WHERE n.id = p_node_id
           AND n.node_type = ANY (crm_private.writable_node_types())
           AND crm_private.node_write_rule(n.acl, n.claimed_by, n.node_type, n.attrs, crm_private.actor_is_admin(),
                                           crm.current_actor(), crm_private.actor_principals(),
                                           crm_private.actor_grants()))
$$;

COMMENT ON FUNCTION crm_private.can_write_node(uuid) IS
    'True when the caller may write the node: admin, or a member for whom it is visible and unclaimed/claimed by them/covered by a write grant.';
