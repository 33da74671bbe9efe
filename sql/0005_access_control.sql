-- 0005 access control (DESIGN §6, seed 000 "Permissions", seed 001 §7, seed 002 ownership):
-- roles, login mapping, access grants, and the denormalised ACL columns that the
-- row-level-security policies in sql/rls/ compare with the actor's principals.
-- Sections: roles, tables, columns, indexes, registry data, backfill.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- roles (cluster-wide, NOLOGIN)
DO $$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['crm_reader', 'crm_writer', 'crm_service', 'crm_connector', 'crm_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = v_role) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', v_role);
        END IF;
    END LOOP;
END
$$;
COMMENT ON ROLE crm_reader IS 'crm360: read the CRM views and tables (analysts, BI tools); rows filtered by the mapped user''s access';
COMMENT ON ROLE crm_writer IS 'crm360: read and write as the mapped user (services writing as a user)';
COMMENT ON ROLE crm_service IS 'crm360: a pooled service that may act for a user, one transaction at a time (crm.act_as)';
COMMENT ON ROLE crm_connector IS 'crm360: connectors: write raw rows and run reconciliation';
COMMENT ON ROLE crm_admin IS 'crm360: sees and writes every row through the policies (not BYPASSRLS)';
GRANT crm_reader TO crm_writer;
GRANT crm_writer TO crm_service;
GRANT crm_writer TO crm_admin;
GRANT crm_reader TO crm_connector;
-- The migration owner runs the SECURITY DEFINER functions; under FORCE RLS it must be admin.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT crm_admin TO %I', current_user);
    END IF;
END
$$;

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm.logins (
    login_role name PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES crm.nodes (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT current_user
);
COMMENT ON TABLE crm.logins IS 'Maps a PostgreSQL login role to a CRM user node: a person connecting with psql or a BI tool as that role is that user (crm.current_actor()). Managed with crm.map_login / crm.unmap_login.';
CREATE INDEX IF NOT EXISTS logins_user ON crm.logins (user_id);

CREATE TABLE IF NOT EXISTS crm.access_grants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    grantee       text NOT NULL,
    grant_type    text NOT NULL CHECK (grant_type IN ('team', 'user')),
    grantee_id    uuid REFERENCES crm.nodes (id),
    resource_type text NOT NULL CHECK (resource_type IN ('node', 'assertion', 'edge', 'event')),
    access_level  text NOT NULL CHECK (access_level IN ('read', 'write')),
    scope         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(scope) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL DEFAULT current_user,
    revoked_at    timestamptz
);
COMMENT ON TABLE crm.access_grants IS 'Broader access for a team or user (seed 001 §7.2): resource_type node|assertion|edge|event, access_level read|write (write implies read), and a scope in which EVERY key must match: node_type, teams (team names: the node is tagged with one in attrs.teams or restricted to one), assertion_type, edge_type, event_type. Revoke by setting revoked_at (crm.revoke_grant).';
COMMENT ON COLUMN crm.access_grants.grantee IS 'Team name (grant_type team) or user email/name (grant_type user), as in seed 001 §7.2';
COMMENT ON COLUMN crm.access_grants.grantee_id IS 'The team or user node the grantee name resolved to (set by trigger)';
COMMENT ON COLUMN crm.access_grants.scope IS 'All keys must match: {"node_type": "opportunity", "teams": ["sales"]} grants only sales opportunities';
CREATE INDEX IF NOT EXISTS access_grants_grantee ON crm.access_grants (grantee_id) WHERE revoked_at IS NULL;

-- ---------------------------------------------------------------- denormalised ACL columns
ALTER TABLE crm.edges ADD COLUMN IF NOT EXISTS source_acl uuid[];
ALTER TABLE crm.edges ADD COLUMN IF NOT EXISTS target_acl uuid[];
COMMENT ON COLUMN crm.edges.source_acl IS 'Copy of the source node''s acl (maintained by triggers); an edge is visible only when both ends are';
COMMENT ON COLUMN crm.edges.target_acl IS 'Copy of the target node''s acl (maintained by triggers)';

ALTER TABLE crm.events ADD COLUMN IF NOT EXISTS acl uuid[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN crm.events.acl IS 'Union of the acl of the access-checked participants (maintained by triggers): an event is visible through a visible access-checked participant; users, teams and pipelines taking part grant nothing. Empty = admins only.';

ALTER TABLE crm.events ADD COLUMN IF NOT EXISTS recorded_by uuid REFERENCES crm.nodes (id);
COMMENT ON COLUMN crm.events.recorded_by IS 'The CRM user who recorded the event (crm.current_actor() at insert; NULL for connectors and admins without identity). The recorder may add participants to an event that is not yet visible to them.';
CREATE INDEX IF NOT EXISTS events_recorded_by ON crm.events (recorded_by) WHERE recorded_by IS NOT NULL;

ALTER TABLE crm.event_participants ADD COLUMN IF NOT EXISTS acl uuid[];
ALTER TABLE crm.event_participants ADD COLUMN IF NOT EXISTS event_acl uuid[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN crm.event_participants.acl IS 'Copy of the participant node''s acl (maintained by triggers)';
COMMENT ON COLUMN crm.event_participants.event_acl IS 'Copy of the event''s acl: a participant row is visible when both its node and its event are';

ALTER TABLE crm.assertions ADD COLUMN IF NOT EXISTS acl uuid[];
ALTER TABLE crm.assertions ADD COLUMN IF NOT EXISTS sensitive boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN crm.assertions.acl IS 'Copy of the subject node''s acl (maintained by triggers); ''{}'' for edge subjects, which are checked through the edge';
COMMENT ON COLUMN crm.assertions.sensitive IS 'Copy of assertion_types.sensitive: reading needs a grant for the assertion type';

ALTER TABLE crm.artifacts ADD COLUMN IF NOT EXISTS acl uuid[];
COMMENT ON COLUMN crm.artifacts.acl IS 'Copy of the acl of the node (or event) the artifact is attached to (maintained by triggers)';

-- ---------------------------------------------------------------- indexes
CREATE INDEX IF NOT EXISTS events_acl ON crm.events USING gin (acl);
CREATE INDEX IF NOT EXISTS assertions_acl ON crm.assertions USING gin (acl);

-- ---------------------------------------------------------------- registry data
INSERT INTO crm.event_types (event_type, description, event_group, key_properties) VALUES
 ('access_restricted',   'A node was restricted to a team or user', 'access', '{principal,principal_type}'),
 ('access_unrestricted', 'A restriction of a node was removed', 'access', '{principal,principal_type}'),
 ('membership_added',    'A user or team joined a team', 'access', '{member,team}'),
 ('membership_removed',  'A user or team left a team', 'access', '{member,team}'),
 ('grant_created',       'An access grant was created', 'access', '{grant_id,grantee,resource_type,access_level,scope}'),
 ('grant_revoked',       'An access grant was revoked', 'access', '{grant_id,grantee}'),
 ('login_mapped',        'A PostgreSQL login role was mapped to a CRM user', 'access', '{login_role}'),
 ('login_unmapped',      'A login mapping was removed', 'access', '{login_role}'),
 ('owner_claimed',       'A user claimed a customer/account/deal (seed 002 Owner claimed)', 'crm', '{owner}'),
 ('owner_released',      'A user released a claimed customer/account/deal (seed 002 Owner released)', 'crm', '{owner}'),
 ('node_purged',         'Legal erasure: the node''s personal data was removed (tombstone, no personal data)', 'system', '{node_type,reason}')
ON CONFLICT (event_type) DO NOTHING;

INSERT INTO crm.error_codes (sqlstate, name, meaning, hint) VALUES
 ('CR030', 'no_actor', 'The operation needs a CRM identity and the session has none', 'map the login role with crm.map_login, or call crm.act_as(user) from a crm_service role'),
 ('CR031', 'not_claimable', 'The node cannot be claimed (type not claimable, or claimed by someone else)', 'release it first, or ask an admin')
ON CONFLICT (sqlstate) DO NOTHING;

UPDATE crm.assertion_types SET sensitive = true WHERE assertion_type = 'deal_value';
INSERT INTO crm.assertion_types (assertion_type, description, subject_types, claim_required, claim_properties, claim_rule, sensitive) VALUES
 ('negotiation_stance', 'Negotiation position on a deal (walk-away price, concessions) — sensitive', '{opportunity}', '{stance}',
   '{"stance":"string","walk_away_amount":"number","notes":"string"}', NULL, true)
ON CONFLICT (assertion_type) DO NOTHING;

-- ---------------------------------------------------------------- backfill (existing rows)
UPDATE crm.assertions a SET sensitive = t.sensitive
  FROM crm.assertion_types t WHERE t.assertion_type = a.assertion_type AND a.sensitive <> t.sensitive;
-- ACL copies for rows that existed before this migration (no-ops on a new database).
UPDATE crm.edges e SET source_acl = s.acl, target_acl = t.acl
  FROM crm.nodes s, crm.nodes t WHERE s.id = e.source_id AND t.id = e.target_id;
UPDATE crm.event_participants p SET acl = n.acl FROM crm.nodes n WHERE n.id = p.node_id;
UPDATE crm.events e SET acl = coalesce((SELECT array_agg(DISTINCT x ORDER BY x)
                                          FROM crm.event_participants p, unnest(p.acl) AS x
                                         WHERE p.event_id = e.id), '{}');
UPDATE crm.event_participants p SET event_acl = e.acl FROM crm.events e WHERE e.id = p.event_id;
UPDATE crm.assertions a SET acl = n.acl FROM crm.nodes n WHERE n.id = a.subject_node_id;
UPDATE crm.assertions a SET acl = '{}' WHERE a.subject_edge_id IS NOT NULL;
UPDATE crm.artifacts a SET acl = n.acl FROM crm.nodes n WHERE n.id = a.node_id;
UPDATE crm.artifacts a SET acl = e.acl FROM crm.events e WHERE e.id = a.event_id AND a.node_id IS NULL;
