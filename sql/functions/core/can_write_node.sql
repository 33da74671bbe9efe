-- crm_private.can_write_node(p_node_id) — may the caller write this node? (seed 002 scoping)
-- True for admins on any node; for members when their teams/claims make it visible and it
-- is unclaimed or claimed by them, or when a node WRITE grant matches it (a read grant
-- never gives write). Evaluated as the caller.
CREATE OR REPLACE FUNCTION crm_private.can_write_node(p_node_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1 FROM crm.nodes n
         WHERE n.id = p_node_id
           AND (crm_private.actor_is_admin()
                OR (crm.current_actor() IS NOT NULL
                    AND (((n.acl IS NULL OR n.acl && crm_private.actor_principals())
                          AND (n.claimed_by IS NULL OR n.claimed_by = crm.current_actor()))
                         OR crm_private.node_grant_match(crm_private.actor_grants(), 'write', n.node_type, n.attrs, n.acl)))))
$$;

COMMENT ON FUNCTION crm_private.can_write_node(uuid) IS
    'True when the caller may write the node: admin, or a member for whom it is visible and unclaimed/claimed by them/covered by a write grant.';
