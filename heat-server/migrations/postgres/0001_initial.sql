-- heat-server's PostgreSQL schema. Times are integer nanoseconds (the engine's clock for
-- stacks, resources, events and snapshots; since the Unix epoch for software configs,
-- deployments and services), so durations round-trip exactly. Structured values are JSON
-- text (kept byte for byte: key order survives). Text that is sorted on uses the "C"
-- collation, so listings order exactly as on SQLite (byte order), whatever the locale.

-- `resource`: the last resource record id reserved or used (reservations are one
-- `UPDATE ... RETURNING` each, safe with several engines).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('resource', 0);

-- Event ids: increasing, never reused.
CREATE SEQUENCE events_id_seq;

CREATE TABLE stacks (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT COLLATE "C" NOT NULL UNIQUE,
    project          TEXT NOT NULL,
    name             TEXT COLLATE "C" NOT NULL,
    user_name        TEXT NOT NULL,
    parent           TEXT,
    action           TEXT NOT NULL,
    status           TEXT COLLATE "C" NOT NULL,
    status_reason    TEXT NOT NULL,
    description      TEXT NOT NULL,
    template         TEXT NOT NULL,
    files            TEXT NOT NULL,
    environments     TEXT NOT NULL,
    parameters       TEXT NOT NULL,
    previous         TEXT,
    disable_rollback BOOLEAN NOT NULL,
    timeout_mins     BIGINT NOT NULL,
    tags             TEXT NOT NULL,
    operation        BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    deleted          BOOLEAN NOT NULL,
    deleted_at       BIGINT
);
CREATE UNIQUE INDEX stacks_live_name ON stacks (project, name) WHERE deleted = FALSE;
CREATE INDEX stacks_project_created ON stacks (project, created_at);
CREATE INDEX stacks_parent ON stacks (parent);

CREATE TABLE stack_tags (
    stack_id TEXT NOT NULL,
    tag      TEXT NOT NULL,
    PRIMARY KEY (stack_id, tag)
);
CREATE INDEX stack_tags_tag ON stack_tags (tag, stack_id);

CREATE TABLE resources (
    id                BIGINT PRIMARY KEY,
    stack_id          TEXT NOT NULL,
    name              TEXT NOT NULL,
    resource_type     TEXT NOT NULL,
    physical_id       TEXT,
    action            TEXT NOT NULL,
    status            TEXT NOT NULL,
    status_reason     TEXT NOT NULL,
    properties        TEXT NOT NULL,
    data              TEXT NOT NULL,
    metadata          TEXT,
    idempotency_token TEXT NOT NULL,
    replaces          BIGINT,
    deletion_policy   TEXT NOT NULL,
    requires          TEXT NOT NULL,
    target_properties TEXT,
    hook              TEXT,
    operation         BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX resources_stack ON resources (stack_id, id);

CREATE TABLE events (
    id            BIGINT PRIMARY KEY,
    stack_id      TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    physical_id   TEXT,
    action        TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX events_stack ON events (stack_id, id);

CREATE TABLE snapshots (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    stack_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    definition    TEXT NOT NULL,
    resources     TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX snapshots_stack ON snapshots (stack_id, seq);

CREATE TABLE software_configs (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT COLLATE "C" NOT NULL UNIQUE,
    project      TEXT NOT NULL,
    name         TEXT NOT NULL,
    config_group TEXT NOT NULL,
    config       TEXT NOT NULL,
    inputs       TEXT NOT NULL,
    outputs      TEXT NOT NULL,
    options      TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX software_configs_project ON software_configs (project, created_at, id);

CREATE TABLE software_deployments (
    seq                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    project               TEXT NOT NULL,
    config_id             TEXT NOT NULL,
    server_id             TEXT NOT NULL,
    input_values          TEXT NOT NULL,
    output_values         TEXT NOT NULL,
    action                TEXT NOT NULL,
    status                TEXT NOT NULL,
    status_reason         TEXT NOT NULL,
    stack_user_project_id TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT
);
CREATE INDEX software_deployments_project ON software_deployments (project, server_id);

CREATE TABLE services (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    host            TEXT NOT NULL,
    binary_name     TEXT NOT NULL,
    topic           TEXT NOT NULL,
    report_interval BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
