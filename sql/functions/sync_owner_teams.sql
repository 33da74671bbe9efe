-- crm_private.sync_owner_teams() — the memberships of the per-owner ownership mapping.
-- Guarantees: with crm_raw.ownership_mapping.mode = 'per_owner', the CRM owner of every live
-- account — the OwnerId of its applied Salesforce record, i.e. that Salesforce user (live, not
-- deactivated); never the assigned_to edge, which writers may change — is a member of the team
-- ingestion restricted that account to (attrs.ingest_team) when ingestion created that team
-- (attrs.ownership_mapping): a rep's login sees the accounts they own right after ingestion.
-- A team an admin created is never joined this way, even when the CRM names an owner after
-- it (a Salesforce user called like an admin team must not become its member and see
-- everything restricted to it). Memberships this function made carry
-- properties.managed_by = 'ownership_mapping'; it ends (effective_to = now(), history kept,
-- logged as membership_removed) exactly those that are no longer wanted — the user owns no
-- live account of that team any more, was deactivated (IsActive false) or archived, or the
-- mode is no longer per_owner — and never touches memberships admins made
-- (crm.add_user_to_team; with per_region, teams are managed by admins). New memberships are
-- logged as membership_added. Set-based: one statement. Called by
-- crm_private.reconcile_run after Salesforce users or accounts were applied; SECURITY DEFINER
-- as crm_owner (member_of edges are admin-only for callers); EXECUTE for nobody else.
-- Returns the number of memberships added and ended.
CREATE OR REPLACE FUNCTION crm_private.sync_owner_teams()
RETURNS TABLE (added integer, ended integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_mode text;
BEGIN
    SELECT m.mode INTO v_mode FROM crm_raw.ownership_mapping m;
    -- the owner comes from the applied Salesforce record itself (OwnerId -> the Salesforce
    -- user), never from the assigned_to edge: writers may re-assign an account they can write,
    -- and that must not make anybody a member of a team
    WITH desired AS (
        SELECT DISTINCT uns.node_id AS user_id, t.id AS team_id
          FROM crm.node_sources ans
          JOIN crm_raw.records r ON r.id = ans.last_record_id
          JOIN crm.nodes a ON a.id = ans.node_id AND a.node_type = 'org' AND a.archived_at IS NULL
          JOIN crm.node_sources uns ON uns.source = 'salesforce' AND uns.object = 'User'
                                   AND uns.external_id = btrim(r.payload ->> 'OwnerId')
          JOIN crm.nodes u ON u.id = uns.node_id AND u.node_type = 'user' AND u.archived_at IS NULL
                          AND coalesce(u.properties ->> 'active', 'true') <> 'false'
          JOIN crm.nodes t ON t.id = (a.attrs ->> 'ingest_team')::uuid AND t.node_type = 'team'
                          AND t.archived_at IS NULL AND t.attrs ->> 'ownership_mapping' = 'per_owner'
         WHERE coalesce(v_mode, 'none') = 'per_owner'
           AND ans.source = 'salesforce' AND ans.object = 'Account'
    ), ending AS (
        UPDATE crm.edges m SET effective_to = now()
         WHERE m.edge_type = 'member_of' AND m.properties ->> 'managed_by' = 'ownership_mapping'
           AND m.archived_at IS NULL AND m.effective_to IS NULL
           AND NOT EXISTS (SELECT 1 FROM desired d WHERE d.user_id = m.source_id AND d.team_id = m.target_id)
        RETURNING 1
    ), adding AS (
        INSERT INTO crm.edges (edge_type, source_id, target_id, properties, effective_from)
        SELECT 'member_of', d.user_id, d.team_id,
               '{"managed_by": "ownership_mapping", "added_by": "crm360 ingestion (owner of the team''s accounts)"}'::jsonb,
               now()
          FROM desired d
         WHERE NOT EXISTS (SELECT 1 FROM crm.edges m
                            WHERE m.edge_type = 'member_of' AND m.source_id = d.user_id AND m.target_id = d.team_id
                              AND m.archived_at IS NULL AND m.effective_to IS NULL)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM adding)::integer, (SELECT count(*) FROM ending)::integer INTO added, ended;
    RETURN NEXT;
END;
$$;

COMMENT ON FUNCTION crm_private.sync_owner_teams() IS
    'Per-owner ownership mapping: makes the CRM owner of each live account a member of the account''s ingestion team and ends the memberships it made that are no longer wanted (history kept). Called by reconciliation.';
