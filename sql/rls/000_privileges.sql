-- Privileges of the crm360 roles (docs/security.md). Re-applied on every migrate.
-- Tables: crm_reader reads, crm_writer writes the graph, crm_admin manages the registry,
-- logins and grants; crm_connector lands raw rows (crm_raw) and runs reconciliation.
-- Everything is owned by crm_owner (NOLOGIN, not a superuser), which is what SECURITY
-- DEFINER functions run as.
-- Functions: EXECUTE is revoked from PUBLIC and from every crm role, then granted by name
-- to the roles that need it — least privilege, reviewed here and pinned by the catalog
-- lint tests/sql_style (an internal helper granted to a role that does not need it fails):
--   * crm_reader: the read API and the helpers that policies, views and invoker functions
--     call as the caller — each answers only about the caller (they take no principal, or
--     take the caller's current_user and trust it only when the session may become it);
--   * crm_writer: the write API and the self-verifying audit writers its triggers call;
--   * crm_service: crm.act_as; crm_connector: reconciliation, refreshes, landing;
--   * crm_admin: the admin API and the helpers that answer for arbitrary principals;
--   * nobody: trigger functions (PostgreSQL does not check EXECUTE when a trigger fires),
--     reconciliation internals, secrets and everything else (crm_owner owns them).
-- crm_private: USAGE for the crm roles (invoker code resolves its helpers by name at run
-- time); none of its tables is granted.
-- (USAGE on schema extensions is granted by sql/bootstrap/adopt.sql: the DBA owns it.)

REVOKE ALL ON SCHEMA crm, crm_raw, crm_private FROM PUBLIC;
GRANT USAGE ON SCHEMA crm TO crm_reader, crm_connector;
GRANT USAGE ON SCHEMA crm_private TO crm_reader, crm_connector;
GRANT USAGE ON SCHEMA crm_raw TO crm_connector, crm_admin;

REVOKE ALL ON ALL TABLES IN SCHEMA crm FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA crm_private FROM PUBLIC, crm_reader, crm_writer, crm_service, crm_connector, crm_admin;
GRANT SELECT ON ALL TABLES IN SCHEMA crm TO crm_reader;
-- (that includes the flat analytics views for BI of issue 12 — security_invoker, so row-level
-- security applies to every row they read; named here so a reviewer sees them granted)
GRANT SELECT ON crm.tickets, crm.tickets_detail, crm.invoices, crm.invoices_detail, crm.contracts,
      crm.contracts_detail, crm.opportunities, crm.opportunities_detail, crm.activities, crm.activities_detail,
      crm.contacts_directory_detail TO crm_reader;
-- the one definition of each read model (the Account 360 aggregates, the active
-- opportunities, the contacts directory), read by the _live twins as the
-- caller (a security_invoker view: row-level security applies to every child it counts)
GRANT SELECT ON crm_private.accounts_360_facts, crm_private.opportunities_active_rows,
      crm_private.contacts_directory_rows TO crm_reader;
-- Writers write the graph, but never choose a row's id: ids are assigned by the database
-- (column privileges: every column but id). A caller-chosen id that collides with a hidden
-- row would answer "it exists" with a primary-key violation; now the statement is refused
-- for naming the column, whether or not such a row exists.
-- Nor do they hold a table-wide UPDATE or DELETE on any core table: either would let them
-- LOCK TABLE ... IN ACCESS EXCLUSIVE MODE and stall every reader, reconciliation and refresh
-- for as long as they keep a transaction open (PostgreSQL allows the stronger lock modes to
-- any holder of table-level UPDATE, DELETE or TRUNCATE; column privileges do not count).
-- Rows are never deleted anyway (archive instead; crm_private.tg_refuse_delete): DELETE is
-- granted to nobody, and UPDATE only column by column.
REVOKE DELETE, TRUNCATE ON crm.nodes, crm.edges, crm.events, crm.event_participants, crm.assertions, crm.artifacts
    FROM crm_reader, crm_writer, crm_service, crm_connector, crm_admin;
REVOKE INSERT, UPDATE ON crm.nodes, crm.edges, crm.events, crm.assertions, crm.artifacts, crm.event_participants FROM crm_writer;
REVOKE INSERT (id), UPDATE (id) ON crm.nodes, crm.edges, crm.events, crm.assertions, crm.artifacts FROM crm_writer;
GRANT INSERT ON crm.event_participants TO crm_writer;
DO $$
DECLARE
    v_table regclass;
    v_cols  text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['crm.nodes', 'crm.edges', 'crm.events', 'crm.assertions', 'crm.artifacts']::regclass[] LOOP
        SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO v_cols
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = v_table AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id'
           AND a.attgenerated = '';
        EXECUTE format('GRANT INSERT (%s), UPDATE (%s) ON %s TO crm_writer', v_cols, v_cols, v_table);
    END LOOP;
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO v_cols
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = 'crm.event_participants'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attgenerated = '';
    EXECUTE format('GRANT UPDATE (%s) ON crm.event_participants TO crm_writer', v_cols);
END
$$;
GRANT INSERT, UPDATE, DELETE ON crm.node_types, crm.edge_types, crm.assertion_types, crm.event_types,
      crm.error_codes, crm.logins, crm.access_grants TO crm_admin;

-- ---------------------------------------------------------------- functions
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA crm, crm_private, crm_raw
    FROM PUBLIC, crm_reader, crm_writer, crm_service, crm_connector, crm_admin;

DO $$
DECLARE
    v_grant record;
    v_fn    regprocedure;
BEGIN
    FOR v_grant IN
        SELECT * FROM (VALUES
            -- the read API
            ('crm', 'crm_reader', ARRAY['current_actor', 'daily_digest', 'get_account_summary', 'recent_activity',
                                        'resolve_account', 'resolve_node_id', 'team_id', 'timeline',
                                        'normalize_org_name',     -- crm.duplicate_candidates calls it as the caller
                                        'search', 'search_in_account']),
            -- what policies, views and invoker functions call as the caller (answers only about the caller)
            ('crm_private', 'crm_reader', ARRAY['actor_is_admin', 'actor_principals', 'actor_grants', 'actor_has_grants', 'actor_grant_node_types',
                                                'actor_can_read_assertion_type', 'actor_of', 'acting_user',
                                                'caller_principals', 'caller_grants', 'caller_identity', 'visible_node_ids',
                                                'account_quality_of', 'quality_items', 'source_freshness_at',
                                                'sync_runs_between', 'node_visible', 'node_grant_match',
                                                'type_grant_match', 'acl_norm', 'acl_maintenance', 'derive_label',
                                                'claim_problems', 'raise_not_visible', 'require_admin',
                                                'normalize_domain', 'resolve_account_id', 'source_group',
                                                'scope_list', 'caller_sources', 'sources_of',
                                                'accounts_360_stored', 'node_by_key', 'read_model_status', 'invoice_due_at',
                                                'search_nodes',   -- crm.search (answers only for the caller)
                                                'search_fold',    -- crm.search_in_account (inlined)
                                                'search_chunks',    -- crm.search_in_account (answers only for the caller)
                                                -- crm.search_in_account for a caller with node grants, as the caller (under
                                                -- the chunks policy: their arguments can only narrow what they read)
                                                'search_branches', 'search_chunks_text', 'search_chunks_vector',
                                                'search_typo_query',
                                                'typed_acl',      -- the expression of the index crm.nodes_typed_acl
                                                'visible_changed_node_ids']),  -- the materialized wrappers
            -- the write API
            ('crm', 'crm_writer', ARRAY['advance_deal_stage', 'archive_node', 'claim', 'create_opportunity',
                                        'create_org', 'create_person', 'end_edge', 'end_employment',
                                        'generate_crm_code', 'link_employment', 'log_call', 'log_crm_activity',
                                        'log_email', 'log_meeting', 'log_note', 'release', 'restore_node',
                                        'set_contact_info', 'set_deal_value', 'set_win_probability',
                                        'supersede_assertion']),
            -- what write policies, triggers and the write API call as the caller
            -- (can_write_node evaluates role_can_write_node for current_user; the public write
            -- functions pass current_user to their *_as work: supersede_assertion_as as the
            -- caller; advance_deal_stage_as, create_opportunity_as, log_crm_activity_as SECURITY DEFINER — they
            -- answer only for a role the session may become; writer_actor_system and
            -- tags_only_own_teams are the events and nodes triggers' rules for a writer)
            ('crm_private', 'crm_writer', ARRAY['can_write_node', 'role_can_write_node', 'writable_node_types',
                                                'writable_edge_types', 'writable_event_types', 'lock_opportunity',
                                                'attach_event_body', 'assertion_lock', 'supersede_assertion_as',
                                                'advance_deal_stage_as', 'create_opportunity_as', 'log_crm_activity_as',
                                                'writer_actor_system', 'tags_only_own_teams',
                                                'refresh_event_chunks']),   -- attach_event_body (search chunks)
            ('crm', 'crm_service', ARRAY['act_as']),
            ('crm_private', 'crm_service', ARRAY['act_as_token']),
            ('crm', 'crm_connector', ARRAY['reconcile', 'reconcile_plan', 'reconcile_orphans', 'merge_nodes', 'refresh_account_views',
                                           'refresh_crm_views', 'refresh_read_models']),
            ('crm_raw', 'crm_connector', ARRAY['start_run', 'land_staged', 'finish_run', 'land_from']),
            ('crm_private', 'crm_connector', ARRAY['reconcile_run', 'reconcile_orphans_run', 'merge_nodes_as',
                                                   'sources_of', 'rc_resolves_identity',   -- crm.reconcile_plan (invoker)
                                                   'rc_ts',          -- crm_raw.land_staged (inlined)
                                                   'list_run_deliveries',   -- crm_raw.land_staged (definer; checks the run)
                                                   'elt_payload']),  -- crm_raw.land_from (invoker)
            -- the admin API, and what it calls: helpers answering for any principal are admin-only
            ('crm', 'crm_admin', ARRAY['access_report', 'add_user_to_team', 'create_pipeline', 'create_team',
                                       'create_user', 'map_login', 'unmap_login', 'purge_node',
                                       'remove_user_from_team', 'restrict_access_to_team', 'restrict_access_to_user',
                                       'unrestrict_access_from_team', 'unrestrict_access_from_user', 'revoke_grant',
                                       'reconcile', 'reconcile_plan', 'reconcile_orphans', 'merge_nodes', 'refresh_account_views',
                                       'refresh_crm_views', 'refresh_read_models', 'allow_source', 'disallow_source']),
            ('crm_raw', 'crm_admin', ARRAY['start_run', 'land_staged', 'finish_run', 'land_from']),
            ('crm_private', 'crm_admin', ARRAY['rc_ts', 'elt_payload', 'sources_of', 'rc_resolves_identity',
                                               'list_run_deliveries']),
            -- search (issue 14): the embedder's two calls; the chunk backfill is the admin's
            -- (chunks_to_embed / store_embeddings: admins only — they read every text and write any
            -- chunk's vector, which no per-source connector may)
            ('crm_private', 'crm_admin', ARRAY['chunks_to_embed', 'store_embeddings', 'refresh_chunks']),
            ('crm_private', 'crm_admin', ARRAY['reconcile_run', 'reconcile_orphans_run', 'merge_nodes_as', 'log_access_event', 'log_restriction_events', 'principals_of',
                                               'grants_of', 'purge_node_data']),
            -- the customer model (issue 15, docs/customers.md): read API, write API (every write
            -- checks the caller's scope as the caller), the admin/connector jobs, and the helpers
            -- invoker code calls as the caller (each answers only about the caller or checks it)
            ('crm', 'crm_reader', ARRAY['pick_channel', 'segment_members_at', 'fit_score']),
            ('crm_private', 'crm_reader', ARRAY['is_suppressed', 'is_system_role']),
            ('crm', 'crm_writer', ARRAY['add_channel', 'mark_channel', 'suppress', 'unsuppress', 'create_tag', 'tag',
                                        'untag', 'bulk_tag', 'bulk_untag', 'create_segment', 'set_segment_filter',
                                        'add_to_segment', 'remove_from_segment', 'bulk_add_to_segment',
                                        'bulk_remove_from_segment', 'bulk_claim', 'bulk_release', 'bulk_archive',
                                        'add_note', 'edit_note', 'create_task', 'claim_task', 'release_task',
                                        'complete_task', 'assess_fit', 'review_lead', 'create_deal',
                                        'log_customer_event']),
            ('crm_private', 'crm_writer', ARRAY['add_channel_as', 'tag_nodes', 'require_writable', 'segment_change',
                                                'compile_segment_filter', 'keep_note_version', 'node_write_rule',
                                                'check_segment_properties', 'channel_edge_check']),
            ('crm', 'crm_connector', ARRAY['refresh_segments', 'match_companies']),
            ('crm', 'crm_admin', ARRAY['refresh_segments', 'match_companies', 'merge_companies', 'create_product',
                                       'set_fit_criterion'])
        ) AS g(nsp, grantee, names)
    LOOP
        FOR v_fn IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
                     WHERE p.pronamespace = v_grant.nsp::regnamespace AND p.proname = ANY (v_grant.names) LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_fn, v_grant.grantee);
        END LOOP;
    END LOOP;
END
$$;

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

-- ingestion (issue 5): raw landing is for connectors and admins only (and a connector only
-- for the sources it is allowed: crm_raw.connector_sources, in the row policies);
-- reconciliation and merges run as the owner (SECURITY DEFINER) and are callable by
-- connectors and admins only; the data-quality views that read crm_raw are theirs too.
-- (UPDATE column by column: a table-wide UPDATE would let a connector lock the landing
-- tables exclusively, see above)
REVOKE UPDATE, DELETE, TRUNCATE ON crm_raw.records, crm_raw.sync_runs, crm_raw.cursors FROM crm_connector, crm_admin;
GRANT SELECT, INSERT ON crm_raw.records, crm_raw.sync_runs, crm_raw.cursors TO crm_connector, crm_admin;
DO $$
DECLARE
    v_table regclass;
    v_cols  text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['crm_raw.records', 'crm_raw.sync_runs', 'crm_raw.cursors']::regclass[] LOOP
        SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO v_cols
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = v_table AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'id'
           AND a.attgenerated = '';
        EXECUTE format('GRANT UPDATE (%s) ON %s TO crm_connector, crm_admin', v_cols, v_table);
    END LOOP;
END
$$;
-- ELT landing (crm_raw.land_from runs as the caller): which dlt loads were landed, read and
-- recorded by connectors (their sources, row policies) and admins; nobody updates or deletes
REVOKE UPDATE, DELETE, TRUNCATE ON crm_raw.elt_loads FROM crm_connector, crm_admin;
GRANT SELECT, INSERT ON crm_raw.elt_loads TO crm_connector, crm_admin;
-- what a full-refresh run delivered again: read by connectors (their sources, row policies) and
-- admins, through crm_raw.run_records (security_invoker); written only by
-- crm_private.list_run_deliveries (definer, called by crm_raw.land_staged: it checks the run
-- and the records) — nobody inserts directly (review of 0035: a row planted by another source
-- would have blocked the real one)
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON crm_raw.run_deliveries FROM crm_connector, crm_admin;
GRANT SELECT ON crm_raw.run_deliveries TO crm_connector, crm_admin;
GRANT SELECT ON crm_raw.run_records TO crm_connector, crm_admin;
GRANT SELECT ON crm_raw.source_objects, crm_raw.source_schedules, crm_raw.free_mail_domains,
      crm_raw.ownership_mapping, crm_raw.region_teams, crm_raw.connector_sources TO crm_connector;
GRANT SELECT, INSERT, UPDATE, DELETE ON crm_raw.source_objects, crm_raw.source_schedules, crm_raw.free_mail_domains,
      crm_raw.ownership_mapping, crm_raw.region_teams, crm_raw.connector_sources TO crm_admin;
GRANT INSERT, UPDATE ON crm.node_sources TO crm_admin;
REVOKE SELECT ON crm.orphans, crm.identity_mismatches FROM crm_reader;
GRANT SELECT ON crm.orphans, crm.identity_mismatches TO crm_connector, crm_admin;

-- search chunks (issue 14): read under row-level security (GRANT SELECT above, crm_reader);
-- written only by crm_owner (crm_private.refresh_chunks, crm_private.store_embeddings)
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON crm.chunks FROM crm_reader, crm_writer, crm_service, crm_connector, crm_admin;
