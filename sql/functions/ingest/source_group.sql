-- crm_private.source_group(p_source) — the freshness group of a source system
-- (docs/graph_contract.md): salesforce → crm, zendesk → tickets, clm → clm, stripe → billing;
-- any other source is its own group.
CREATE OR REPLACE FUNCTION crm_private.source_group(p_source text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE p_source WHEN 'salesforce' THEN 'crm' WHEN 'zendesk' THEN 'tickets'
                         WHEN 'clm' THEN 'clm' WHEN 'stripe' THEN 'billing' ELSE p_source END
$$;

COMMENT ON FUNCTION crm_private.source_group(text) IS
    'Freshness group of a source: salesforce->crm, zendesk->tickets, clm->clm, stripe->billing, else the source itself.';
