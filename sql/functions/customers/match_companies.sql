-- crm.match_companies(p_person_ids) — run the domain auto-match (seed 002 Companies) for the
-- given people, or for every live person without a current employer (NULL).
-- Guarantees: crm_private.match_companies_for's rules (exactly one company with the email's
-- domain, never free-mail; a company_matched event per link); admins and connectors only
-- (EXECUTE), as crm360 (SECURITY DEFINER: the match must see every company, or a company the
-- caller cannot see would make a visible one look unambiguous). Returns how many people were
-- linked.
CREATE OR REPLACE FUNCTION crm.match_companies(p_person_ids uuid[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
BEGIN
    RETURN crm_private.match_companies_for(coalesce(p_person_ids,
        (SELECT array_agg(p.id) FROM crm.nodes p
          WHERE p.node_type = 'person' AND p.archived_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM crm.edges e WHERE e.target_id = p.id AND e.edge_type = 'employs'
                               AND e.archived_at IS NULL AND e.effective_to IS NULL))));
END;
$$;

COMMENT ON FUNCTION crm.match_companies(uuid[]) IS
$c$Domain auto-match (seed 002 Companies): link people without a current employer to the one company whose domain their email has (never free-mail domains, never when two companies share it); logs company_matched. NULL = every such person. Admins and connectors. Returns the number linked. Example: SELECT crm.match_companies();$c$;
