-- Plugins: trusted publishers, uploaded packages, licenses, what is
-- installed, service mode, the install journal, the audit log and plugin
-- key-value storage. Instants are milliseconds since the Unix epoch;
-- booleans are 0/1 (the same on both backends).

CREATE TABLE publishers (
    key_id     TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    public_key TEXT NOT NULL,
    added_at   BIGINT NOT NULL,
    added_by   TEXT NOT NULL
);

CREATE TABLE packages (
    plugin_id      TEXT NOT NULL,
    version        TEXT NOT NULL,
    content_digest TEXT NOT NULL,
    manifest       TEXT NOT NULL,
    wasm           BYTEA NOT NULL,
    readme         TEXT,
    icon           BYTEA,
    signer         TEXT,
    uploaded_at    BIGINT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    PRIMARY KEY (plugin_id, version)
);

CREATE TABLE licenses (
    id         TEXT PRIMARY KEY NOT NULL,
    plugin_id  TEXT NOT NULL,
    document   TEXT NOT NULL,
    expires    TEXT NOT NULL,
    added_at   BIGINT NOT NULL,
    added_by   TEXT NOT NULL
);
CREATE INDEX licenses_by_plugin ON licenses (plugin_id);

CREATE TABLE installations (
    plugin_id    TEXT PRIMARY KEY NOT NULL,
    version      TEXT NOT NULL,
    enabled      BIGINT NOT NULL,
    installed_at BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE plugin_settings (
    plugin_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL,
    required    BIGINT NOT NULL,
    PRIMARY KEY (plugin_id, name)
);

CREATE TABLE plugin_permissions (
    plugin_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (plugin_id, name)
);

CREATE TABLE plugin_tasks (
    plugin_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    cron         TEXT NOT NULL,
    default_cron TEXT NOT NULL,
    description  TEXT NOT NULL,
    paused       BIGINT NOT NULL,
    PRIMARY KEY (plugin_id, name)
);

-- One row. `generation` grows each time service mode is switched on, so a
-- host process can say which switch it has seen.
CREATE TABLE service_mode (
    id         BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    active     BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    since      BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO service_mode (id, active, reason, since, actor, generation)
VALUES (1, 0, '', 0, '', 0);

-- Host processes serving ERP calls, so an installer can wait for their
-- in-flight calls to drain.
CREATE TABLE host_processes (
    id              TEXT PRIMARY KEY NOT NULL,
    hostname        TEXT NOT NULL,
    pid             BIGINT NOT NULL,
    started_at      BIGINT NOT NULL,
    heartbeat_at    BIGINT NOT NULL,
    in_flight       BIGINT NOT NULL,
    seen_generation BIGINT NOT NULL
);

-- An install or upgrade under way; a row that outlives its owner is
-- finished or rolled back by the next host start.
CREATE TABLE journal (
    plugin_id        TEXT PRIMARY KEY NOT NULL,
    operation        TEXT NOT NULL,
    from_version     TEXT,
    to_version       TEXT NOT NULL,
    step             TEXT NOT NULL,
    service_mode_set BIGINT NOT NULL,
    actor            TEXT NOT NULL,
    owner_hostname   TEXT NOT NULL,
    owner_pid        BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    heartbeat_at     BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail  TEXT NOT NULL
);

-- company_id '' is the plugin-wide scope (install, migrate, tasks).
CREATE TABLE plugin_kv (
    plugin_id  TEXT NOT NULL,
    company_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      BYTEA NOT NULL,
    PRIMARY KEY (plugin_id, company_id, key)
);

-- The plugin's storage as it was before a migrate step, restored if the
-- step fails or the host dies during it.
CREATE TABLE plugin_kv_backup (
    plugin_id  TEXT NOT NULL,
    company_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      BYTEA NOT NULL,
    PRIMARY KEY (plugin_id, company_id, key)
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
