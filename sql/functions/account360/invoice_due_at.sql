-- crm_private.invoice_due_at(p_properties) — the moment an invoice falls due.
-- Guarantees: properties.due_at (ISO timestamp: Stripe's due_date is a moment) when readable,
-- else the end of properties.due_date (YYYY-MM-DD) in UTC, else NULL. An open invoice is past
-- due once this moment has passed (due_at <= now()). The same rule is written inline in
-- crm_private.accounts_360_facts (migration 0019: a materialized view may not depend on a
-- repeatable function); tests/test_owners_read_models.py checks that the two agree.
-- SQL-standard body, no SET clause: bound at CREATE time and inlined by the planner.
CREATE OR REPLACE FUNCTION crm_private.invoice_due_at(p_properties jsonb)
RETURNS timestamptz
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN CASE
    WHEN pg_input_is_valid(p_properties ->> 'due_at', 'timestamptz') THEN (p_properties ->> 'due_at')::timestamptz
    WHEN pg_input_is_valid(p_properties ->> 'due_date', 'date')
        THEN ((p_properties ->> 'due_date')::date + 1)::timestamp AT TIME ZONE 'UTC'
END;

COMMENT ON FUNCTION crm_private.invoice_due_at(jsonb) IS
    'The moment an invoice falls due: properties.due_at, else the end of properties.due_date (UTC). Past due once it has passed.';
