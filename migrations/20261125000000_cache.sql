-- The cache of the workspace's compute targets and the operations the dashboard follows.
-- Forward-only: a later change gets a new migration.

-- Marks the file as a Compute Studio database, so startup can refuse somebody else's file.
CREATE TABLE app_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
INSERT INTO app_meta (key, value) VALUES ('application', 'compute-studio');

CREATE TABLE computes (
    -- Lower-cased name: Azure treats compute names case-insensitively.
    name_key           TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL,
    arm_id             TEXT NOT NULL,
    kind               TEXT NOT NULL,          -- instance | cluster | inference | attached | other
    compute_type       TEXT NOT NULL,          -- Azure's computeType, kept even when unknown
    state              TEXT NOT NULL,          -- the one state the list shows
    provisioning_state TEXT,
    vm_size            TEXT,
    owner_object_id    TEXT,                   -- assigned user, else creator
    owner_tenant_id    TEXT,
    owner_name         TEXT,
    created_by_name    TEXT,
    created_on         TEXT,                   -- RFC 3339, as Azure gave it
    location           TEXT,
    resource_json      TEXT NOT NULL,          -- the whole ARM resource, unknown fields included
    last_synced_at     TEXT NOT NULL
);
CREATE INDEX computes_by_kind_and_name ON computes (kind, name_key);
CREATE INDEX computes_by_state ON computes (state);

CREATE TABLE operations (
    id              TEXT PRIMARY KEY NOT NULL, -- UUID
    compute_name    TEXT NOT NULL,
    action          TEXT NOT NULL,             -- create | start | stop | restart | delete | update
    -- requested: written before Azure is called; in_progress: Azure accepted it;
    -- succeeded | failed | canceled: ended; unknown: a crash left no answer to follow.
    status          TEXT NOT NULL,
    polling_kind    TEXT,                      -- azure-async-operation | location | resource
    polling_url     TEXT,
    next_poll_at    TEXT,
    started_by      TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    ended_at        TEXT,
    error_code      TEXT,
    error_message   TEXT
);
CREATE INDEX operations_unfinished ON operations (next_poll_at) WHERE ended_at IS NULL;
CREATE INDEX operations_by_compute ON operations (compute_name, started_at);
