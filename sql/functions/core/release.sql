-- crm.release(p_node_id) — give up your claim on a node (admins may release anyone's).
-- Guarantees: claimed_by becomes NULL, ACLs recomputed (you keep seeing it only if a team
-- restriction or grant lets you); owner_released logged; false when it was not claimed;
-- CR031 when claimed by someone else and you are not an admin.
CREATE OR REPLACE FUNCTION crm.release(p_node_id uuid)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor uuid := crm.current_actor();
    v_node  record;
BEGIN
    SELECT n.id, n.label, n.claimed_by INTO v_node FROM crm.nodes n WHERE n.id = p_node_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % does not exist or is not visible to you', p_node_id USING ERRCODE = 'P0002';
    END IF;
    IF v_node.claimed_by IS NULL THEN
        RETURN false;
    END IF;
    IF v_node.claimed_by IS DISTINCT FROM v_actor AND NOT crm_private.actor_is_admin() THEN
        RAISE EXCEPTION '% is claimed by someone else', v_node.label USING ERRCODE = 'CR031';
    END IF;
    UPDATE crm.nodes SET claimed_by = NULL WHERE id = p_node_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% could not be released', v_node.label
            USING ERRCODE = 'CR031', HINT = 'you may not write it';
    END IF;
    -- owner_released is written by crm360 from the row this UPDATE changed (tg_nodes__audit)
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.release(uuid) IS
$c$Release your claim on a node (admins: anyone's); logs owner_released. Returns false if unclaimed. Errors: P0002 not visible, CR031 claimed by someone else. Example: SELECT crm.release('<account uuid>');$c$;
