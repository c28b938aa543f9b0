-- heat-server's SQLite schema. Times are integer nanoseconds (the engine's clock for stacks,
-- resources, events and snapshots; since the Unix epoch for software configs, deployments
-- and services), so durations round-trip exactly. Structured values are JSON text.

-- Counters handed out under the single writer: `resource` is the last resource record id
-- reserved or used, `event` the last event id assigned.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('resource', 0), ('event', 0);

CREATE TABLE stacks (
    seq              INTEGER PRIMARY KEY,      -- insertion order (creation order)
    id               TEXT NOT NULL UNIQUE,
    project          TEXT NOT NULL,
    name             TEXT NOT NULL,
    user_name        TEXT NOT NULL,
    parent           TEXT,
    action           TEXT NOT NULL,
    status           TEXT NOT NULL,
    status_reason    TEXT NOT NULL,
    description      TEXT NOT NULL,
    template         TEXT NOT NULL,
    files            TEXT NOT NULL,            -- JSON object
    environments     TEXT NOT NULL,            -- JSON array
    parameters       TEXT NOT NULL,            -- JSON object
    previous         TEXT,                     -- JSON definition, during an update
    disable_rollback BOOLEAN NOT NULL,
    timeout_mins     INTEGER NOT NULL,
    tags             TEXT NOT NULL,            -- JSON array, as given (stack_tags is for queries)
    operation        INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    deleted          BOOLEAN NOT NULL,
    deleted_at       INTEGER
);
-- A live stack's name is unique in its project; a soft delete frees it.
CREATE UNIQUE INDEX stacks_live_name ON stacks (project, name) WHERE deleted = FALSE;
CREATE INDEX stacks_project_created ON stacks (project, created_at);
CREATE INDEX stacks_parent ON stacks (parent);

CREATE TABLE stack_tags (
    stack_id TEXT NOT NULL,
    tag      TEXT NOT NULL,
    PRIMARY KEY (stack_id, tag)
) WITHOUT ROWID;
CREATE INDEX stack_tags_tag ON stack_tags (tag, stack_id);

CREATE TABLE resources (
    id                INTEGER PRIMARY KEY,
    stack_id          TEXT NOT NULL,
    name              TEXT NOT NULL,
    resource_type     TEXT NOT NULL,
    physical_id       TEXT,
    action            TEXT NOT NULL,
    status            TEXT NOT NULL,
    status_reason     TEXT NOT NULL,
    properties        TEXT NOT NULL,           -- JSON object
    data              TEXT NOT NULL,           -- JSON object of strings
    metadata          TEXT,                    -- JSON
    idempotency_token TEXT NOT NULL,
    replaces          INTEGER,
    deletion_policy   TEXT NOT NULL,
    requires          TEXT NOT NULL,           -- JSON array of record ids
    target_properties TEXT,                    -- JSON object, during an update
    hook              TEXT,
    operation         INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX resources_stack ON resources (stack_id, id);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,         -- assigned from counters.event: increasing
    stack_id      TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    physical_id   TEXT,
    action        TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX events_stack ON events (stack_id, id);

CREATE TABLE snapshots (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    stack_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    definition    TEXT NOT NULL,               -- JSON definition
    resources     TEXT NOT NULL,               -- JSON object by resource name
    created_at    INTEGER NOT NULL
);
CREATE INDEX snapshots_stack ON snapshots (stack_id, seq);

CREATE TABLE software_configs (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    project      TEXT NOT NULL,
    name         TEXT NOT NULL,
    config_group TEXT NOT NULL,
    config       TEXT NOT NULL,
    inputs       TEXT NOT NULL,                -- JSON
    outputs      TEXT NOT NULL,                -- JSON
    options      TEXT NOT NULL,                -- JSON
    created_at   INTEGER NOT NULL
);
CREATE INDEX software_configs_project ON software_configs (project, created_at, id);

CREATE TABLE software_deployments (
    seq                   INTEGER PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    project               TEXT NOT NULL,
    config_id             TEXT NOT NULL,
    server_id             TEXT NOT NULL,
    input_values          TEXT NOT NULL,       -- JSON
    output_values         TEXT NOT NULL,       -- JSON
    action                TEXT NOT NULL,
    status                TEXT NOT NULL,
    status_reason         TEXT NOT NULL,
    stack_user_project_id TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER
);
CREATE INDEX software_deployments_project ON software_deployments (project, server_id);

CREATE TABLE services (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    host            TEXT NOT NULL,
    binary_name     TEXT NOT NULL,
    topic           TEXT NOT NULL,
    report_interval INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
