-- crm_private.rc_pending(p_source, p_object) — the pending record versions of a source
-- object that reconciliation applies: the newest version per key (by source_updated_at,
-- then landing order). Older pending versions of the same key are left for rc_apply to
-- mark as superseded.
CREATE OR REPLACE FUNCTION crm_private.rc_pending(p_source text, p_object text)
RETURNS TABLE (id bigint, external_id text, p jsonb, source_updated_at timestamptz)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT DISTINCT ON (r.external_id) r.id, r.external_id, r.payload, r.source_updated_at
      FROM crm_raw.records r
     WHERE r.source = p_source AND r.object = p_object AND r.status = 'pending' AND r.external_id IS NOT NULL
     ORDER BY r.external_id, r.source_updated_at DESC NULLS LAST, r.id DESC
$$;

COMMENT ON FUNCTION crm_private.rc_pending(text, text) IS
    'Reconciliation: newest pending version per key of a source object (id, external_id, payload, source_updated_at).';
