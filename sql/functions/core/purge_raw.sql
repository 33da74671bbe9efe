-- crm_private.purge_raw(p_node_ids) — delete the raw source payloads describing these nodes
-- (legal erasure; runs inside crm_private.purge_node_data as owner with the purge flag on).
-- Guarantees: every crm_raw.records version of every source record linked to the nodes
-- (crm.node_sources) or applied to them (records.node_id) is deleted, and so are the source
-- links and the runs' lists of them (crm_raw.run_deliveries); in other raw records (e.g. an
-- invoice naming the customer's email) the nodes' email addresses and phone numbers are
-- replaced by "[erased]". Returns the number of raw records deleted.
CREATE OR REPLACE FUNCTION crm_private.purge_raw(p_node_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n      integer;
    v_values text[];
BEGIN
    SELECT array_agg(DISTINCT v) INTO v_values
      FROM crm.nodes n
     CROSS JOIN LATERAL (VALUES (n.properties ->> 'email'), (n.properties ->> 'phone'),
                                (CASE WHEN n.node_type = 'channel' THEN n.properties ->> 'value' END)) AS x(v)
     WHERE n.id = ANY (p_node_ids) AND v IS NOT NULL AND length(v) >= 5;

    WITH gone AS (
        DELETE FROM crm_raw.records r
         WHERE r.node_id = ANY (p_node_ids)
            OR EXISTS (SELECT 1 FROM crm.node_sources ns
                        WHERE ns.node_id = ANY (p_node_ids) AND ns.source = r.source AND ns.object = r.object
                          AND ns.external_id = r.external_id)
        RETURNING r.id
    ), unlisted AS (
        DELETE FROM crm_raw.run_deliveries d WHERE d.record_id IN (SELECT g.id FROM gone g)
    )
    SELECT count(*) INTO v_n FROM gone;
    DELETE FROM crm.node_sources ns WHERE ns.node_id = ANY (p_node_ids);

    IF v_values IS NOT NULL THEN
        UPDATE crm_raw.records r
           SET payload = (SELECT regexp_replace(r.payload::text,
                                   '"(' || string_agg(regexp_replace(v, '([.*+?^${}()|\[\]\\])', '\\\1', 'g'), '|') || ')"',
                                   '"[erased]"', 'gi')
                            FROM unnest(v_values) AS v)::jsonb
         WHERE EXISTS (SELECT 1 FROM unnest(v_values) AS v WHERE strpos(lower(r.payload::text), lower(v)) > 0);
    END IF;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.purge_raw(uuid[]) IS
    'Legal erasure of raw data: deletes the crm_raw.records versions and source links of the nodes, and blanks their emails/phones in other raw records. Returns the number of records deleted.';
