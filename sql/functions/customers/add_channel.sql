-- crm.add_channel(p_person, p_kind, p_value, p_preferred) — give a customer a contact channel
-- (seed 002: a customer is a person; a contact is a channel; one customer has many).
-- Guarantees (crm_private.add_channel_as does the work as crm360, for the caller's role):
-- the caller may write the person (seed 002 scoping; 42501 otherwise, the same whether the
-- person is hidden or does not exist); the value is valid and normalised for the kind
-- (crm_private.normalize_channel; CR050 otherwise); a channel is unique per kind and
-- normalised value among live channels — adding one the person already has returns it
-- (idempotent), one that belongs to another customer is refused (CR051); the channel node
-- belongs to the person (owned_by: whoever sees the person sees it); p_preferred makes it the
-- person's preferred channel of its kind (the others of that kind stop being preferred); an
-- email channel runs the domain auto-match (crm_private.match_companies_for). Returns the
-- channel node id.
CREATE OR REPLACE FUNCTION crm.add_channel(p_person uuid, p_kind text, p_value text, p_preferred boolean DEFAULT false)
RETURNS uuid
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.add_channel_as(p_person, p_kind, p_value, p_preferred, current_user)
$$;

COMMENT ON FUNCTION crm.add_channel(uuid, text, text, boolean) IS
$c$Add a contact channel to a customer: kind email, phone, linkedin or telegram; the value is normalised and unique per kind (adding an existing channel of the same person returns it). p_preferred: automation uses it first (crm.pick_channel). An email runs the domain auto-match (company_matched). Returns the channel node id. Errors: 42501 person not writable for you (or hidden/missing), CR012 not a person, CR020 archived, CR050 invalid value or kind, CR051 the channel belongs to another customer. Example: SELECT crm.add_channel('<person uuid>', 'email', 'Ana@Acme.example', true);$c$;
