-- crm.claim(p_node_id) — the caller becomes the owner (claimed_by) of a person/org/opportunity.
-- Guarantees (seed 002 ownership scoping): the node must be visible and unclaimed (CR031 when
-- claimed by someone else; true no-op when already yours); the claimer always sees the node
-- and its descendants; an owner_claimed event is logged. Needs a CRM identity (CR030).
CREATE OR REPLACE FUNCTION crm.claim(p_node_id uuid)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor uuid := crm.current_actor();
    v_node  record;
BEGIN
    IF v_actor IS NULL THEN
        RAISE EXCEPTION 'claiming needs a CRM identity' USING ERRCODE = 'CR030',
              HINT = 'map your login (crm.map_login) or call crm.act_as(user)';
    END IF;
    SELECT n.id, n.label, n.node_type, n.claimed_by, t.claimable INTO v_node
      FROM crm.nodes n JOIN crm.node_types t ON t.node_type = n.node_type
     WHERE n.id = p_node_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % does not exist or is not visible to you', p_node_id USING ERRCODE = 'P0002';
    END IF;
    IF NOT v_node.claimable THEN
        RAISE EXCEPTION '% nodes cannot be claimed', v_node.node_type USING ERRCODE = 'CR031';
    END IF;
    IF v_node.claimed_by = v_actor THEN
        RETURN false;
    END IF;
    IF v_node.claimed_by IS NOT NULL THEN
        RAISE EXCEPTION '% is already claimed by someone else', v_node.label
            USING ERRCODE = 'CR031', HINT = 'they must release it first (crm.release), or an admin reassigns it';
    END IF;
    UPDATE crm.nodes SET claimed_by = v_actor WHERE id = p_node_id AND claimed_by IS NULL;
    IF NOT FOUND THEN   -- claimed concurrently, or not writable for the caller
        RAISE EXCEPTION '% could not be claimed', v_node.label
            USING ERRCODE = 'CR031', HINT = 'it was claimed by someone else meanwhile, or you may not write it';
    END IF;
    -- owner_claimed is written by crm360 from the row this UPDATE changed (tg_nodes__audit)
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.claim(uuid) IS
$c$Claim an unclaimed person/org/opportunity for yourself (seed 002: Customer.claimedById); logs owner_claimed. Returns false if it was already yours. Errors: CR030 no identity, P0002 not visible, CR031 not claimable or claimed by someone else. Example: SELECT crm.claim('<account uuid>');$c$;
