-- crm.search(p_query, p_types, p_limit) — find accounts, contacts, opportunities and tickets
-- by what a rep types (seed 000 "Retrieval": text search on names, emails, subjects).
-- Guarantees:
-- * Searched: accounts (name, domain, Salesforce Id), contacts (name, email), opportunities
--   (name, code OPP-YYMM-NNNN, Salesforce Id), tickets (subject, Zendesk id, with or without
--   '#'), and any node by its uuid. Archived nodes are skipped.
-- * Case-, accent- and typo-tolerant: names are compared folded (crm_private.search_fold:
--   "Muller" finds "Müller") with pg_trgm similarity and word similarity ("acme corp" finds
--   "ACME Corporation"); emails by trigram too ("jon.doe@acme" finds john.doe@acme.com).
-- * matched says why, with score: id / crm_id / ticket_id / code 1.0, exact_name and email
--   0.95, domain 0.9, similar_name / similar_email 0.85 x trigram similarity. One row per
--   node (its best reason), best first, then by label; at most p_limit (1..100, default 20).
-- * Only what the caller may see: the rows (and account_id/account_name, NULL when the
--   account is not visible) pass the nodes policy's rules for the caller; the work runs in
--   crm_private.search_nodes (SECURITY DEFINER, so the trigram indexes can be used; see its
--   header for why and how the candidates are filtered). This function is SECURITY INVOKER
--   and passes current_user, which the helper trusts only when the session may become it.
-- * p_types: account, contact, opportunity, ticket (or org, person); NULL = all.
-- * Errors: CR044 blank text, p_limit outside 1..100, unknown type.
CREATE OR REPLACE FUNCTION crm.search(p_query text, p_types text[] DEFAULT NULL, p_limit int DEFAULT 20)
RETURNS TABLE (node_id uuid, node_type text, label text, account_id uuid, account_name text, score numeric,
               matched text)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.node_id, s.node_type, s.label, s.account_id, s.account_name, s.score, s.matched
      FROM crm_private.search_nodes(p_query, p_types, p_limit, current_user) s
$$;

COMMENT ON FUNCTION crm.search(text, text[], integer) IS
$c$Finds accounts, contacts, opportunities and tickets the caller can see by name, email, domain, CRM/Zendesk id, opportunity code or uuid — case-, accent- and typo-tolerant — best first: node_id, node_type (org, person, opportunity, ticket), label, account_id, account_name, score (0..1), matched (id, crm_id, ticket_id, code, exact_name, email, domain, similar_name, similar_email). p_types: account, contact, opportunity, ticket (NULL = all); p_limit 1..100. Errors: CR044 bad input. Example: SELECT * FROM crm.search('acme corp', ARRAY['account'], 5);$c$;
