-- Row-level security on crm.chunks (docs/search.md "Visibility"): a chunk is visible exactly
-- when its source is — the event when event_id is set (the events policy decides: a ticket
-- comment needs its ticket), else the node (the nodes policy decides: a ticket description
-- needs the ticket) — and its account is (when it has one). Both are checked by reading crm.events / crm.nodes as the caller, so
-- their policies (acl, teams, grants, acting users, admins) apply unchanged. Nobody but
-- crm_owner (crm_private.refresh_chunks, crm_private.store_embeddings) writes chunks.
ALTER TABLE crm.chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.chunks FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS chunks_select ON crm.chunks;
CREATE POLICY chunks_select ON crm.chunks FOR SELECT TO crm_reader, crm_connector
USING (
    (SELECT crm_private.actor_is_admin())
    OR (CASE WHEN event_id IS NOT NULL THEN EXISTS (SELECT 1 FROM crm.events e WHERE e.id = event_id)
             ELSE EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = node_id) END
        -- and its account, when it has one: account_id must not name an account the caller
        -- cannot see (a user who reads tickets through a grant would learn which tickets share
        -- a customer, and its id)
        AND (account_id IS NULL OR EXISTS (SELECT 1 FROM crm.nodes a WHERE a.id = account_id)))
);
