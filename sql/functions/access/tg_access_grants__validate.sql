-- crm_private.tg_access_grants__validate() — BEFORE INSERT OR UPDATE on crm.access_grants.
-- Guarantees: the grantee name resolves to a live team (by name, case-insensitive) or user
-- (by email or name) — 22023 otherwise; scope keys are valid for the resource type
-- (node: node_type, teams; assertion: assertion_type; edge: edge_type; event: event_type)
-- and name registered types/existing teams (22023); a grant never changes what it grants
-- after creation (revoke it and create another; CR015).
CREATE OR REPLACE FUNCTION crm_private.tg_access_grants__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_allowed text[];
    v_bad     text;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.grantee, NEW.grant_type, NEW.resource_type, NEW.access_level, NEW.scope)
           IS DISTINCT FROM (OLD.grantee, OLD.grant_type, OLD.resource_type, OLD.access_level, OLD.scope)
           OR NEW.grantee_id IS DISTINCT FROM OLD.grantee_id
           OR (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at) THEN
            RAISE EXCEPTION 'a grant cannot be changed, only revoked' USING ERRCODE = 'CR015',
                  HINT = 'crm.revoke_grant(id), then insert a new grant';
        END IF;
        RETURN NEW;
    END IF;

    IF NEW.grant_type = 'team' THEN
        SELECT n.id INTO NEW.grantee_id FROM crm.nodes n
         WHERE n.node_type = 'team' AND n.archived_at IS NULL
           AND n.external_source = 'crm360_team' AND n.external_id = lower(btrim(NEW.grantee));
    ELSE
        SELECT n.id INTO NEW.grantee_id FROM crm.nodes n
         WHERE n.node_type = 'user' AND n.archived_at IS NULL
           AND (lower(n.properties ->> 'email') = lower(btrim(NEW.grantee)) OR n.label = btrim(NEW.grantee)
                OR n.id::text = btrim(NEW.grantee))
         ORDER BY (lower(n.properties ->> 'email') = lower(btrim(NEW.grantee))) DESC
         LIMIT 1;
    END IF;
    IF NEW.grantee_id IS NULL THEN
        RAISE EXCEPTION 'grantee % "%" does not exist', NEW.grant_type, NEW.grantee
            USING ERRCODE = '22023', HINT = 'create the team (crm.create_team) or user (crm.create_user) first';
    END IF;

    v_allowed := CASE NEW.resource_type
                   WHEN 'node' THEN ARRAY['node_type', 'teams']
                   WHEN 'assertion' THEN ARRAY['assertion_type']
                   WHEN 'edge' THEN ARRAY['edge_type']
                   WHEN 'event' THEN ARRAY['event_type'] END;
    SELECT string_agg(k, ', ') INTO v_bad FROM jsonb_object_keys(NEW.scope) AS k WHERE NOT (k = ANY (v_allowed));
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'scope key(s) % not valid for a % grant', v_bad, NEW.resource_type
            USING ERRCODE = '22023', HINT = format('valid keys: %s', array_to_string(v_allowed, ', '));
    END IF;
    SELECT string_agg(DISTINCT v, ', ') INTO v_bad
      FROM jsonb_each(NEW.scope) AS s(k, val),
           LATERAL jsonb_array_elements_text(coalesce(crm_private.scope_list(s.val), '[null]')) AS v
     WHERE v IS NULL
        OR (s.k = 'node_type' AND NOT EXISTS (SELECT 1 FROM crm.node_types t WHERE t.node_type = v))
        OR (s.k = 'assertion_type' AND NOT EXISTS (SELECT 1 FROM crm.assertion_types t WHERE t.assertion_type = v))
        OR (s.k = 'edge_type' AND NOT EXISTS (SELECT 1 FROM crm.edge_types t WHERE t.edge_type = v))
        OR (s.k = 'event_type' AND NOT EXISTS (SELECT 1 FROM crm.event_types t WHERE t.event_type = v))
        OR (s.k = 'teams' AND NOT EXISTS (SELECT 1 FROM crm.nodes t
                                           WHERE ARRAY[t.external_source, t.external_id] = ARRAY['crm360_team', lower(v)]
                                             AND t.external_id IS NOT NULL AND t.external_source <> 'internal' AND t.archived_at IS NULL));
    IF v_bad IS NOT NULL OR EXISTS (SELECT 1 FROM jsonb_each(NEW.scope) s WHERE crm_private.scope_list(s.value) IS NULL) THEN
        RAISE EXCEPTION 'grant scope names unknown types or teams: %', coalesce(v_bad, 'non-string value')
            USING ERRCODE = '22023', HINT = 'scope values are registered type names / existing team names (a string or an array of strings)';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_access_grants__validate() IS
    'Trigger: resolves the grantee, validates scope keys and values (22023); grants are immutable except revocation (CR015).';

CREATE OR REPLACE TRIGGER tg_access_grants__validate
    BEFORE INSERT OR UPDATE ON crm.access_grants
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_access_grants__validate();
