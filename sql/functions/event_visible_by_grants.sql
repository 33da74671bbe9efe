-- crm_private.event_visible_by_grants(p_event_id, p_principals, p_grants) — is the event
-- visible through an access-checked participant that the given principals/grants can see?
-- The caller passes its own principals and grants (evaluated as the caller in the policy);
-- SECURITY DEFINER only so that reading the participants does not re-enter the
-- events/event_participants policies (which reference each other).
CREATE OR REPLACE FUNCTION crm_private.event_visible_by_grants(p_event_id uuid, p_principals uuid[], p_grants jsonb)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT EXISTS (
        SELECT 1
          FROM crm.event_participants p
          JOIN crm.nodes n ON n.id = p.node_id
         WHERE p.event_id = p_event_id
           AND n.acl IS NOT NULL
           AND (n.acl && p_principals
                OR crm_private.node_grant_match(p_grants, 'read', n.node_type, n.attrs, n.acl)))
$$;

COMMENT ON FUNCTION crm_private.event_visible_by_grants(uuid, uuid[], jsonb) IS
    'True when one of the event''s access-checked participants is visible to the given principals or through the given grants.';
