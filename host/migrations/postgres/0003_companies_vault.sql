-- Companies (a head office and its branches), the values of the company
-- settings plugins declare, and the vault of sealed secrets.

CREATE TABLE companies (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    parent_id  TEXT REFERENCES companies (id),
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- Plain settings only; secret settings live in vault_entries.
CREATE TABLE company_settings (
    company_id TEXT NOT NULL REFERENCES companies (id),
    plugin_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (company_id, plugin_id, name)
);

-- kind: secret | tls-identity | pin; owner: the plugin, or the token for a
-- PIN. key_id names the vault key that sealed the value (rotation).
CREATE TABLE vault_entries (
    kind       TEXT NOT NULL,
    company_id TEXT NOT NULL,
    owner      TEXT NOT NULL,
    name       TEXT NOT NULL,
    sealed     BYTEA NOT NULL,
    key_id     TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (kind, company_id, owner, name)
);
