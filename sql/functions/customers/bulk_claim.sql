-- crm.bulk_claim(p_ids) — bulk claim from the customer table (seed 002 "Bulk claim from the
-- customer table"): the caller becomes the owner (claimed_by) of every given node.
-- Guarantees: all or nothing: every id must be a claimable node (person, org, opportunity)
-- visible to the caller and unclaimed or already theirs — otherwise CR055 lists the refused
-- ids (hidden and missing alike, claimed by someone else, not claimable) and nothing changes;
-- needs a CRM identity (CR030); one set-based UPDATE; crm360 logs owner_claimed per node
-- (the existing audit trigger); nodes already yours are skipped. Returns how many were claimed.
CREATE OR REPLACE FUNCTION crm.bulk_claim(p_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor uuid := crm.current_actor();
    v_ids   uuid[];
    v_bad   text;
    v_n     integer;
BEGIN
    IF v_actor IS NULL THEN
        RAISE EXCEPTION 'claiming needs a CRM identity' USING ERRCODE = 'CR030',
              HINT = 'map your login (crm.map_login) or call crm.act_as(user)';
    END IF;
    v_ids := crm_private.require_writable(p_ids, ARRAY['person', 'org', 'opportunity'], 'bulk claim');
    SELECT string_agg(n.id::text, ', ' ORDER BY n.id) INTO v_bad
      FROM crm.nodes n WHERE n.id = ANY (v_ids) AND n.claimed_by IS NOT NULL AND n.claimed_by <> v_actor;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'bulk claim refused: some nodes are claimed by someone else; nothing was changed'
            USING ERRCODE = 'CR055', DETAIL = 'refused ids: ' || v_bad,
                  HINT = 'they release them first (crm.release), or an admin reassigns them';
    END IF;
    UPDATE crm.nodes n SET claimed_by = v_actor WHERE n.id = ANY (v_ids) AND n.claimed_by IS NULL;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm.bulk_claim(uuid[]) IS
$c$Bulk claim (seed 002): become the owner of every given customer/company/deal, all or nothing; logs owner_claimed per node. Returns how many were claimed (yours already: skipped). Errors: CR030 no identity, CR055 some ids hidden, missing, not claimable or claimed by someone else (listed in DETAIL; nothing changed), 22023 empty array. Example: SELECT crm.bulk_claim(ARRAY['<uuid>','<uuid>']::uuid[]);$c$;
