-- 0002 type registry: the vocabularies of seed 001 §2 (and seed 000 / DESIGN §5) as data.
-- Every node, edge, assertion and event type used anywhere must be registered here; the
-- core tables validate against these rows on write. Sections: tables, then data.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm.node_types (
    node_type           text PRIMARY KEY CHECK (node_type ~ '^[a-z][a-z0-9_]*$'),
    description         text NOT NULL,
    required_properties text[] NOT NULL DEFAULT '{}',
    optional_properties text[] NOT NULL DEFAULT '{}',
    access_checked      boolean NOT NULL DEFAULT false,
    code_prefix         text UNIQUE CHECK (code_prefix ~ '^[A-Z]{2,5}$'),
    claimable           boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE crm.node_types IS 'Registry of node types (seed 001 §2.1): required/optional properties, whether nodes of the type are access-checked (row-level security applies), the code prefix used by generate_crm_code, whether members can claim them.';
COMMENT ON COLUMN crm.node_types.required_properties IS 'Keys that must be present in nodes.properties with a non-null, non-blank value (checked on every insert/update)';
COMMENT ON COLUMN crm.node_types.optional_properties IS 'Documented optional keys; other keys are allowed too';
COMMENT ON COLUMN crm.node_types.access_checked IS 'true: nodes of this type are visible only through restrictions/inheritance/grants (DESIGN §6); false: visible to every CRM role';
COMMENT ON COLUMN crm.node_types.code_prefix IS 'Prefix of the human-readable code {PREFIX}-{YYMM}-{SEQ} (seed 001 §3)';
COMMENT ON COLUMN crm.node_types.claimable IS 'true: nodes carry an owner (claimed_by) that members may claim or release (seed 002 ownership scoping)';

CREATE TABLE IF NOT EXISTS crm.edge_types (
    edge_type    text PRIMARY KEY CHECK (edge_type ~ '^[a-z][a-z0-9_]*$'),
    description  text NOT NULL,
    source_types text[],
    target_types text[],
    temporal     boolean NOT NULL DEFAULT false,
    properties   text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE crm.edge_types IS 'Registry of edge types (seed 001 §2.2) with the node types allowed at each end.';
COMMENT ON COLUMN crm.edge_types.source_types IS 'Allowed node types of edges.source_id; NULL = any node type';
COMMENT ON COLUMN crm.edge_types.target_types IS 'Allowed node types of edges.target_id; NULL = any node type';
COMMENT ON COLUMN crm.edge_types.temporal IS 'true: the edge carries effective_from/effective_to; ending it sets effective_to, never deletes (seed 001 §2.2)';
COMMENT ON COLUMN crm.edge_types.properties IS 'Documented edge properties';

CREATE TABLE IF NOT EXISTS crm.assertion_types (
    assertion_type   text PRIMARY KEY CHECK (assertion_type ~ '^[a-z][a-z0-9_]*$'),
    description      text NOT NULL,
    subject_types    text[],
    subject_is_edge  boolean NOT NULL DEFAULT false,
    claim_required   text[] NOT NULL DEFAULT '{}',
    claim_properties jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(claim_properties) = 'object'),
    claim_rule       jsonpath,
    sensitive        boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE crm.assertion_types IS 'Registry of assertion types (seed 001 §2.3): time-varying claims about a node (or edge), with the claim shape validated on write.';
COMMENT ON COLUMN crm.assertion_types.subject_types IS 'Allowed node types of the subject; NULL = any';
COMMENT ON COLUMN crm.assertion_types.subject_is_edge IS 'true: the subject is an edge (subject_edge_id), otherwise a node';
COMMENT ON COLUMN crm.assertion_types.claim_required IS 'Claim keys that must be present and non-null';
COMMENT ON COLUMN crm.assertion_types.claim_properties IS 'Claim key -> JSON type (string, number, boolean, object, array, date, any); a present key must have that type or be null';
COMMENT ON COLUMN crm.assertion_types.claim_rule IS 'Optional jsonpath predicate the claim must satisfy (ranges, enumerations)';
COMMENT ON COLUMN crm.assertion_types.sensitive IS 'true: reading the claim needs an explicit grant for this assertion type (seed 001 §7.1 "role-based for sensitive data")';

CREATE TABLE IF NOT EXISTS crm.event_types (
    event_type     text PRIMARY KEY CHECK (event_type ~ '^[a-z][a-z0-9_]*$'),
    description    text NOT NULL,
    event_group    text NOT NULL DEFAULT 'crm',
    key_properties text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE crm.event_types IS 'Registry of event types (seed 001 §2.4, seed 002 activity log); events of an unregistered type are refused.';
COMMENT ON COLUMN crm.event_types.event_group IS 'Timeline group: crm, support, billing, contracts, access, system';
COMMENT ON COLUMN crm.event_types.key_properties IS 'Documented keys of events.properties for this type';

CREATE TABLE IF NOT EXISTS crm.error_codes (
    sqlstate    text PRIMARY KEY CHECK (sqlstate ~ '^[0-9A-Z]{5}$'),
    name        text NOT NULL UNIQUE,
    meaning     text NOT NULL,
    hint        text
);
COMMENT ON TABLE crm.error_codes IS 'The SQLSTATEs crm360 raises (its own class CR plus the standard ones it uses), what each means and what to do.';

-- ---------------------------------------------------------------- data
INSERT INTO crm.node_types (node_type, description, required_properties, optional_properties, access_checked, code_prefix, claimable) VALUES
 ('person',      'An individual: contact, lead, customer (seed 002: a customer is a person)', '{first_name,last_name}', '{email,phone,address,title,source}', true, 'CON', true),
 ('org',         'A company, agency, vendor or client account (the canonical Account)', '{name}', '{industry,website,domain,address,phone,country}', true, 'ORG', true),
 ('opportunity', 'A deal, acquisition or sales target', '{name,code}', '{description,estimated_value,region,close_date,currency}', true, 'OPP', true),
 ('pipeline',    'A named sales process with ordered stages', '{name,stages}', '{description,default_stage,code}', false, NULL, false),
 ('territory',   'A geographic or logical grouping', '{name}', '{description}', false, 'TER', false),
 ('campaign',    'A marketing or outreach initiative', '{name,campaign_type}', '{start_date,end_date,budget}', false, 'CMP', false),
 ('ticket',      'A support ticket (Zendesk, Jira Service, ...)', '{subject}', '{description,priority,ticket_type,tags}', true, NULL, false),
 ('contract',    'A contract from the CLM (DocuSign CLM, Ironclad, ...)', '{title}', '{effective_date,end_date,annual_value,currency,auto_renew}', true, NULL, false),
 ('invoice',     'An invoice from billing (Stripe, NetSuite, ...), keyed by its number', '{number}', '{currency,amount_due,amount_paid,amount_remaining,due_date}', true, NULL, false),
 ('team',        'A team of users (SSO-mapped); teams nest', '{name}', '{description}', false, NULL, false),
 ('user',        'A CRM user (an employee who signs in)', '{name}', '{email,login}', false, NULL, false),
 ('channel',     'A contact point of a person: email, phone, LinkedIn, Telegram (seed 002: a contact is a channel)', '{channel_type,value}', '{label,verified}', true, NULL, false)
ON CONFLICT (node_type) DO NOTHING;

INSERT INTO crm.edge_types (edge_type, description, source_types, target_types, temporal, properties) VALUES
 ('employs',           'An organization employs a person', '{org}', '{person}', true, '{title,department,start_date}'),
 ('affiliated_with',   'A person is affiliated with an organization', '{person}', '{org}', true, '{relationship,notes}'),
 ('primary_contact',   'The primary contact of an opportunity', '{opportunity}', '{person}', false, '{role}'),
 ('secondary_contact', 'A secondary contact of an opportunity', '{opportunity}', '{person}', false, '{role,notes}'),
 ('pipeline_member',   'An opportunity runs in a pipeline', '{opportunity}', '{pipeline}', false, '{entered_at}'),
 ('territory_member',  'An opportunity belongs to a territory', '{opportunity}', '{territory}', false, '{}'),
 ('campaign_target',   'A campaign targets a person', '{campaign}', '{person}', false, '{channel,sent_at,responded_at}'),
 ('assigned_to',       'An opportunity is assigned to a person or user (role owner/backup)', '{opportunity}', '{person,user}', true, '{role}'),
 ('targets',           'An opportunity targets any node (typically its account)', '{opportunity}', NULL, false, '{priority,notes}'),
 ('referral',          'A person referred another person', '{person}', '{person}', false, '{context,date}'),
 ('owned_by',          'A child belongs to its account: the one-hop path every child has back to its Account; access is inherited along it', NULL, NULL, false, '{}'),
 ('filed',             'A person filed a ticket', '{person}', '{ticket}', false, '{}'),
 ('has_channel',       'A person has a contact channel', '{person}', '{channel}', false, '{primary}'),
 ('member_of',         'A user (or team) is a member of a team; teams nest', '{user,team}', '{team}', true, '{}'),
 ('merged_into',       'A duplicate node was merged into the kept node', NULL, NULL, false, '{reason}')
ON CONFLICT (edge_type) DO NOTHING;

INSERT INTO crm.assertion_types (assertion_type, description, subject_types, claim_required, claim_properties, claim_rule, sensitive) VALUES
 ('deal_stage', 'The stage of an opportunity in its pipeline', '{opportunity}', '{stage}',
   '{"stage":"string","pipeline":"string","moved_from":"string","reason":"string"}', NULL, false),
 ('deal_value', 'The value of an opportunity', '{opportunity}', '{amount,currency}',
   '{"amount":"number","currency":"string","basis":"string"}',
   '$.amount >= 0 && $.currency like_regex "^[A-Z]{3}$"', true),
 ('sentiment', 'A person''s stance', '{person}', '{stance}',
   '{"stance":"string","confidence":"number","notes":"string"}',
   '!exists($.confidence ? (@ < 0 || @ > 1))', false),
 ('contact_info', 'How to reach a person', '{person}', '{}',
   '{"phone":"string","email":"string","address":"any","preferred_contact":"string"}', NULL, false),
 ('lead_score', 'A scoring model''s score of a person or opportunity', '{person,opportunity}', '{score}',
   '{"score":"number","model":"string","factors":"any"}', NULL, false),
 ('win_probability', 'The probability (0..1) an opportunity is won', '{opportunity}', '{probability}',
   '{"probability":"number","basis":"string"}', '$.probability >= 0 && $.probability <= 1', false),
 ('do_not_contact', 'A person must not be contacted', '{person}', '{reason}',
   '{"reason":"string","set_by":"string","expires":"date"}', NULL, false),
 ('ticket_status', 'The status of a support ticket', '{ticket}', '{status}',
   '{"status":"string","priority":"string","reason":"string"}',
   '$.status like_regex "^(new|open|pending|hold|solved|closed|resolved)$"', false),
 ('invoice_status', 'The status of an invoice', '{invoice}', '{status}',
   '{"status":"string","amount_remaining":"number"}',
   '$.status like_regex "^(draft|open|paid|uncollectible|void)$"', false),
 ('contract_status', 'The status of a contract', '{contract}', '{status}',
   '{"status":"string","annual_value":"number"}',
   '$.status like_regex "^(draft|active|expired|terminated|removed)$"', false)
ON CONFLICT (assertion_type) DO NOTHING;

INSERT INTO crm.event_types (event_type, description, event_group, key_properties) VALUES
 ('email',        'Email sent or received', 'crm', '{subject,direction,body_ref}'),
 ('phone_call',   'Phone call logged', 'crm', '{duration,direction,outcome}'),
 ('meeting',      'In-person or virtual meeting', 'crm', '{location,duration,outcome}'),
 ('note',         'Free-form note', 'crm', '{body,category}'),
 ('offer_sent',   'Formal offer dispatched', 'crm', '{amount,terms,document_ref}'),
 ('stage_change', 'Pipeline stage transition', 'crm', '{from_stage,to_stage,reason}'),
 ('node_archived','A node was archived (soft delete)', 'system', '{reason}'),
 ('node_restored','An archived node was restored', 'system', '{reason}')
ON CONFLICT (event_type) DO NOTHING;

INSERT INTO crm.error_codes (sqlstate, name, meaning, hint) VALUES
 ('CR001', 'unknown_stage', 'The stage is not one of the pipeline''s stages', 'use one of the stage keys listed in the pipeline node''s properties.stages'),
 ('CR002', 'terminal_stage', 'The opportunity is in a terminal stage (closed_won/closed_lost)', 'pass p_reopen => true to reopen it explicitly'),
 ('CR010', 'unknown_type', 'The node/edge/assertion/event type is not registered', 'see crm.node_types, crm.edge_types, crm.assertion_types, crm.event_types'),
 ('CR011', 'missing_property', 'A required property of the node type is missing or blank', 'see crm.node_types.required_properties'),
 ('CR012', 'invalid_endpoint', 'The edge''s source or target node has a type the edge type does not allow', 'see crm.edge_types.source_types / target_types'),
 ('CR013', 'malformed_claim', 'The assertion claim does not have the registered shape', 'see crm.assertion_types.claim_required / claim_properties / claim_rule'),
 ('CR014', 'invalid_subject', 'The assertion subject is of a type the assertion type does not allow', 'see crm.assertion_types.subject_types'),
 ('CR015', 'immutable_row', 'Assertions and events are history: only supersession may change them', 'supersede with crm.supersede_assertion instead of updating'),
 ('CR020', 'archived_node', 'The node is archived', 'restore it with crm.restore_node first'),
 ('CR900', 'migration_modified', 'An applied migration file was edited', 'restore the file and write a new migration'),
 ('CR901', 'no_rollback', 'The migration has no rollback file', 'write a forward migration that undoes it'),
 ('22023', 'invalid_parameter_value', 'A function argument is invalid (NULL, wrong shape, out of range)', NULL),
 ('23505', 'unique_violation', 'A live row with the same key already exists', NULL),
 ('40001', 'serialization_failure', 'A concurrent transaction changed the row first', 're-read and retry'),
 ('42501', 'insufficient_privilege', 'Not allowed (hard delete, or outside the caller''s access)', NULL),
 ('P0002', 'no_data_found', 'The referenced node/assertion does not exist (or is not visible)', NULL)
ON CONFLICT (sqlstate) DO NOTHING;
