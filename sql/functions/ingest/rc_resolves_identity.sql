-- crm_private.rc_resolves_identity(p_source, p_object) — whether reconciling a source object
-- may create or match accounts, people or users (crm360's identity resolution), as opposed to
-- attaching only to nodes earlier objects resolved and creating only nodes keyed by its own
-- source ids.
-- Guarantees: false only for the objects whose mapping (crm_private.reconcile_<source>_<object>)
-- stages nothing but 'child' and 'activity' rows: Salesforce Opportunity, Event and Task,
-- Zendesk tickets and ticket_comments, CLM contracts, Stripe invoices. Every other object —
-- including any registered later — resolves identity. It is crm360's rule, next to the
-- mappings it describes, not configuration: crm_private.reconcile_run applies objects that
-- resolve identity one reconciler at a time (their once-only guarantee: one account per CRM
-- account, one person per normalized email), and lets runs of the others over different
-- sources proceed in parallel (crm.reconcile_plan).
CREATE OR REPLACE FUNCTION crm_private.rc_resolves_identity(p_source text, p_object text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (p_source, p_object) NOT IN (('salesforce', 'Opportunity'), ('salesforce', 'Event'), ('salesforce', 'Task'),
                                        ('zendesk', 'tickets'), ('zendesk', 'ticket_comments'),
                                        ('clm', 'contracts'), ('stripe', 'invoices'))
$$;

COMMENT ON FUNCTION crm_private.rc_resolves_identity(text, text) IS
    'Whether reconciling the source object may create or match accounts, people or users (applied one reconciler at a time); false for objects that only attach children and activities (runs over different sources of those may be parallel).';
