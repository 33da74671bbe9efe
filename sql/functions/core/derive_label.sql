-- crm_private.derive_label(p_label, p_properties) — the label a node gets: the given one when
-- not blank, else the first non-blank of name, "first_name last_name", subject, title,
-- number, value, code (NULL when none). Shared by tg_nodes__validate and crm_private.rc_apply.
-- SQL-standard body (RETURN …), no SET clause: bound at CREATE time (search_path cannot
-- redirect it later) and inlined by the planner into the set-based mapping statements —
-- one call per field per record was a large share of reconciliation time.
CREATE OR REPLACE FUNCTION crm_private.derive_label(p_label text, p_properties jsonb)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN coalesce(
        nullif(btrim(p_label), ''),
        nullif(btrim(p_properties ->> 'name'), ''),
        nullif(btrim(concat_ws(' ', p_properties ->> 'first_name', p_properties ->> 'last_name')), ''),
        nullif(btrim(p_properties ->> 'subject'), ''),
        nullif(btrim(p_properties ->> 'title'), ''),
        nullif(btrim(p_properties ->> 'number'), ''),
        nullif(btrim(p_properties ->> 'value'), ''),
        p_properties ->> 'code');

COMMENT ON FUNCTION crm_private.derive_label(text, jsonb) IS
    'A node''s label: the given one when not blank, else derived from name / first+last name / subject / title / number / value / code.';
