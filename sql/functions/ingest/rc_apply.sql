-- crm_private.rc_apply(p_source, p_object) — write the records a mapping function staged in
-- pg_temp.rc_stage to the graph, set-based (one statement per step, no row loop).
-- Guarantees (docs/graph_contract.md):
-- * rejected rows (reject_reason) change nothing in the graph and are marked rejected;
-- * versions older than the applied one are skipped as stale; staff/deleted-customer rows
--   are skipped;
-- * accounts are resolved by the CRM id a record stores, else by a referenced record
--   (organization, customer, ticket, opportunity, contact), else by a domain that exactly
--   one live account has (free-mail domains never match); a CRM id that is stored but
--   unknown is not overridden by a domain; a person already known keeps its account;
--   unresolved rows are orphans (status orphan, the evidence in reason/match);
-- * nodes are found through crm.node_sources, people also through any of their email
--   channels, Salesforce users also as the CRM user an admin created with the same email
--   (not linked to a Salesforce user yet), else created once per key (OPP codes from the month's code sequence);
--   properties change only when different; the CRM wins for people, other sources only
--   fill missing properties; nodes archived by their source are restored when it delivers
--   them again; IsDeleted/void archive (after linking), logged as node_archived;
-- * accounts are restricted to the team of the ownership mapping (replacing only the team
--   ingestion set before): children inherit through owned_by;
-- * children and people get exactly one live owned_by edge (re-parented when the account
--   changes: the old edge is archived), people employs/has_channel edges (and their channels owned_by them), tickets filed,
--   accounts, contacts and opportunities assigned_to (role owner) their Salesforce owner
--   (a new user becomes the owner of what named it before it arrived), opportunities
--   pipeline_member of PL-SFDC;
-- * current-state claims are superseded only when they changed (history kept), each
--   change that matters logged as an event (opportunity_created, stage_change,
--   ticket_opened/status_changed/solved, contract_*, invoice_*) with the account as
--   participant, dated at the source time the mapping gives for the event (event_times:
--   creation, finalization, signature ...), else at the record's source time;
--   activities become events with participants; replays write nothing;
-- * crm.node_sources links every applied record to its node; crm_raw.records gets status,
--   reason, node_id, account_id and match; older pending versions of the same keys are
--   marked as superseded.
-- Returns the counts of applied, rejected, orphan and skipped rows.
CREATE OR REPLACE FUNCTION crm_private.rc_apply(p_source text, p_object text)
RETURNS TABLE (applied integer, rejected integer, orphans integer, skipped integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- bulk mode for this function's statements only (restored when it returns or fails)
SET crm.bulk_apply = 'on'
AS $$
DECLARE
    v_now          timestamptz := now();
    v_mode         text;
    v_default_team text;
    v_yymm         text := to_char(now() AT TIME ZONE 'UTC', 'YYMM');
    v_codes        regclass;
    v_pipeline     uuid;
    v_ids          uuid[];
    v_new_channels uuid[];
    v_bad          record;
BEGIN
    -- statistics first: earlier objects of this load may have grown the graph tables far
    -- beyond what their statistics say (nested loops over thousands of rows otherwise)
    PERFORM crm_private.rc_refresh_stats();
    ANALYZE pg_temp.rc_stage;
    -- bulk mode (the function's SET clause): the per-row validation triggers of the graph
    -- tables are skipped for the statements below, which run as crm_owner (rc_apply is only
    -- ever called by crm.reconcile, SECURITY DEFINER); what they would check and compute is
    -- done here, set-based (marked "bulk:" below). The setting reverts when rc_apply returns.

    -- ------------------------------------------------------------ skip: stale, not customers
    UPDATE pg_temp.rc_stage s
       SET skip_reason = format('stale: older than the applied version (%s)', ns.source_updated_at)
      FROM crm.node_sources ns
     WHERE ns.source = s.source AND ns.object = s.object AND ns.external_id = s.external_id
       AND s.source_time < ns.source_updated_at AND s.reject_reason IS NULL;
    UPDATE pg_temp.rc_stage s SET skip_reason = 'not a customer record (staff user or deleted customer)'
     WHERE s.kind = 'skip' AND s.reject_reason IS NULL AND s.skip_reason IS NULL;

    -- bulk: the claims a record will assert are checked before anything is written, by the
    -- rules of crm_private.tg_assertions__validate (registered type, subject node type, and
    -- crm_private.claim_problems: required keys, JSON types, the type's jsonpath rule); a record
    -- with an invalid claim is rejected with the reason instead of failing the whole batch
    UPDATE pg_temp.rc_stage s SET reject_reason = v.why
      FROM (SELECT s2.record_id,
                   string_agg(format('invalid %s claim %s: %s', a.key, a.value::text, p.problem), '; ' ORDER BY a.key) AS why
              FROM pg_temp.rc_stage s2
             CROSS JOIN LATERAL jsonb_each(s2.assertions) AS a
              LEFT JOIN crm.assertion_types t ON t.assertion_type = a.key
             CROSS JOIN LATERAL (SELECT CASE
                    WHEN t.assertion_type IS NULL THEN 'unknown assertion type'
                    WHEN t.subject_is_edge OR (t.subject_types IS NOT NULL AND NOT (s2.node_type = ANY (t.subject_types)))
                        THEN format('not about a %s node', s2.node_type)
                    WHEN jsonb_typeof(a.value) <> 'object' THEN 'a claim must be a JSON object'
                    ELSE concat_ws('; ', 'missing ' || c.missing, c.bad,
                                   CASE WHEN NOT c.rule_ok THEN format('violates %s', t.claim_rule::text) END)
                  END AS problem
                  FROM crm_private.claim_problems(a.value, t.claim_required, t.claim_properties, t.claim_rule) c) p
             WHERE s2.reject_reason IS NULL AND s2.skip_reason IS NULL AND s2.kind = 'child'
               AND jsonb_typeof(s2.assertions) = 'object' AND nullif(p.problem, '') IS NOT NULL
             GROUP BY s2.record_id) v
     WHERE s.record_id = v.record_id;

    -- ------------------------------------------------------------ account resolution
    UPDATE pg_temp.rc_stage s SET crm_account = ns.node_id
      FROM crm.node_sources ns
      JOIN crm.nodes a ON a.id = ns.node_id AND a.archived_at IS NULL AND a.node_type = 'org'
     WHERE s.acct_crm_id IS NOT NULL AND s.reject_reason IS NULL AND s.skip_reason IS NULL
       AND ns.source = 'salesforce' AND ns.object = 'Account' AND ns.external_id = s.acct_crm_id;

    UPDATE pg_temp.rc_stage s SET ref_account = CASE WHEN n.node_type = 'org' THEN n.id ELSE o.target_id END
      FROM crm.node_sources ns
      JOIN crm.nodes n ON n.id = ns.node_id
      LEFT JOIN crm.edges o ON o.source_id = n.id AND o.edge_type = 'owned_by'
                           AND o.archived_at IS NULL AND o.effective_to IS NULL
     WHERE s.acct_ref IS NOT NULL AND s.reject_reason IS NULL AND s.skip_reason IS NULL
       AND ns.source = s.acct_ref[1] AND ns.object = s.acct_ref[2] AND ns.external_id = s.acct_ref[3];

    WITH d AS (
        SELECT s.record_id, x.dom,
               EXISTS (SELECT 1 FROM crm_raw.free_mail_domains f WHERE x.dom LIKE f.pattern) AS free
          FROM pg_temp.rc_stage s
         CROSS JOIN LATERAL unnest(s.acct_domains) AS x(dom)
         WHERE s.reject_reason IS NULL AND s.skip_reason IS NULL AND cardinality(s.acct_domains) > 0
    ), m AS (
        SELECT d.record_id,
               array_agg(DISTINCT d.dom) FILTER (WHERE d.free) AS free_mail,
               count(DISTINCT a.id)::integer AS n,
               (array_agg(a.id) FILTER (WHERE a.id IS NOT NULL))[1] AS account
          FROM d
          LEFT JOIN crm.nodes a ON NOT d.free AND a.node_type = 'org' AND a.archived_at IS NULL
                               AND a.properties ->> 'domain' = d.dom
         GROUP BY d.record_id
    )
    UPDATE pg_temp.rc_stage s
       SET free_mail = m.free_mail, domain_candidates = m.n,
           domain_account = CASE WHEN m.n = 1 THEN m.account END
      FROM m WHERE m.record_id = s.record_id;

    UPDATE pg_temp.rc_stage s
       SET account_id = coalesce(s.crm_account, s.ref_account, CASE WHEN s.acct_crm_id IS NULL THEN s.domain_account END),
           match = jsonb_strip_nulls(jsonb_build_object(
               'by', CASE WHEN s.crm_account IS NOT NULL THEN 'crm_id'
                          WHEN s.ref_account IS NOT NULL THEN 'ref'
                          WHEN s.acct_crm_id IS NULL AND s.domain_account IS NOT NULL THEN 'domain' END,
               'crm_id', s.acct_crm_id, 'crm_account_id', s.crm_account,
               'ref', to_jsonb(s.acct_ref), 'ref_account_id', s.ref_account,
               'domains', to_jsonb(s.acct_domains), 'domain_account_id', s.domain_account,
               'domain_candidates', s.domain_candidates, 'free_mail', to_jsonb(s.free_mail)))
     WHERE s.kind IN ('alias', 'person', 'child', 'activity') AND s.reject_reason IS NULL AND s.skip_reason IS NULL;

    -- ------------------------------------------------------------ node resolution
    UPDATE pg_temp.rc_stage s SET node_id = ns.node_id
      FROM crm.node_sources ns
     WHERE s.kind IN ('account', 'user', 'person', 'child') AND s.reject_reason IS NULL AND s.skip_reason IS NULL
       AND ns.source = s.source AND ns.object = s.object AND ns.external_id = s.external_id;
    -- a person is one person across systems: any of their email channels finds them
    UPDATE pg_temp.rc_stage s SET node_id = e.source_id
      FROM crm.nodes c
      JOIN crm.edges e ON e.target_id = c.id AND e.edge_type = 'has_channel' AND e.archived_at IS NULL
      JOIN crm.nodes p ON p.id = e.source_id AND p.archived_at IS NULL AND p.node_type = 'person'
     WHERE s.kind = 'person' AND s.node_id IS NULL AND s.email IS NOT NULL
       AND s.reject_reason IS NULL AND s.skip_reason IS NULL
       AND ARRAY[c.external_source, c.external_id] = ARRAY['channel', 'email:' || s.email]
       AND c.external_id IS NOT NULL AND c.external_source <> 'internal' AND c.archived_at IS NULL;
    -- a Salesforce user is the CRM user an admin already created for the same person
    -- (crm.create_user, `crm360 user add`: key crm360_user/<email>) when no Salesforce user
    -- links it yet: the login mapped to it then sees what that user owns
    UPDATE pg_temp.rc_stage s SET node_id = u.id
      FROM crm.nodes u
     WHERE s.kind = 'user' AND s.node_id IS NULL AND s.reject_reason IS NULL AND s.skip_reason IS NULL
       AND s.properties ->> 'email' IS NOT NULL
       AND ARRAY[u.external_source, u.external_id] = ARRAY['crm360_user', s.properties ->> 'email']
       AND u.external_id IS NOT NULL AND u.external_source <> 'internal'
       AND u.node_type = 'user' AND u.archived_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM crm.node_sources ns
                        WHERE ns.node_id = u.id AND ns.source = 'salesforce' AND ns.object = 'User');
    -- (source keys are matched as ARRAY[external_source, external_id]: the key indexes are on
    -- that expression, which is not leakproof, so a reader's own key lookups can never run
    -- as an index condition before row-level security — migration 0018)
    -- adopted only when reconciliation made it (crm.node_sources): a node someone else gave
    -- the key cannot capture the record (keys of registered sources belong to reconciliation)
    UPDATE pg_temp.rc_stage s SET node_id = n.id
      FROM crm.nodes n
     WHERE s.kind IN ('account', 'user', 'person', 'child') AND s.node_id IS NULL
       AND s.reject_reason IS NULL AND s.skip_reason IS NULL
       AND ARRAY[n.external_source, n.external_id] = ARRAY[s.node_source, s.node_key]
       AND n.external_id IS NOT NULL AND n.external_source <> 'internal' AND n.archived_at IS NULL
       AND n.node_type = s.node_type
       AND EXISTS (SELECT 1 FROM crm.node_sources ns WHERE ns.node_id = n.id);
    -- a live node holding the key that reconciliation did not make: the record is rejected
    -- with the reason (an admin merges or re-keys it), never written onto that node
    UPDATE pg_temp.rc_stage s
       SET reject_reason = format('key %s/%s is held by node %s, which reconciliation did not create '
                                  '(not in crm.node_sources): merge it (crm.merge_nodes) or re-key it',
                                  s.node_source, s.node_key, n.id)
      FROM crm.nodes n
     WHERE s.kind IN ('account', 'user', 'person', 'child') AND s.node_id IS NULL
       AND s.reject_reason IS NULL AND s.skip_reason IS NULL
       AND ARRAY[n.external_source, n.external_id] = ARRAY[s.node_source, s.node_key]
       AND n.external_id IS NOT NULL AND n.external_source <> 'internal' AND n.archived_at IS NULL;
    UPDATE pg_temp.rc_stage s SET node_id = s.account_id WHERE s.kind = 'alias';
    UPDATE pg_temp.rc_stage s
       SET account_id = o.target_id,
           match = coalesce(s.match, '{}') || jsonb_build_object('by', 'person', 'person_account_id', o.target_id)
      FROM crm.edges o
     WHERE s.kind = 'person' AND s.account_id IS NULL AND s.node_id IS NOT NULL
       AND s.reject_reason IS NULL AND s.skip_reason IS NULL
       AND o.source_id = s.node_id AND o.edge_type = 'owned_by' AND o.archived_at IS NULL AND o.effective_to IS NULL;

    ANALYZE pg_temp.rc_stage;   -- temp tables get no autovacuum statistics: keep the plans honest

    -- ------------------------------------------------------------ orphans: surfaced, not guessed
    UPDATE pg_temp.rc_stage s
       SET orphan_reason = 'no account: ' || concat_ws('; ',
             CASE WHEN s.acct_crm_id IS NOT NULL
                  THEN format('CRM account %s is not known (not ingested yet, or deleted)', s.acct_crm_id) END,
             CASE WHEN s.acct_ref IS NOT NULL
                  THEN format('%s %s %s does not resolve to an account', s.acct_ref[1], s.acct_ref[2], s.acct_ref[3]) END,
             CASE WHEN s.domain_candidates > 1
                  THEN format('domain %s matches %s accounts', array_to_string(s.acct_domains, ', '), s.domain_candidates) END,
             CASE WHEN s.free_mail IS NOT NULL
                  THEN format('free-mail domain %s ignored', array_to_string(s.free_mail, ', ')) END,
             CASE WHEN s.acct_crm_id IS NULL AND coalesce(s.domain_candidates, 0) = 0
                       AND cardinality(s.acct_domains) > cardinality(coalesce(s.free_mail, '{}'))
                  THEN format('domain %s matches no account', array_to_string(s.acct_domains, ', ')) END,
             CASE WHEN s.acct_crm_id IS NULL AND s.acct_ref IS NULL AND coalesce(cardinality(s.acct_domains), 0) = 0
                  THEN 'the record names no CRM account, reference or domain' END)
     WHERE s.kind IN ('alias', 'person', 'child', 'activity') AND s.account_id IS NULL
       AND s.reject_reason IS NULL AND s.skip_reason IS NULL;

    -- ------------------------------------------------------------ ownership -> team (accounts)
    SELECT m.mode, m.default_team INTO v_mode, v_default_team FROM crm_raw.ownership_mapping m;
    v_mode := coalesce(v_mode, 'none');
    IF v_mode <> 'none' THEN
        -- per_owner: each Salesforce owner has a team of their own, found by the owner's
        -- Salesforce User Id (attrs.salesforce_owner_id), never by name: two users called the
        -- same, or a user called like an admin's team, never share a team
        UPDATE pg_temp.rc_stage s
           SET team_id = (SELECT t.id FROM crm.nodes t
                           WHERE t.node_type = 'team' AND t.archived_at IS NULL
                             AND t.attrs ->> 'ownership_mapping' = 'per_owner'
                             AND t.attrs ->> 'salesforce_owner_id' = s.owner_id
                           ORDER BY t.created_at, t.id LIMIT 1)
         WHERE v_mode = 'per_owner' AND s.kind = 'account' AND s.ok AND s.owner_id IS NOT NULL;
        UPDATE pg_temp.rc_stage s
           SET team_name = CASE
                 WHEN v_mode = 'per_owner' AND s.owner_id IS NOT NULL THEN
                     btrim(coalesce((SELECT u.label FROM crm.node_sources ns JOIN crm.nodes u ON u.id = ns.node_id
                                      WHERE ns.source = 'salesforce' AND ns.object = 'User' AND ns.external_id = s.owner_id),
                                    'Salesforce owner ' || s.owner_id))
                 WHEN v_mode = 'per_region' THEN
                     coalesce((SELECT rt.team_name FROM crm_raw.region_teams rt WHERE rt.country = s.country), v_default_team)
               END
         WHERE s.kind = 'account' AND s.ok AND s.team_id IS NULL;
        -- the statistics of rc_stage were taken before any team_name was set (all NULL): the
        -- two statements below were planned for 1 row and ran a nested loop with a scan of
        -- crm.nodes per staged account — quadratic: 23 s of a 30k-account load, 0.2 s at 6k
        ANALYZE pg_temp.rc_stage;
        -- a new owner's team is named after them, with their Salesforce id appended when that
        -- name is taken (by an admin's team or another owner's) or shared by two new owners
        UPDATE pg_temp.rc_stage s
           SET team_name = s.team_name || ' (' || s.owner_id || ')'
         WHERE v_mode = 'per_owner' AND s.kind = 'account' AND s.ok AND s.team_id IS NULL
           AND s.owner_id IS NOT NULL AND s.team_name IS NOT NULL
           AND (lower(s.team_name) IN (SELECT lower(o.team_name)          -- (once, hashed)
                                         FROM pg_temp.rc_stage o
                                        WHERE o.kind = 'account' AND o.ok AND o.team_id IS NULL
                                          AND o.owner_id IS NOT NULL AND o.team_name IS NOT NULL
                                        GROUP BY lower(o.team_name)
                                       HAVING count(DISTINCT o.owner_id) > 1)
                OR EXISTS (SELECT 1 FROM crm.nodes t
                            WHERE ARRAY[t.external_source, t.external_id] = ARRAY['crm360_team', lower(s.team_name)]
                              AND t.external_id IS NOT NULL AND t.external_source <> 'internal'));
        -- (attrs.ownership_mapping marks the teams ingestion made: only their members are
        -- maintained by crm_private.sync_owner_teams — an admin's team of the same name is used
        -- as it is with per_region, its members stay the admins' call)
        INSERT INTO crm.nodes (node_type, label, properties, external_source, external_id, attrs)
        SELECT DISTINCT ON (lower(btrim(s.team_name))) 'team', btrim(s.team_name),
               jsonb_build_object('name', btrim(s.team_name), 'description', 'created by ingestion (ownership mapping)'),
               'crm360_team', lower(btrim(s.team_name)),
               jsonb_strip_nulls(jsonb_build_object('ownership_mapping', v_mode,
                                                    'salesforce_owner_id', CASE WHEN v_mode = 'per_owner' THEN s.owner_id END))
          FROM pg_temp.rc_stage s
         WHERE s.team_name IS NOT NULL AND s.team_id IS NULL AND s.ok
           AND NOT EXISTS (SELECT 1 FROM crm.nodes t
                            WHERE ARRAY[t.external_source, t.external_id] = ARRAY['crm360_team', lower(btrim(s.team_name))]
                              AND t.external_id IS NOT NULL AND t.external_source <> 'internal' AND t.archived_at IS NULL)
         ORDER BY lower(btrim(s.team_name)), s.team_name
        ON CONFLICT DO NOTHING;
        UPDATE pg_temp.rc_stage s SET team_id = t.id
          FROM crm.nodes t
         WHERE s.team_name IS NOT NULL AND s.team_id IS NULL
           AND ARRAY[t.external_source, t.external_id] = ARRAY['crm360_team', lower(btrim(s.team_name))]
           AND t.external_id IS NOT NULL AND t.external_source <> 'internal' AND t.archived_at IS NULL;
    END IF;

    -- ------------------------------------------------------------ new nodes (one per key)
    -- bulk: the required properties of the node type (crm.node_types, as tg_nodes__validate
    -- checks them: present, non-null, non-blank) — a record that would create an incomplete
    -- node is rejected with the reason; OPP codes are allocated below
    UPDATE pg_temp.rc_stage s
       SET reject_reason = format('a %s node needs the properties %s', s.node_type, m.missing)
      FROM (SELECT s2.record_id, string_agg(k, ', ' ORDER BY k) AS missing
              FROM pg_temp.rc_stage s2
              JOIN crm.node_types t ON t.node_type = s2.node_type
             CROSS JOIN LATERAL unnest(t.required_properties) AS k
             WHERE s2.ok AND s2.node_id IS NULL AND s2.kind IN ('account', 'user', 'person', 'child')
               AND NOT (s2.node_type = 'opportunity' AND k = 'code')
               AND (NOT (s2.properties ? k) OR jsonb_typeof(s2.properties -> k) = 'null'
                    OR (jsonb_typeof(s2.properties -> k) = 'string' AND btrim(s2.properties ->> k) = ''))
             GROUP BY s2.record_id) m
     WHERE s.record_id = m.record_id;

    WITH k AS (
        SELECT DISTINCT s.node_source, s.node_key FROM pg_temp.rc_stage s
         WHERE s.ok AND s.node_id IS NULL AND s.kind IN ('account', 'user', 'person', 'child')
    ), ids AS (
        SELECT k.node_source, k.node_key, gen_random_uuid() AS id FROM k
    )
    UPDATE pg_temp.rc_stage s SET node_id = ids.id, is_new = true, is_primary = true
      FROM ids
     WHERE s.ok AND s.node_id IS NULL AND s.kind IN ('account', 'user', 'person', 'child')
       AND s.node_source = ids.node_source AND s.node_key = ids.node_key;

    -- new opportunities get their OPP codes from the month's code sequence, in record order
    -- (nextval never waits for another transaction: a reconcile does not hold up reps' creates)
    IF EXISTS (SELECT 1 FROM pg_temp.rc_stage s WHERE s.is_new AND s.node_type = 'opportunity') THEN
        v_codes := crm_private.code_sequence('OPP', v_yymm);
        WITH o AS (
            SELECT s.node_id, min(s.record_id) AS first_record
              FROM pg_temp.rc_stage s WHERE s.is_new AND s.node_type = 'opportunity' GROUP BY s.node_id
        ), n AS (
            SELECT q.node_id, nextval(v_codes) AS seq
              FROM (SELECT o.node_id FROM o ORDER BY o.first_record) q
        )
        UPDATE pg_temp.rc_stage s
           SET properties = s.properties || jsonb_build_object('code',
                   format('OPP-%s-%s', v_yymm, lpad(n.seq::text, greatest(4, length(n.seq::text)), '0')))
          FROM n WHERE n.node_id = s.node_id;
    END IF;

    -- bulk: label derived when blank and external keys trimmed (as tg_nodes__validate does);
    -- acl NULL for types that are not access-checked, else the restriction (accounts: the
    -- ingestion team) — children and people get their account's acl (their owned_by edge
    -- follows below), exactly what the ACL inheritance would compute
    INSERT INTO crm.nodes (id, node_type, label, properties, external_source, external_id, restricted_to, acl, attrs)
    SELECT x.node_id, x.node_type, x.label, x.props, x.node_source, x.node_key, x.restricted_to,
           CASE WHEN NOT t.access_checked THEN NULL
                WHEN x.kind IN ('child', 'person') THEN crm_private.acl_norm(a.acl)
                ELSE x.restricted_to END,
           x.attrs
      FROM (SELECT DISTINCT ON (s.node_id) s.node_id, s.node_type, s.kind, s.account_id,
                   crm_private.derive_label(s.label, s.properties) AS label,
                   jsonb_strip_nulls(s.properties) AS props,
                   nullif(btrim(s.node_source), '') AS node_source, nullif(btrim(s.node_key), '') AS node_key,
                   CASE WHEN s.team_id IS NOT NULL AND s.kind NOT IN ('child', 'person')
                        THEN ARRAY[s.team_id] ELSE '{}'::uuid[] END AS restricted_to,
                   CASE WHEN s.kind NOT IN ('child', 'person')
                        THEN jsonb_strip_nulls(jsonb_build_object('ingest_team', s.team_id)) ELSE '{}'::jsonb END AS attrs
              FROM pg_temp.rc_stage s
             WHERE s.is_new
             ORDER BY s.node_id, (s.source = 'salesforce') DESC, s.record_id DESC) x
      JOIN crm.node_types t ON t.node_type = x.node_type
      LEFT JOIN crm.nodes a ON a.id = x.account_id AND x.kind IN ('child', 'person');

    PERFORM crm_private.rc_refresh_stats();
    ANALYZE pg_temp.rc_stage;

    -- ------------------------------------------------------------ existing nodes
    UPDATE pg_temp.rc_stage s
       SET old_properties = n.properties, old_archived = n.archived_at IS NOT NULL,
           is_primary = (n.external_source = s.node_source AND n.external_id = s.node_key)
      FROM crm.nodes n
     WHERE n.id = s.node_id AND NOT s.is_new AND s.ok AND s.kind IN ('account', 'user', 'person', 'child');

    UPDATE crm.nodes n
       SET properties = x.props,
           label = coalesce(x.label, n.label),
           updated_at = now(),   -- bulk
           archived_at = CASE WHEN x.restore AND n.attrs ->> 'archived_by' = 'source' THEN NULL ELSE n.archived_at END,
           attrs = CASE WHEN x.restore AND n.attrs ->> 'archived_by' = 'source'
                        THEN n.attrs - 'archived_by' - 'removed_at_source' ELSE n.attrs END
      FROM (SELECT DISTINCT ON (s.node_id) s.node_id,
                   CASE WHEN s.kind = 'person' AND s.source <> 'salesforce'
                            THEN jsonb_strip_nulls(s.properties) || s.old_properties
                        WHEN s.kind = 'person' OR s.is_primary
                            THEN jsonb_strip_nulls(s.old_properties || s.properties)
                        ELSE s.old_properties END AS props,
                   CASE WHEN (s.kind = 'person' AND s.source = 'salesforce') OR (s.kind <> 'person' AND s.is_primary)
                        THEN s.label END AS label,
                   (s.old_archived AND NOT s.deleted) AS restore
              FROM pg_temp.rc_stage s
             WHERE s.ok AND NOT s.is_new AND s.kind IN ('account', 'user', 'person', 'child')
             ORDER BY s.node_id, (s.source = 'salesforce') DESC, s.record_id DESC) x
     WHERE n.id = x.node_id
       AND (n.properties IS DISTINCT FROM x.props
            OR (x.label IS NOT NULL AND n.label IS DISTINCT FROM x.label)
            OR (x.restore AND n.attrs ->> 'archived_by' = 'source'));

    -- an admin-created user a Salesforce user adopted keeps what the admin gave it (name,
    -- email, its crm360 key), but follows Salesforce's IsActive: a deactivated owner loses the
    -- memberships ingestion manages (crm_private.sync_owner_teams)
    UPDATE crm.nodes n
       SET properties = n.properties || jsonb_build_object('active', x.active),
           updated_at = now()   -- bulk
      FROM (SELECT DISTINCT ON (s.node_id) s.node_id, s.properties -> 'active' AS active
              FROM pg_temp.rc_stage s
             WHERE s.ok AND NOT s.is_new AND s.kind = 'user' AND s.source = 'salesforce'
               AND jsonb_typeof(s.properties -> 'active') = 'boolean'
             ORDER BY s.node_id, s.record_id DESC) x
     WHERE n.id = x.node_id AND n.node_type = 'user' AND n.external_source = 'crm360_user'
       AND n.properties -> 'active' IS DISTINCT FROM x.active;

    IF v_mode <> 'none' THEN
        -- replaces only the restriction ingestion set before; the trigger recomputes the ACL
        -- of the account and its owned_by descendants and logs the change
        UPDATE crm.nodes n
           SET restricted_to = crm_private.acl_norm(array_remove(n.restricted_to, (n.attrs ->> 'ingest_team')::uuid) || s.team_id),
               attrs = jsonb_strip_nulls(n.attrs || jsonb_build_object('ingest_team', s.team_id)),
               updated_at = now()   -- bulk
          FROM pg_temp.rc_stage s
         WHERE s.kind = 'account' AND s.ok AND NOT s.is_new AND n.id = s.node_id
           AND (n.attrs ->> 'ingest_team')::uuid IS DISTINCT FROM s.team_id;
    END IF;

    -- ------------------------------------------------------------ channels of people
    -- bulk: a channel is access-checked and unrestricted, reached through its person: its acl
    -- is the union of its owned_by parents' acl (crm_private.recompute_acl's rule). A channel
    -- created here has exactly the staged people carrying its key as parents (their owned_by
    -- edges follow below), so it is written with that union — the people's acl as stored now —
    -- and left out of the recomputation after the edges (before: written '{}', then every new
    -- channel recomputed and propagated: ~40 % of a Contact load). A person whose acl changes
    -- later in this batch takes its channels along through the recomputation's descent.
    WITH c AS (
        SELECT 'email:' || s.email AS key, 'email' AS typ, s.email AS value, p.acl
          FROM pg_temp.rc_stage s JOIN crm.nodes p ON p.id = s.node_id
         WHERE s.ok AND s.kind = 'person' AND s.email IS NOT NULL
        UNION ALL
        SELECT 'phone:' || regexp_replace(s.phone, '\D', '', 'g'), 'phone', btrim(s.phone), p.acl
          FROM pg_temp.rc_stage s JOIN crm.nodes p ON p.id = s.node_id
         WHERE s.ok AND s.kind = 'person' AND length(regexp_replace(coalesce(s.phone, ''), '\D', '', 'g')) >= 5
    ), k AS (
        SELECT c.key, min(c.typ) AS typ, min(c.value) AS value,
               coalesce(array_agg(DISTINCT x ORDER BY x) FILTER (WHERE x IS NOT NULL), '{}') AS acl
          FROM c LEFT JOIN LATERAL unnest(c.acl) AS x ON true
         GROUP BY c.key
    ), ins AS (
        INSERT INTO crm.nodes (node_type, label, properties, external_source, external_id, acl)
        SELECT 'channel', k.value, jsonb_build_object('channel_type', k.typ, 'value', k.value), 'channel', k.key, k.acl
          FROM k
         WHERE NOT EXISTS (SELECT 1 FROM crm.nodes x WHERE ARRAY[x.external_source, x.external_id] = ARRAY['channel', k.key]
                              AND x.external_id IS NOT NULL AND x.external_source <> 'internal'
                              AND x.archived_at IS NULL)
         ORDER BY k.key
        ON CONFLICT DO NOTHING
        RETURNING id
    )
    SELECT array_agg(ins.id) INTO v_new_channels FROM ins;

    -- ------------------------------------------------------------ edges
    SELECT p.id INTO v_pipeline FROM crm.nodes p
     WHERE p.node_type = 'pipeline' AND ARRAY[p.external_source, p.external_id] = ARRAY['internal', 'PL-SFDC']
       AND p.external_id IS NOT NULL AND p.archived_at IS NULL;

    INSERT INTO pg_temp.rc_edges (edge_type, source_id, target_id, properties, exclusive)
    SELECT 'owned_by', s.node_id, s.account_id, '{}'::jsonb, 'source'
      FROM pg_temp.rc_stage s WHERE s.ok AND s.kind = 'child'
    UNION ALL
    SELECT x.edge_type, x.source_id, x.target_id, '{}'::jsonb, x.exclusive
      FROM pg_temp.rc_stage s
     CROSS JOIN LATERAL (VALUES ('owned_by', s.node_id, s.account_id, 'source'),
                                ('employs', s.account_id, s.node_id, CASE WHEN s.source = 'salesforce' THEN 'target' END))
                        AS x(edge_type, source_id, target_id, exclusive)
     WHERE s.ok AND s.kind = 'person'
       AND (s.source = 'salesforce'
            OR NOT EXISTS (SELECT 1 FROM crm.edges o WHERE o.source_id = s.node_id AND o.edge_type = 'owned_by'
                              AND o.archived_at IS NULL AND o.effective_to IS NULL))
    UNION ALL
    -- a channel belongs to its person (owned_by channel -> person: whoever sees the person
    -- sees its channels; the person's has_channel edge lists them)
    SELECT x.edge_type, x.source_id, x.target_id, '{}'::jsonb, x.exclusive
      FROM pg_temp.rc_stage s
     CROSS JOIN LATERAL (VALUES ('email:' || s.email),
                                ('phone:' || regexp_replace(coalesce(s.phone, ''), '\D', '', 'g'))) AS k(key)
      JOIN crm.nodes c ON ARRAY[c.external_source, c.external_id] = ARRAY['channel', k.key]
                      AND c.external_id IS NOT NULL AND c.external_source <> 'internal' AND c.archived_at IS NULL
     CROSS JOIN LATERAL (VALUES ('has_channel', s.node_id, c.id, NULL), ('owned_by', c.id, s.node_id, 'source'))
                        AS x(edge_type, source_id, target_id, exclusive)
     WHERE s.ok AND s.kind = 'person'
    UNION ALL
    SELECT 'filed', p.id, s.node_id, '{}'::jsonb, 'target'
      FROM pg_temp.rc_stage s
      JOIN crm.node_sources ns ON ns.source = s.refs -> 'requester' ->> 0 AND ns.object = s.refs -> 'requester' ->> 1
                              AND ns.external_id = s.refs -> 'requester' ->> 2
      JOIN crm.nodes p ON p.id = ns.node_id AND p.node_type = 'person' AND p.archived_at IS NULL
     WHERE s.ok AND s.kind = 'child' AND s.refs ? 'requester'
    UNION ALL
    SELECT 'assigned_to', s.node_id, u.id, '{"role": "owner"}'::jsonb, 'source'
      FROM pg_temp.rc_stage s
      JOIN crm.node_sources ns ON ns.source = s.refs -> 'owner' ->> 0 AND ns.object = s.refs -> 'owner' ->> 1
                              AND ns.external_id = s.refs -> 'owner' ->> 2
      JOIN crm.nodes u ON u.id = ns.node_id AND u.node_type IN ('user', 'person') AND u.archived_at IS NULL
     WHERE s.ok AND s.refs ? 'owner'
       AND ((s.kind = 'child' AND s.node_type = 'opportunity') OR s.kind = 'account'
            OR (s.kind = 'person' AND s.source = 'salesforce'))
    UNION ALL
    -- owners that arrive after what they own: a new Salesforce user becomes the owner of the
    -- live accounts, contacts and opportunities whose applied record names it and that have
    -- no owner yet (only new or just adopted users: known ones were linked when those records
    -- were applied)
    SELECT 'assigned_to', ns.node_id, s.node_id, '{"role": "owner"}'::jsonb, 'source'
      FROM pg_temp.rc_stage s
      JOIN crm_raw.records r ON r.source = 'salesforce' AND r.object IN ('Account', 'Contact', 'Opportunity')
                            AND r.status = 'applied' AND btrim(r.payload ->> 'OwnerId') = s.external_id
      JOIN crm.node_sources ns ON ns.last_record_id = r.id
      JOIN crm.nodes n ON n.id = ns.node_id AND n.archived_at IS NULL
     WHERE s.ok AND s.kind = 'user' AND s.source = 'salesforce'
       AND (s.is_new
            -- (or an admin-created user this Salesforce user adopted: its records came first too)
            OR EXISTS (SELECT 1 FROM crm.nodes un WHERE un.id = s.node_id AND un.external_source = 'crm360_user'))
       AND NOT EXISTS (SELECT 1 FROM crm.edges o
                        WHERE o.source_id = ns.node_id AND o.edge_type = 'assigned_to' AND o.archived_at IS NULL
                          AND o.effective_to IS NULL AND o.properties ->> 'role' = 'owner')
    UNION ALL
    -- an opportunity's primary contact (Salesforce ContactId): one per opportunity, a new one
    -- replaces the former
    SELECT 'primary_contact', s.node_id, p.id, '{}'::jsonb, 'source'
      FROM pg_temp.rc_stage s
      JOIN crm.node_sources ns ON ns.source = s.refs -> 'primary_contact' ->> 0
                              AND ns.object = s.refs -> 'primary_contact' ->> 1
                              AND ns.external_id = s.refs -> 'primary_contact' ->> 2
      JOIN crm.nodes p ON p.id = ns.node_id AND p.node_type = 'person' AND p.archived_at IS NULL
     WHERE s.ok AND s.kind = 'child' AND s.node_type = 'opportunity' AND s.refs ? 'primary_contact'
    UNION ALL
    -- contacts that arrive after the opportunities naming them: a Salesforce contact applied for
    -- the first time becomes the primary contact of the live opportunities whose applied record
    -- names it and that have none yet (a contact applied before was linked by those records)
    SELECT 'primary_contact', ns.node_id, s.node_id, '{}'::jsonb, 'source'
      FROM pg_temp.rc_stage s
      JOIN crm_raw.records r ON r.source = 'salesforce' AND r.object = 'Opportunity' AND r.status = 'applied'
                            AND btrim(r.payload ->> 'ContactId') = s.external_id
      JOIN crm.node_sources ns ON ns.last_record_id = r.id
      JOIN crm.nodes n ON n.id = ns.node_id AND n.node_type = 'opportunity' AND n.archived_at IS NULL
     WHERE s.ok AND s.kind = 'person' AND s.source = 'salesforce' AND s.object = 'Contact'
       AND NOT EXISTS (SELECT 1 FROM crm_raw.records p
                        WHERE p.source = 'salesforce' AND p.object = 'Contact' AND p.external_id = s.external_id
                          AND p.status = 'applied' AND p.id <> s.record_id)
       AND NOT EXISTS (SELECT 1 FROM crm.edges o
                        WHERE o.source_id = ns.node_id AND o.edge_type = 'primary_contact' AND o.archived_at IS NULL
                          AND o.effective_to IS NULL)
    UNION ALL
    SELECT 'pipeline_member', s.node_id, v_pipeline, jsonb_build_object('entered_at', v_now), NULL
      FROM pg_temp.rc_stage s
     WHERE s.is_new AND s.node_type = 'opportunity' AND v_pipeline IS NOT NULL;

    ANALYZE pg_temp.rc_edges;
    -- one edge per exclusive slot, no identical duplicates
    DELETE FROM pg_temp.rc_edges x
     USING (SELECT e.ctid AS row_ctid,
                   row_number() OVER (PARTITION BY e.edge_type,
                                      CASE e.exclusive WHEN 'source' THEN e.source_id WHEN 'target' THEN e.target_id END,
                                      CASE WHEN e.exclusive IS NULL THEN e.source_id END,
                                      CASE WHEN e.exclusive IS NULL THEN e.target_id END) AS rn
              FROM pg_temp.rc_edges e) d
     WHERE x.ctid = d.row_ctid AND d.rn > 1;

    -- an exclusive edge replaces the live one it conflicts with (archived, or ended if temporal);
    -- one statement per direction so each can use edges_source / edges_target
    UPDATE crm.edges e
       SET archived_at = CASE WHEN t.temporal THEN e.archived_at ELSE v_now END,
           effective_to = CASE WHEN t.temporal THEN v_now ELSE e.effective_to END,
           updated_at = now()   -- bulk
      FROM pg_temp.rc_edges x
      JOIN crm.edge_types t ON t.edge_type = x.edge_type
     WHERE x.exclusive = 'source' AND e.source_id = x.source_id AND e.edge_type = x.edge_type
       AND e.target_id <> x.target_id AND e.archived_at IS NULL AND e.effective_to IS NULL;
    UPDATE crm.edges e
       SET archived_at = CASE WHEN t.temporal THEN e.archived_at ELSE v_now END,
           effective_to = CASE WHEN t.temporal THEN v_now ELSE e.effective_to END,
           updated_at = now()   -- bulk
      FROM pg_temp.rc_edges x
      JOIN crm.edge_types t ON t.edge_type = x.edge_type
     WHERE x.exclusive = 'target' AND e.target_id = x.target_id AND e.edge_type = x.edge_type
       AND e.source_id <> x.source_id AND e.archived_at IS NULL AND e.effective_to IS NULL;

    -- a primary contact the source cleared (ContactId present and empty) ends
    UPDATE crm.edges e
       SET archived_at = CASE WHEN t.temporal THEN e.archived_at ELSE v_now END,
           effective_to = CASE WHEN t.temporal THEN v_now ELSE e.effective_to END,
           updated_at = now()   -- bulk
      FROM pg_temp.rc_stage s
      JOIN crm.edge_types t ON t.edge_type = 'primary_contact'
     WHERE s.ok AND s.kind = 'child' AND s.node_type = 'opportunity' AND s.refs ? 'primary_contact_cleared'
       AND e.source_id = s.node_id AND e.edge_type = 'primary_contact'
       AND e.archived_at IS NULL AND e.effective_to IS NULL;

    -- bulk: the rules of tg_edges__validate, checked for the whole set (a violation here is
    -- a mapping bug, not bad data: it fails the batch with the trigger's error)
    SELECT x.edge_type, sn.node_type AS s_type, tn.node_type AS t_type,
           (sn.archived_at IS NOT NULL OR tn.archived_at IS NOT NULL) AS archived
      INTO v_bad
      FROM pg_temp.rc_edges x
      JOIN crm.edge_types t ON t.edge_type = x.edge_type
      JOIN crm.nodes sn ON sn.id = x.source_id
      JOIN crm.nodes tn ON tn.id = x.target_id
     WHERE x.source_id <> x.target_id
       AND ((t.source_types IS NOT NULL AND NOT (sn.node_type = ANY (t.source_types)))
            OR (t.target_types IS NOT NULL AND NOT (tn.node_type = ANY (t.target_types)))
            OR sn.archived_at IS NOT NULL OR tn.archived_at IS NOT NULL)
     LIMIT 1;
    IF FOUND THEN
        IF v_bad.archived THEN
            RAISE EXCEPTION 'cannot link an archived node (% edge)', v_bad.edge_type
                USING ERRCODE = 'CR020', HINT = 'restore the node first (crm.restore_node)';
        END IF;
        RAISE EXCEPTION 'a % edge cannot link a % node to a % node', v_bad.edge_type, v_bad.s_type, v_bad.t_type
            USING ERRCODE = 'CR012', HINT = 'check the direction and the node types (see crm.edge_types)';
    END IF;
    -- bulk: endpoint ACL copies and effective_from of temporal edges written here; children
    -- that gained a new owned_by parent and already existed get their ACL recomputed
    -- (new ones were created with their account's acl)
    WITH ins AS (
        INSERT INTO crm.edges (edge_type, source_id, target_id, properties, effective_from, source_acl, target_acl)
        SELECT x.edge_type, x.source_id, x.target_id, x.properties,
               CASE WHEN t.temporal THEN now() END, sn.acl, tn.acl
          FROM pg_temp.rc_edges x
          JOIN crm.edge_types t ON t.edge_type = x.edge_type
          JOIN crm.nodes sn ON sn.id = x.source_id
          JOIN crm.nodes tn ON tn.id = x.target_id
         WHERE x.source_id <> x.target_id
           AND NOT EXISTS (SELECT 1 FROM crm.edges e
                            WHERE e.edge_type = x.edge_type AND e.source_id = x.source_id AND e.target_id = x.target_id
                              AND e.archived_at IS NULL AND e.effective_to IS NULL)
        RETURNING edges.source_id, edges.edge_type
    )
    SELECT array_agg(DISTINCT ins.source_id) INTO v_ids
      FROM ins
     WHERE ins.edge_type = 'owned_by'
       AND NOT EXISTS (SELECT 1 FROM pg_temp.rc_stage s WHERE s.node_id = ins.source_id AND s.is_new)
       AND NOT ins.source_id = ANY (coalesce(v_new_channels, '{}'));   -- written with their acl above
    IF v_ids IS NOT NULL THEN
        PERFORM crm_private.recompute_acl(v_ids);
    END IF;
    v_ids := NULL;

    -- ------------------------------------------------------------ current-state claims
    INSERT INTO pg_temp.rc_changes (node_id, assertion_type, claim, record_id, source, account_id, occurred_at, properties,
                                    event_times)
    SELECT DISTINCT ON (s.node_id, a.key) s.node_id, a.key, a.value, s.record_id, s.source, s.account_id,
           coalesce(s.source_time, v_now), s.old_properties, s.event_times
      FROM pg_temp.rc_stage s
     CROSS JOIN LATERAL jsonb_each(s.assertions) AS a
     WHERE s.ok AND s.node_id IS NOT NULL AND s.kind = 'child'
     ORDER BY s.node_id, a.key, s.record_id DESC;
    INSERT INTO pg_temp.rc_changes (node_id, assertion_type, claim, record_id, source, account_id, occurred_at)
    SELECT DISTINCT ON (s.node_id) s.node_id, 'contact_info',
           jsonb_strip_nulls(jsonb_build_object('email', n.properties ->> 'email', 'phone', n.properties ->> 'phone')),
           s.record_id, s.source, s.account_id, coalesce(s.source_time, v_now)
      FROM pg_temp.rc_stage s JOIN crm.nodes n ON n.id = s.node_id
     WHERE s.ok AND s.kind = 'person' AND (n.properties ? 'email' OR n.properties ? 'phone')
     ORDER BY s.node_id, s.record_id DESC;

    ANALYZE pg_temp.rc_changes;
    UPDATE pg_temp.rc_changes c SET old_id = a.id, old_claim = a.claim
      FROM crm.assertions a
     WHERE a.subject_node_id = c.node_id AND a.assertion_type = c.assertion_type
       AND a.assertion_key = '' AND a.superseded_at IS NULL;
    DELETE FROM pg_temp.rc_changes c WHERE c.old_claim = c.claim;

    UPDATE pg_temp.rc_changes c
       SET event_type = CASE c.assertion_type
             WHEN 'deal_stage' THEN
                 CASE WHEN c.old_id IS NULL THEN 'opportunity_created'
                      WHEN c.old_claim ->> 'stage' IS DISTINCT FROM c.claim ->> 'stage' THEN 'stage_change' END
             WHEN 'ticket_status' THEN
                 CASE WHEN c.old_id IS NULL THEN 'ticket_opened'
                      WHEN c.old_claim ->> 'status' = c.claim ->> 'status' THEN NULL
                      WHEN c.claim ->> 'status' IN ('solved', 'closed')
                           AND coalesce(c.old_claim ->> 'status', '') NOT IN ('solved', 'closed') THEN 'ticket_solved'
                      ELSE 'ticket_status_changed' END
             WHEN 'contract_status' THEN
                 CASE WHEN c.old_claim ->> 'status' IS NOT DISTINCT FROM c.claim ->> 'status' THEN NULL
                      WHEN c.claim ->> 'status' = 'active' THEN 'contract_signed'
                      WHEN c.claim ->> 'status' = 'expired' THEN 'contract_expired'
                      WHEN c.claim ->> 'status' = 'terminated' THEN 'contract_terminated' END
             WHEN 'invoice_status' THEN
                 CASE WHEN c.old_claim ->> 'status' IS NOT DISTINCT FROM c.claim ->> 'status' THEN NULL
                      WHEN c.claim ->> 'status' = 'paid' THEN 'invoice_paid'
                      WHEN c.claim ->> 'status' = 'void' THEN 'invoice_voided'
                      WHEN c.claim ->> 'status' = 'open' THEN 'invoice_issued' END
           END;
    UPDATE pg_temp.rc_changes c SET event_id = crm_private.new_id() WHERE c.event_type IS NOT NULL;

    UPDATE pg_temp.rc_changes c SET requester_id = f.source_id
      FROM crm.edges f
     WHERE c.assertion_type = 'ticket_status' AND f.target_id = c.node_id AND f.edge_type = 'filed'
       AND f.archived_at IS NULL AND f.effective_to IS NULL;

    TRUNCATE pg_temp.rc_events;
    -- an event is dated when it happened at the source, where the record says so (the
    -- mapping's event_times: opportunity_created at CreatedDate, ticket_opened at created_at,
    -- invoice_issued/paid/voided at Stripe's status_transitions or created, contract_signed
    -- at signed_at or effective_date, contract_expired after end_date); else at the record's
    -- source time (its cursor field: LastModifiedDate, updated_at, created)
    INSERT INTO pg_temp.rc_events (id, event_type, occurred_at, summary, properties, external_source, external_id, parts, roles)
    SELECT c.event_id, c.event_type, coalesce((c.event_times ->> c.event_type)::timestamptz, c.occurred_at),
           format('%s: %s', n.label, coalesce(c.claim ->> 'stage', c.claim ->> 'status')),
           jsonb_strip_nulls(CASE WHEN c.assertion_type = 'deal_stage'
                THEN jsonb_build_object('from_stage', c.old_claim ->> 'stage', 'to_stage', c.claim ->> 'stage', 'source', c.source)
                ELSE jsonb_build_object('from_status', c.old_claim ->> 'status', 'to_status', c.claim ->> 'status',
                                        'priority', c.claim ->> 'priority', 'annual_value', c.claim -> 'annual_value',
                                        'amount_remaining', c.claim -> 'amount_remaining', 'source', c.source) END),
           c.source, format('%s/%s/%s', p_object, c.record_id, c.event_type),
           ARRAY[c.node_id, c.account_id, c.requester_id], ARRAY['subject', 'account', 'requester']
      FROM pg_temp.rc_changes c JOIN crm.nodes n ON n.id = c.node_id
     WHERE c.event_type IS NOT NULL;
    -- contract renewed: end_date moved later
    INSERT INTO pg_temp.rc_events (event_type, occurred_at, summary, properties, external_source, external_id, parts, roles)
    SELECT 'contract_renewed', coalesce(s.source_time, v_now), format('%s renewed until %s', s.label, s.properties ->> 'end_date'),
           jsonb_build_object('from_end_date', s.old_properties ->> 'end_date', 'to_end_date', s.properties ->> 'end_date'),
           s.source, format('%s/%s/contract_renewed', p_object, s.record_id),
           ARRAY[s.node_id, s.account_id], ARRAY['subject', 'account']
      FROM pg_temp.rc_stage s
     WHERE s.ok AND s.node_type = 'contract' AND NOT s.is_new
       AND pg_input_is_valid(s.old_properties ->> 'end_date', 'date')
       AND (s.properties ->> 'end_date')::date > (s.old_properties ->> 'end_date')::date;
    -- activities: one event per source record (meetings, calls, emails, notes, comments)
    UPDATE pg_temp.rc_stage s SET node_id = e.id
      FROM crm.events e
     WHERE s.kind = 'activity' AND s.ok
       AND ARRAY[e.external_source, e.external_id] = ARRAY[s.source, s.external_id] AND e.external_id IS NOT NULL;
    INSERT INTO pg_temp.rc_events (event_type, occurred_at, summary, properties, external_source, external_id,
                                   parts, roles, body, artifact_type)
    SELECT s.activity ->> 'event_type', (s.activity ->> 'occurred_at')::timestamptz, s.activity ->> 'summary',
           coalesce(s.activity -> 'properties', '{}'), s.source, s.external_id,
           ARRAY[s.account_id] || coalesce(p.ids, '{}'), ARRAY['account'] || coalesce(p.roles, '{}'),
           s.body, s.artifact_type
      FROM pg_temp.rc_stage s
      LEFT JOIN (   -- one join for the whole batch, not a lookup per record (plans stay linear)
          SELECT s2.record_id, array_agg(ns.node_id ORDER BY r.key) AS ids, array_agg(r.key ORDER BY r.key) AS roles
            FROM pg_temp.rc_stage s2
           CROSS JOIN LATERAL jsonb_each(s2.refs) AS r
            JOIN crm.node_sources ns ON ns.source = r.value ->> 0 AND ns.object = r.value ->> 1
                                    AND ns.external_id = r.value ->> 2
           WHERE s2.ok AND s2.kind = 'activity' AND s2.node_id IS NULL
           GROUP BY s2.record_id
      ) p ON p.record_id = s.record_id
     WHERE s.ok AND s.kind = 'activity' AND s.node_id IS NULL;

    ANALYZE pg_temp.rc_events;
    PERFORM crm_private.rc_write_events();
    UPDATE pg_temp.rc_stage s SET node_id = e.id
      FROM pg_temp.rc_events e
     WHERE s.kind = 'activity' AND s.ok AND s.node_id IS NULL
       AND e.external_source = s.source AND e.external_id = s.external_id;

    -- supersede changed claims (history chain), then record the new ones
    UPDATE crm.assertions a SET superseded_at = v_now, superseded_by = c.new_id
      FROM pg_temp.rc_changes c WHERE a.id = c.old_id;
    -- bulk: acl copied from the subject, sensitive from the type (claims were checked above)
    INSERT INTO crm.assertions (id, assertion_type, subject_node_id, assertion_key, claim, asserted_at, source_event_id,
                                acl, sensitive)
    SELECT c.new_id, c.assertion_type, c.node_id, '', c.claim, v_now,
           (SELECT n.id FROM pg_temp.rc_new_events n WHERE n.id = c.event_id),
           sn.acl, t.sensitive
      FROM pg_temp.rc_changes c
      JOIN crm.nodes sn ON sn.id = c.node_id
      JOIN crm.assertion_types t ON t.assertion_type = c.assertion_type;

    -- ------------------------------------------------------------ deleted at source -> archived
    WITH arch AS (
        UPDATE crm.nodes n SET archived_at = v_now, attrs = n.attrs || '{"archived_by": "source"}', updated_at = now()
          FROM (SELECT DISTINCT s.node_id FROM pg_temp.rc_stage s
                 WHERE s.ok AND s.deleted AND s.node_id IS NOT NULL AND s.kind IN ('account', 'person', 'child')) d
         WHERE n.id = d.node_id AND n.archived_at IS NULL
        RETURNING n.id
    )
    SELECT array_agg(arch.id) INTO v_ids FROM arch;
    IF v_ids IS NOT NULL THEN
        TRUNCATE pg_temp.rc_events;
        INSERT INTO pg_temp.rc_events (event_type, occurred_at, summary, properties, external_source, external_id, parts, roles)
        SELECT 'node_archived', v_now, format('Archived %s %s (deleted at source)', n.node_type, n.label),
               jsonb_build_object('reason', format('deleted at source (%s %s)', s.source, s.object)),
               s.source, format('archived/%s/%s', s.object, s.record_id), ARRAY[n.id], ARRAY['subject']
          FROM (SELECT DISTINCT ON (s.node_id) s.* FROM pg_temp.rc_stage s
                 WHERE s.node_id = ANY (v_ids) ORDER BY s.node_id, s.record_id DESC) s
          JOIN crm.nodes n ON n.id = s.node_id;
        PERFORM crm_private.rc_write_events();
    END IF;

    -- ------------------------------------------------------------ source links and raw status
    INSERT INTO crm.node_sources AS ns (source, object, external_id, node_id, source_updated_at, last_record_id)
    SELECT s.source, s.object, s.external_id, s.node_id, s.source_time, s.record_id
      FROM pg_temp.rc_stage s
     WHERE s.ok AND s.node_id IS NOT NULL AND s.kind IN ('account', 'user', 'person', 'child', 'alias')
    ON CONFLICT (source, object, external_id) DO UPDATE
       SET node_id = EXCLUDED.node_id, last_seen = now(),
           source_updated_at = greatest(ns.source_updated_at, EXCLUDED.source_updated_at),
           last_record_id = EXCLUDED.last_record_id;

    UPDATE crm_raw.records r
       SET status = CASE WHEN s.reject_reason IS NOT NULL THEN 'rejected'
                         WHEN s.orphan_reason IS NOT NULL THEN 'orphan' ELSE 'applied' END,
           reason = coalesce(s.reject_reason, s.orphan_reason, s.skip_reason),
           applied_at = CASE WHEN s.reject_reason IS NULL AND s.orphan_reason IS NULL THEN v_now END,
           node_id = s.node_id,
           account_id = CASE WHEN s.kind = 'account' THEN s.node_id ELSE s.account_id END,
           match = s.match
      FROM pg_temp.rc_stage s
     WHERE r.id = s.record_id;
    UPDATE crm_raw.records r
       SET status = 'applied', reason = 'superseded by a newer version in the same batch', applied_at = v_now
     WHERE r.source = p_source AND r.object = p_object AND r.status = 'pending'
       AND EXISTS (SELECT 1 FROM pg_temp.rc_stage s WHERE s.external_id = r.external_id);

    SELECT count(*) FILTER (WHERE s.ok)::integer,
           count(*) FILTER (WHERE s.reject_reason IS NOT NULL)::integer,
           count(*) FILTER (WHERE s.reject_reason IS NULL AND s.skip_reason IS NULL AND s.orphan_reason IS NOT NULL)::integer,
           count(*) FILTER (WHERE s.reject_reason IS NULL AND s.skip_reason IS NOT NULL)::integer
      INTO applied, rejected, orphans, skipped
      FROM pg_temp.rc_stage s;
    RETURN NEXT;
END;
$$;

COMMENT ON FUNCTION crm_private.rc_apply(text, text) IS
    'Reconciliation: applies the staged records (rc_stage) of one source object to the graph set-based — accounts resolved (CRM id, reference, domain) or orphaned, nodes upserted, edges, claims (supersessions), events, source links, raw statuses. Returns applied/rejected/orphans/skipped.';
