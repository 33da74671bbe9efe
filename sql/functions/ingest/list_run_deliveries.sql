-- crm_private.list_run_deliveries(p_run_id, p_record_ids, p_role) — record, for a full-refresh
-- sync run, the records it delivered again unchanged (crm_raw.run_deliveries; called by
-- crm_raw.land_staged, which runs as the connector).
-- Guarantees:
-- * the only writer of crm_raw.run_deliveries (nobody else has INSERT): every row names a run
--   that is running, full-refresh and of a source p_role may land (crm_private.sources_of:
--   p_role is the caller's current_user, trusted only when the session may become it), and a
--   record of exactly that run's source and object — ids of other sources or objects, or of
--   records the run landed first (last_seen_run_id = the run), are skipped, so a connector
--   can neither mark another source's records delivered nor block their rows in advance;
-- * listing a record twice for a run is a no-op. Returns how many rows it added.
-- Errors: 42501 a role that is not trusted or may not land the run's source, P0002 unknown
-- run (the same for a run of a source the role may not see), 55000 a run that is not running
-- or not a full refresh.
-- SECURITY DEFINER: the table takes no INSERT from connectors or admins.
CREATE OR REPLACE FUNCTION crm_private.list_run_deliveries(p_run_id bigint, p_record_ids bigint[], p_role name)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_run crm_raw.sync_runs%ROWTYPE;
    v_n   integer;
BEGIN
    IF NOT crm_private.role_trusted(p_role) THEN
        RAISE EXCEPTION 'role % is not the caller', p_role USING ERRCODE = '42501';
    END IF;
    SELECT * INTO v_run FROM crm_raw.sync_runs r WHERE r.id = p_run_id;
    IF NOT FOUND OR NOT (v_run.source = ANY (crm_private.sources_of(p_role))) THEN
        RAISE EXCEPTION 'sync run % does not exist', p_run_id USING ERRCODE = 'P0002';
    END IF;
    IF v_run.status <> 'running' OR NOT v_run.full_refresh THEN
        RAISE EXCEPTION 'sync run % is % and %', p_run_id, v_run.status,
                        CASE WHEN v_run.full_refresh THEN 'a full refresh' ELSE 'incremental' END
            USING ERRCODE = '55000', HINT = 'only a running full-refresh run lists what it delivered';
    END IF;
    INSERT INTO crm_raw.run_deliveries (run_id, record_id, source)
    SELECT p_run_id, r.id, r.source
      FROM crm_raw.records r
     WHERE r.id = ANY (p_record_ids)
       AND r.source = v_run.source AND r.object = v_run.object
       AND r.last_seen_run_id IS DISTINCT FROM p_run_id
    ON CONFLICT (run_id, record_id) DO NOTHING;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.list_run_deliveries(bigint, bigint[], name) IS
    'Lists, for a running full-refresh run of a source p_role may land, the records of its source and object it delivered again unchanged (crm_raw.run_deliveries; the only writer). Returns the rows added. Errors: 42501, P0002, 55000.';
