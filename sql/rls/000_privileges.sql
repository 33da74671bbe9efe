-- Privileges of the crm360 roles (README "Security model"). Re-applied on every migrate.
-- Tables: crm_reader reads, crm_writer writes the graph, crm_admin manages the registry,
-- logins and grants; crm_connector lands raw rows (crm_raw) and runs reconciliation.
-- Functions: EXECUTE is revoked from PUBLIC everywhere and granted to the crm roles;
-- admin-only and service-only functions are narrowed below (they check the caller too).
-- crm_private: USAGE only, so policies can call its helpers; none of its tables is granted.

REVOKE ALL ON SCHEMA crm, crm_raw, crm_private FROM PUBLIC;
GRANT USAGE ON SCHEMA crm TO crm_reader, crm_connector;
GRANT USAGE ON SCHEMA crm_private TO crm_reader, crm_connector;
GRANT USAGE ON SCHEMA crm_raw TO crm_connector, crm_admin;
GRANT USAGE ON SCHEMA extensions TO crm_reader, crm_connector;

REVOKE ALL ON ALL TABLES IN SCHEMA crm FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA crm_private FROM PUBLIC, crm_reader, crm_writer, crm_service, crm_connector, crm_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA crm TO crm_reader;
GRANT INSERT, UPDATE, DELETE ON crm.nodes, crm.edges, crm.events, crm.event_participants,
      crm.assertions, crm.artifacts TO crm_writer;
GRANT INSERT, UPDATE, DELETE ON crm.node_types, crm.edge_types, crm.assertion_types, crm.event_types,
      crm.error_codes, crm.logins, crm.access_grants TO crm_admin;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA crm, crm_private, crm_raw FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA crm TO crm_reader, crm_connector;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA crm_private TO crm_reader, crm_connector;

-- narrower: only a pooled service acts for others; only admins erase; admins and
-- connectors refresh the materialized read models
REVOKE EXECUTE ON FUNCTION crm.act_as(uuid) FROM crm_reader, crm_connector;
GRANT EXECUTE ON FUNCTION crm.act_as(uuid) TO crm_service;
REVOKE EXECUTE ON FUNCTION crm_private.purge_node_data(uuid, text, text) FROM crm_reader, crm_connector;
GRANT EXECUTE ON FUNCTION crm_private.purge_node_data(uuid, text, text) TO crm_admin;
REVOKE EXECUTE ON FUNCTION crm.refresh_crm_views() FROM crm_reader;
GRANT EXECUTE ON FUNCTION crm.refresh_crm_views() TO crm_admin, crm_connector;
REVOKE EXECUTE ON FUNCTION crm.refresh_account_views() FROM crm_reader;
GRANT EXECUTE ON FUNCTION crm.refresh_account_views() TO crm_admin, crm_connector;

-- Materialized views are never granted: they are read through crm.* views that re-apply
-- the access rules.
DO $$
DECLARE
    v_mv record;
BEGIN
    FOR v_mv IN SELECT c.oid::regclass AS name FROM pg_catalog.pg_class c WHERE c.relkind = 'm'
                   AND c.relnamespace::regnamespace::text IN ('crm', 'crm_private', 'crm_raw') LOOP
        EXECUTE format('REVOKE ALL ON %s FROM PUBLIC, crm_reader, crm_writer, crm_service, crm_connector, crm_admin', v_mv.name);
    END LOOP;
END
$$;

-- ingestion (issue 5): raw landing is for connectors and admins only; reconciliation and
-- merges run as the owner (SECURITY DEFINER) and are callable by connectors and admins only;
-- the data-quality views that read crm_raw are theirs too.
GRANT SELECT, INSERT, UPDATE ON crm_raw.records, crm_raw.sync_runs, crm_raw.cursors TO crm_connector, crm_admin;
GRANT SELECT ON crm_raw.source_objects, crm_raw.source_schedules, crm_raw.free_mail_domains,
      crm_raw.ownership_mapping, crm_raw.region_teams TO crm_connector;
GRANT SELECT, INSERT, UPDATE, DELETE ON crm_raw.source_objects, crm_raw.source_schedules, crm_raw.free_mail_domains,
      crm_raw.ownership_mapping, crm_raw.region_teams TO crm_admin;
GRANT INSERT, UPDATE ON crm.node_sources TO crm_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA crm_raw TO crm_connector, crm_admin;
REVOKE EXECUTE ON FUNCTION crm.reconcile(text), crm.reconcile_orphans(), crm.merge_nodes(uuid, uuid, text) FROM crm_reader;
GRANT EXECUTE ON FUNCTION crm.reconcile(text), crm.reconcile_orphans(), crm.merge_nodes(uuid, uuid, text) TO crm_connector, crm_admin;
REVOKE SELECT ON crm.orphans, crm.identity_mismatches FROM crm_reader;
GRANT SELECT ON crm.orphans, crm.identity_mismatches TO crm_connector, crm_admin;
-- the reconciliation internals only run inside crm.reconcile (as owner)
DO $$
DECLARE
    v_fn regprocedure;
BEGIN
    FOR v_fn IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
                 WHERE p.pronamespace = 'crm_private'::regnamespace
                   AND (p.proname LIKE 'reconcile\_%' OR p.proname LIKE 'rc\_%')
                   AND p.proname NOT IN ('rc_check', 'rc_ts', 'rc_num', 'rc_bool', 'rc_person_name') LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM crm_reader, crm_connector', v_fn);
    END LOOP;
END
$$;
