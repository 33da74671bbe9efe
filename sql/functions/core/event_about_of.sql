-- crm_private.event_about_of(p_event_id) — what an event is about, from its participants.
-- Guarantees (the one definition of the rule): about = the participants whose node is
-- access-checked (participant acl not NULL) taking part as 'subject'; when there is none,
-- those taking part as 'account'; when there is none, every access-checked participant.
-- acl = the union of their acl ('{}' when the event is about nothing: admins only). Users,
-- teams and pipelines taking part are never what an event is about.
CREATE OR REPLACE FUNCTION crm_private.event_about_of(p_event_id uuid, OUT about uuid[], OUT acl uuid[])
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ranked AS (
        SELECT p.node_id, p.acl,
               rank() OVER (ORDER BY CASE p.role WHEN 'subject' THEN 1 WHEN 'account' THEN 2 ELSE 3 END) AS rk
          FROM crm.event_participants p
         WHERE p.event_id = p_event_id AND p.acl IS NOT NULL
    )
    SELECT coalesce((SELECT array_agg(DISTINCT r.node_id ORDER BY r.node_id) FROM ranked r WHERE r.rk = 1), '{}'),
           coalesce((SELECT array_agg(DISTINCT x ORDER BY x) FROM ranked r CROSS JOIN LATERAL unnest(r.acl) AS x
                      WHERE r.rk = 1), '{}')
$$;

COMMENT ON FUNCTION crm_private.event_about_of(uuid) IS
    'The nodes an event is about (subject participants, else account, else all access-checked) and the union of their acl.';
