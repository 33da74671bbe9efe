-- crm_private.rc_prepare() — create (once per transaction) and empty the temporary tables
-- reconciliation works in: rc_stage (one row per record version being applied, in the
-- common shape every mapping function produces), rc_edges, rc_changes (assertion changes)
-- rc_events (events to write, with participants), rc_parts (their participants, resolved)
-- and rc_new_events. ON COMMIT DROP: nothing outlives the transaction.
CREATE OR REPLACE FUNCTION crm_private.rc_prepare()
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_new boolean := to_regclass('pg_temp.rc_stage') IS NULL;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS rc_stage (
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
    CREATE INDEX IF NOT EXISTS rc_stage_external_id ON pg_temp.rc_stage (external_id);
    IF v_new THEN
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
            ALTER COLUMN free_mail SET STATISTICS 0;
    END IF;
    CREATE INDEX IF NOT EXISTS rc_stage_node ON pg_temp.rc_stage (node_id);
    CREATE TEMP TABLE IF NOT EXISTS rc_edges (
        edge_type  text NOT NULL,
        source_id  uuid NOT NULL,
        target_id  uuid NOT NULL,
        properties jsonb NOT NULL DEFAULT '{}',
        exclusive  text             -- 'source': one live edge of this type per source; 'target': per target
    ) ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS rc_changes (
        node_id        uuid NOT NULL,
        assertion_type text NOT NULL,
        claim          jsonb NOT NULL,
        old_id         uuid,
        old_claim      jsonb,
        new_id         uuid NOT NULL DEFAULT gen_random_uuid(),
        event_type     text,
        event_id       uuid,
        record_id      bigint NOT NULL,
        source         text NOT NULL,
        account_id     uuid,
        occurred_at    timestamptz,
        properties     jsonb,
        requester_id   uuid
    ) ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS rc_events (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
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
    CREATE TEMP TABLE IF NOT EXISTS rc_new_events (id uuid PRIMARY KEY, acl uuid[]) ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS rc_parts (event_id uuid NOT NULL, node_id uuid NOT NULL, role text NOT NULL,
                                             acl uuid[]) ON COMMIT DROP;
    IF v_new THEN
        ALTER TABLE pg_temp.rc_events
            ALTER COLUMN summary SET STATISTICS 0, ALTER COLUMN properties SET STATISTICS 0,
            ALTER COLUMN body SET STATISTICS 0;
        ALTER TABLE pg_temp.rc_changes
            ALTER COLUMN claim SET STATISTICS 0, ALTER COLUMN old_claim SET STATISTICS 0,
            ALTER COLUMN properties SET STATISTICS 0;
        ALTER TABLE pg_temp.rc_new_events ALTER COLUMN acl SET STATISTICS 0;
        ALTER TABLE pg_temp.rc_parts ALTER COLUMN acl SET STATISTICS 0;
    END IF;
    TRUNCATE pg_temp.rc_stage, pg_temp.rc_edges, pg_temp.rc_changes, pg_temp.rc_events, pg_temp.rc_new_events,
             pg_temp.rc_parts;
END;
$$;

COMMENT ON FUNCTION crm_private.rc_prepare() IS
    'Reconciliation: creates/empties the transaction-local work tables (rc_stage, rc_edges, rc_changes, rc_events, rc_new_events).';
