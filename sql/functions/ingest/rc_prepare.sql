-- crm_private.rc_prepare() — create, afresh, the temporary tables reconciliation works in:
-- rc_stage (one row per record version being applied, in the common shape every mapping
-- function produces), rc_edges, rc_changes (assertion changes), rc_events (events to write,
-- with participants), rc_parts (their participants, resolved) and rc_new_events.
-- ON COMMIT DROP: nothing outlives the transaction.
-- Security: reconciliation runs as crm_owner (crm.reconcile is SECURITY DEFINER) in the
-- caller's session, whose temporary schema the caller controls. A work table is therefore
-- never reused if it exists before this call: an earlier one of crm360's own (a previous
-- source object in this transaction) is dropped and created again; one the caller created —
-- with a trigger, rule or default that would run as crm_owner — cannot be dropped by
-- crm_owner and makes this call fail (42501), so nothing the caller prepared is ever used.
-- Indexes are unnamed (no name the caller could take first).
CREATE OR REPLACE FUNCTION crm_private.rc_prepare()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['rc_stage', 'rc_edges', 'rc_changes', 'rc_events', 'rc_new_events', 'rc_parts'] LOOP
        IF pg_catalog.to_regclass(pg_catalog.format('pg_temp.%I', v_table)) IS NOT NULL THEN
            EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', v_table);   -- 42501 unless crm_owner's own
        END IF;
    END LOOP;
    CREATE TEMP TABLE rc_stage (
        record_id         bigint PRIMARY KEY,
        source            text NOT NULL,
        object            text NOT NULL,
        external_id       text NOT NULL,
        kind              text NOT NULL,      -- account | user | person | child | alias | activity | skip
        source_time       timestamptz,
        reject_reason     text,
        skip_reason       text,
        node_type         text,
        node_source       text,
        node_key          text,
        label             text,
        properties        jsonb,
        deleted           boolean NOT NULL DEFAULT false,
        acct_crm_id       text,
        acct_ref          text[],
        acct_domains      text[],
        email             text,
        phone             text,
        refs              jsonb,
        assertions        jsonb,
        activity          jsonb,
        body              text,
        artifact_type     text,
        owner_id          text,
        country           text,
        event_times       jsonb,              -- event_type -> when it happened at the source (see rc_apply)
        crm_account       uuid,
        ref_account       uuid,
        domain_account    uuid,
        domain_candidates integer,
        free_mail         text[],
        account_id        uuid,
        match             jsonb,
        orphan_reason     text,
        node_id           uuid,
        is_new            boolean NOT NULL DEFAULT false,
        is_primary        boolean NOT NULL DEFAULT false,
        old_properties    jsonb,
        old_archived      boolean,
        team_name         text,
        team_id           uuid,
        ok                boolean GENERATED ALWAYS AS (reject_reason IS NULL AND skip_reason IS NULL AND orphan_reason IS NULL) STORED
    ) ON COMMIT DROP;
    CREATE INDEX ON pg_temp.rc_stage (external_id);
    -- rc_apply ANALYZEs rc_stage several times per batch (temp tables get no autovacuum
    -- statistics); the payload-sized columns are never filtered or joined on, and their
    -- statistics (detoasting and sorting every sampled jsonb/array: 16 ms each for 6k
    -- rows, vs 2 ms for a scalar column) were most of that cost. The scalar columns
    -- keep theirs: without a null fraction the planner guesses that reject_reason IS NULL
    -- matches 0.5% of rows and picks nested loops over thousands of rows
    ALTER TABLE pg_temp.rc_stage
        ALTER COLUMN label SET STATISTICS 0, ALTER COLUMN properties SET STATISTICS 0,
        ALTER COLUMN activity SET STATISTICS 0, ALTER COLUMN body SET STATISTICS 0,
        ALTER COLUMN match SET STATISTICS 0, ALTER COLUMN old_properties SET STATISTICS 0,
        ALTER COLUMN refs SET STATISTICS 0, ALTER COLUMN assertions SET STATISTICS 0,
        ALTER COLUMN acct_ref SET STATISTICS 0, ALTER COLUMN acct_domains SET STATISTICS 0,
        ALTER COLUMN free_mail SET STATISTICS 0, ALTER COLUMN event_times SET STATISTICS 0;
    CREATE INDEX ON pg_temp.rc_stage (node_id);
    CREATE TEMP TABLE rc_edges (
        edge_type  text NOT NULL,
        source_id  uuid NOT NULL,
        target_id  uuid NOT NULL,
        properties jsonb NOT NULL DEFAULT '{}',
        exclusive  text             -- 'source': one live edge of this type per source; 'target': per target
    ) ON COMMIT DROP;
    CREATE TEMP TABLE rc_changes (
        node_id        uuid NOT NULL,
        assertion_type text NOT NULL,
        claim          jsonb NOT NULL,
        old_id         uuid,
        old_claim      jsonb,
        new_id         uuid NOT NULL DEFAULT crm_private.new_id(),
        event_type     text,
        event_id       uuid,
        record_id      bigint NOT NULL,
        source         text NOT NULL,
        account_id     uuid,
        occurred_at    timestamptz,
        properties     jsonb,
        requester_id   uuid,
        event_times    jsonb
    ) ON COMMIT DROP;
    CREATE TEMP TABLE rc_events (
        id              uuid PRIMARY KEY DEFAULT crm_private.new_id(),
        event_type      text NOT NULL,
        occurred_at     timestamptz NOT NULL,
        summary         text,
        properties      jsonb NOT NULL DEFAULT '{}',
        external_source text NOT NULL,
        external_id     text NOT NULL,
        parts           uuid[] NOT NULL DEFAULT '{}',
        roles           text[] NOT NULL DEFAULT '{}',
        body            text,
        artifact_type   text
    ) ON COMMIT DROP;
    CREATE TEMP TABLE rc_new_events (id uuid PRIMARY KEY, acl uuid[]) ON COMMIT DROP;
    CREATE TEMP TABLE rc_parts (event_id uuid NOT NULL, node_id uuid NOT NULL, role text NOT NULL,
                                             acl uuid[]) ON COMMIT DROP;
    ALTER TABLE pg_temp.rc_events
        ALTER COLUMN summary SET STATISTICS 0, ALTER COLUMN properties SET STATISTICS 0,
        ALTER COLUMN body SET STATISTICS 0;
    ALTER TABLE pg_temp.rc_changes
        ALTER COLUMN claim SET STATISTICS 0, ALTER COLUMN old_claim SET STATISTICS 0,
        ALTER COLUMN properties SET STATISTICS 0, ALTER COLUMN event_times SET STATISTICS 0;
    ALTER TABLE pg_temp.rc_new_events ALTER COLUMN acl SET STATISTICS 0;
    ALTER TABLE pg_temp.rc_parts ALTER COLUMN acl SET STATISTICS 0;
END;
$$;

COMMENT ON FUNCTION crm_private.rc_prepare() IS
    'Reconciliation: creates the transaction-local work tables afresh (rc_stage, rc_edges, rc_changes, rc_events, rc_parts, rc_new_events); refuses work tables it did not create.';
