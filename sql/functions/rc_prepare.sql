-- crm_private.rc_prepare() — create (once per transaction) and empty the temporary tables
-- reconciliation works in: rc_stage (one row per record version being applied, in the
-- common shape every mapping function produces), rc_edges, rc_changes (assertion changes)
-- rc_events (events to write, with participants) and rc_new_events. ON COMMIT DROP: nothing outlives the transaction.
CREATE OR REPLACE FUNCTION crm_private.rc_prepare()
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
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
    TRUNCATE pg_temp.rc_stage, pg_temp.rc_edges, pg_temp.rc_changes, pg_temp.rc_events, pg_temp.rc_new_events;
END;
$$;

COMMENT ON FUNCTION crm_private.rc_prepare() IS
    'Reconciliation: creates/empties the transaction-local work tables (rc_stage, rc_edges, rc_changes, rc_events, rc_new_events).';
