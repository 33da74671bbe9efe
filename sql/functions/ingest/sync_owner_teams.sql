-- crm_private.sync_owner_teams() — the memberships of the per-owner ownership mapping.
-- Guarantees: with crm_raw.ownership_mapping.mode = 'per_owner', every team ingestion made
-- for a Salesforce owner (attrs.ownership_mapping = 'per_owner', attrs.salesforce_owner_id =
-- that User Id; crm_private.rc_apply) that restricts at least one live account has exactly
-- one member this function maintains: the user reconciliation linked to that Salesforce User
-- Id (crm.node_sources), while it is live and not deactivated (IsActive false). A rep's login
-- mapped to that user sees the accounts they own right after ingestion. Who the owner is
-- comes only from the team itself and crm.node_sources — never from a raw payload (which a
-- connector can edit) nor from the assigned_to edge (which writers can change), and never by
-- name: a user called like another owner or like an admin's team joins neither. A team an
-- admin created is never joined this way. Memberships this function made carry
-- properties.managed_by = 'ownership_mapping'; it ends (effective_to = now(), history kept,
-- logged as membership_removed) exactly those that are no longer wanted — the team restricts
-- no live account any more or was archived, the user was deactivated or archived, the mode
-- is no longer per_owner — and never touches memberships admins made
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
    WITH desired AS (
        SELECT DISTINCT u.id AS user_id, t.id AS team_id
          FROM crm.nodes t
          JOIN crm.node_sources uns ON uns.source = 'salesforce' AND uns.object = 'User'
                                   AND uns.external_id = t.attrs ->> 'salesforce_owner_id'
          JOIN crm.nodes u ON u.id = uns.node_id AND u.node_type = 'user' AND u.archived_at IS NULL
                          AND coalesce(u.properties ->> 'active', 'true') <> 'false'
         WHERE coalesce(v_mode, 'none') = 'per_owner'
           AND t.node_type = 'team' AND t.archived_at IS NULL
           AND t.attrs ->> 'ownership_mapping' = 'per_owner'
           AND EXISTS (SELECT 1 FROM crm.nodes a
                        WHERE a.node_type = 'org' AND a.archived_at IS NULL
                          AND a.restricted_to @> ARRAY[t.id]
                          AND a.attrs ->> 'ingest_team' = t.id::text)
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
    'Per-owner ownership mapping: makes the Salesforce user each ingestion-made owner team belongs to (attrs.salesforce_owner_id) its member while it owns live accounts and is active, and ends the memberships it made that are no longer wanted (history kept). Called by reconciliation.';
