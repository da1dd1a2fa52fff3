-- PKCS#11 signing: the tokens an admin registered (a module, and which
-- token of it: by slot id or by token label), and which plugins may sign
-- with each. Open signing sessions live in host memory only; a PIN a user
-- asked to save is in vault_entries (kind 'pin').

CREATE TABLE signing_tokens (
    name        TEXT PRIMARY KEY NOT NULL,
    module_path TEXT NOT NULL,
    slot        BIGINT,
    token_label TEXT,
    added_at    BIGINT NOT NULL,
    added_by    TEXT NOT NULL
);

CREATE TABLE signing_grants (
    plugin_id  TEXT NOT NULL,
    token_name TEXT NOT NULL REFERENCES signing_tokens (name),
    granted_at BIGINT NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (plugin_id, token_name)
);
