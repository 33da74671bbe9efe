-- crm_private.tg_nodes__validate() — BEFORE INSERT OR UPDATE on crm.nodes.
-- Guarantees: the node type is registered (CR010); every required property of the type is
-- present, non-null and non-blank (CR011); label is derived from the properties when not
-- given; external_source/id are trimmed; acl is never taken from the caller (computed
-- here on insert: NULL for types that are not access-checked, else restricted_to plus the
-- claimer — except inside crm360's own ACL maintenance, running as crm_owner, which may
-- insert a child with its account's acl precomputed; maintained by crm_private.recompute_acl
-- after updates, including inheritance through owned_by); updated_at is bumped on every
-- update.
-- For everyone but crm360's own code (current_user crm_owner) and a superuser (the DBA):
-- * non-admins (and admins acting for a user) cannot change restrictions, may only
--   claim/release for themselves, may tag a node only with their own teams (attrs.teams,
--   which team-scoped grants match) and change no other system attribute, and cannot create
--   a node nobody but admins could see (42501);
-- * external keys of registered sources belong to reconciliation (CR033): a node may only be
--   created or re-keyed with external_source internal (crm360_user / crm360_team for users
--   and teams) — nobody can squat the key of a record a connector will deliver later;
-- * created_at and updated_at are the transaction's time (crm360's audit writers rely on it).
CREATE OR REPLACE FUNCTION crm_private.tg_nodes__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_type    crm.node_types%ROWTYPE;
    v_missing text[];
    v_actor   uuid;
    v_key     text;
    v_maint   boolean;
    -- crm360's own code (SECURITY DEFINER, as crm_owner) or the DBA as a superuser
    v_crm360  boolean := current_user = 'crm_owner' OR pg_catalog.current_setting('is_superuser') = 'on';
BEGIN
    -- Per-row hot path: no wrapper-function calls, at most one query (the registry row).
    v_maint := coalesce(current_setting('crm.acl_maintenance', true), '') = 'on'
               AND crm_private.acl_maintenance();
    IF TG_OP = 'UPDATE'
       AND NEW.node_type = OLD.node_type
       AND NEW.properties = OLD.properties
       AND NEW.label IS NOT DISTINCT FROM OLD.label
       AND NEW.restricted_to = OLD.restricted_to
       AND NEW.claimed_by IS NOT DISTINCT FROM OLD.claimed_by
       AND NEW.attrs = OLD.attrs
       AND NEW.external_id IS NOT DISTINCT FROM OLD.external_id
       AND NEW.external_source IS NOT DISTINCT FROM OLD.external_source
       AND NEW.created_at = OLD.created_at THEN
        IF NOT v_maint THEN
            NEW.acl := OLD.acl;
            NEW.updated_at := now();
        END IF;
        RETURN NEW;
    END IF;

    SELECT * INTO v_type FROM crm.node_types t WHERE t.node_type = NEW.node_type;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown node type "%"', NEW.node_type
            USING ERRCODE = 'CR010',
                  HINT = 'registered node types: ' ||
                         (SELECT string_agg(t.node_type, ', ' ORDER BY t.node_type) FROM crm.node_types t);
    END IF;

    FOREACH v_key IN ARRAY v_type.required_properties LOOP
        IF NOT (NEW.properties ? v_key)
           OR jsonb_typeof(NEW.properties -> v_key) = 'null'
           OR (jsonb_typeof(NEW.properties -> v_key) = 'string' AND btrim(NEW.properties ->> v_key) = '') THEN
            v_missing := v_missing || v_key;
        END IF;
    END LOOP;
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'a % node needs the propert% %', NEW.node_type,
                        CASE WHEN cardinality(v_missing) = 1 THEN 'y' ELSE 'ies' END,
                        array_to_string(v_missing, ', ')
            USING ERRCODE = 'CR011',
                  DETAIL = format('required properties of %s: %s', NEW.node_type,
                                  array_to_string(v_type.required_properties, ', ')),
                  HINT = format('add %s to properties (non-blank)', array_to_string(v_missing, ', '));
    END IF;

    IF NEW.label IS NULL OR btrim(NEW.label) = '' THEN
        NEW.label := crm_private.derive_label(NULL, NEW.properties);
        IF NEW.label IS NULL THEN
            RAISE EXCEPTION 'a % node needs a label', NEW.node_type
                USING ERRCODE = 'CR011', HINT = 'pass label, or a name/title/subject property';
        END IF;
    END IF;

    NEW.external_id := nullif(btrim(NEW.external_id), '');
    NEW.external_source := nullif(btrim(NEW.external_source), '');
    IF cardinality(NEW.restricted_to) > 0 THEN
        NEW.restricted_to := crm_private.acl_norm(NEW.restricted_to);
    ELSE
        NEW.restricted_to := '{}';
    END IF;

    IF NOT v_crm360 THEN
        -- source keys belong to reconciliation (no squatting a record a connector will deliver)
        IF NEW.external_source IS NOT NULL
           AND (TG_OP = 'INSERT' OR NEW.external_source IS DISTINCT FROM OLD.external_source
                OR NEW.external_id IS DISTINCT FROM OLD.external_id)
           AND NOT (NEW.external_source = 'internal'
                    OR (NEW.external_source = 'crm360_user' AND NEW.node_type = 'user')
                    OR (NEW.external_source = 'crm360_team' AND NEW.node_type = 'team')) THEN
            RAISE EXCEPTION 'external keys of source "%" belong to reconciliation', NEW.external_source
                USING ERRCODE = 'CR033',
                      HINT = 'create the node without external_source/external_id (or with external_source internal); ingest the source record through crm_raw and crm.reconcile() instead';
        END IF;
        IF TG_OP = 'INSERT' THEN
            NEW.created_at := now();
            NEW.updated_at := now();
        ELSE
            NEW.created_at := OLD.created_at;
        END IF;
    END IF;

    -- Access columns (DESIGN §6). Only admins restrict/unrestrict (that can widen visibility);
    -- members may only claim an unclaimed node for themselves or release their own claim, and
    -- never change the system attributes (team tags, which grants match).
    IF NOT v_maint AND NOT v_crm360 AND NOT crm_private.actor_is_admin() THEN
        v_actor := crm.current_actor();
        IF v_actor IS NULL THEN
            RAISE EXCEPTION 'writing nodes needs a CRM identity; % has none', current_user
                USING ERRCODE = 'CR030',
                      HINT = 'map the login with crm.map_login(role, user), or call crm.act_as(user) from a crm_service role';
        END IF;
        IF NEW.attrs IS DISTINCT FROM (CASE WHEN TG_OP = 'INSERT' THEN '{}'::jsonb ELSE OLD.attrs END) THEN
            -- system attributes are crm360's; the one a member may set is the team tags
            -- (attrs.teams, which team-scoped grants match) — and only with their own teams
            IF (NEW.attrs - 'teams') IS DISTINCT FROM (CASE WHEN TG_OP = 'INSERT' THEN '{}'::jsonb ELSE OLD.attrs - 'teams' END) THEN
                RAISE EXCEPTION 'only admins and crm360 set the system attributes (attrs) of a node'
                    USING ERRCODE = '42501', HINT = 'put your data in properties';
            END IF;
            IF NOT crm_private.tags_only_own_teams(NEW.attrs, crm_private.actor_principals()) THEN
                RAISE EXCEPTION 'you may only tag a node with your own teams'
                    USING ERRCODE = '42501', HINT = 'attrs.teams: names of teams you are a member of (an admin tags for other teams)';
            END IF;
        END IF;
        IF TG_OP = 'INSERT' THEN
            IF NOT (NEW.restricted_to <@ crm_private.actor_principals()) THEN
                RAISE EXCEPTION 'you may only restrict a new node to yourself or your own teams'
                    USING ERRCODE = '42501', HINT = 'ask an admin to restrict it (crm.restrict_access_to_team)';
            END IF;
            IF v_type.claimable AND NEW.claimed_by IS NULL THEN
                NEW.claimed_by := v_actor;   -- what a member creates, they own (seed 002)
            ELSIF NEW.claimed_by IS DISTINCT FROM v_actor AND NEW.claimed_by IS NOT NULL THEN
                RAISE EXCEPTION 'you may only claim a node for yourself' USING ERRCODE = '42501';
            END IF;
            IF v_type.access_checked AND cardinality(NEW.restricted_to) = 0 AND NEW.claimed_by IS NULL THEN
                RAISE EXCEPTION 'a new % would be visible to nobody but admins', NEW.node_type
                    USING ERRCODE = '42501',
                          HINT = 'restrict it to one of your teams (restricted_to), or create it through a function that links it to an account';
            END IF;
        ELSE
            IF NEW.restricted_to IS DISTINCT FROM OLD.restricted_to THEN
                RAISE EXCEPTION 'only admins change the restrictions of a node'
                    USING ERRCODE = '42501', HINT = 'ask an admin (crm.restrict_access_to_team / unrestrict_access_from_team)';
            END IF;
            IF NEW.claimed_by IS DISTINCT FROM OLD.claimed_by
               AND NOT ((OLD.claimed_by IS NULL AND NEW.claimed_by = v_actor)
                        OR (OLD.claimed_by = v_actor AND NEW.claimed_by IS NULL)) THEN
                RAISE EXCEPTION 'you may only claim an unclaimed node for yourself or release your own claim'
                    USING ERRCODE = '42501', HINT = 'use crm.claim(node) / crm.release(node)';
            END IF;
        END IF;
    END IF;
    IF NEW.claimed_by IS NOT NULL AND NOT v_type.claimable THEN
        RAISE EXCEPTION '% nodes cannot be claimed', NEW.node_type USING ERRCODE = 'CR031';
    END IF;

    -- Effective ACL: computed here on insert (no owned_by parents exist yet); on update it is
    -- recomputed set-based by crm_private.recompute_acl (AFTER trigger) and only that
    -- maintenance may write it — anything else a caller writes into acl is ignored.
    IF TG_OP = 'INSERT' AND v_type.access_checked AND NEW.acl IS NOT NULL AND v_maint THEN
        -- precomputed by crm360's own maintenance (reconciliation inserting a child with its
        -- account's acl, owned_by edge following in the same transaction): trusted, normalised
        NEW.acl := crm_private.acl_norm(NEW.acl);
    ELSIF TG_OP = 'INSERT' THEN
        NEW.acl := CASE WHEN NOT v_type.access_checked THEN NULL
                        WHEN NEW.claimed_by IS NULL THEN NEW.restricted_to
                        ELSE crm_private.acl_norm(NEW.restricted_to, NEW.claimed_by) END;
    ELSIF NOT v_maint THEN
        NEW.acl := OLD.acl;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_nodes__validate() IS
    'Trigger: validates node type and required properties (CR010, CR011), derives label, computes acl, bumps updated_at.';

-- skipped (WHEN) only for crm360's own statements (current_user crm_owner) in rc_apply's bulk
-- mode, which does this work set-based; every SECURITY DEFINER function pins crm.bulk_apply off,
-- so no caller's setting reaches crm_owner's code, and a caller's own statements never skip it
CREATE OR REPLACE TRIGGER tg_nodes__validate
    BEFORE INSERT OR UPDATE ON crm.nodes
    FOR EACH ROW
    WHEN (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_nodes__validate();
