-- Card terminals paired with a pos connector. Each pairing code gives one
-- device API key, sealed in the vault (kind terminal-key, named key_name);
-- the device may drive several terminal entries. Unpairing keeps the row
-- (intents refer to it) and forgets the key; pairing the same provider
-- entry again replaces its key in place.
CREATE TABLE pos_terminals (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id     TEXT NOT NULL REFERENCES companies (id),
    plugin_id      TEXT NOT NULL,
    provider_id    TEXT NOT NULL,
    terminal_id    TEXT NOT NULL,
    pos_id         TEXT,
    merchant_id    TEXT,
    name           TEXT NOT NULL,
    model          TEXT,
    payment_method TEXT,
    key_name       TEXT NOT NULL,
    paired_at      BIGINT NOT NULL,
    paired_by      TEXT NOT NULL,
    unpaired_at    BIGINT
);
CREATE INDEX pos_terminals_company ON pos_terminals (company_id);
CREATE INDEX pos_terminals_provider ON pos_terminals (plugin_id, provider_id);
