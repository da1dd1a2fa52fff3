-- Bank sessions: one per connector, company and bank user, opened by an ERP
-- user, kept alive by the host's bot. The bank's token is sealed in the
-- vault (kind bank-session), never here. Instants are Unix millis.
-- state: active | awaiting-signature | pending-confirmation | rejected |
--        expired | closed
CREATE TABLE bank_sessions (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    plugin_id             TEXT NOT NULL,
    company_id            TEXT NOT NULL REFERENCES companies (id),
    bank_user_id          TEXT NOT NULL,
    login_method          TEXT NOT NULL,
    connector_session_id  TEXT NOT NULL,
    state                 TEXT NOT NULL,
    company_ids           TEXT NOT NULL,
    expires_at            BIGINT,
    refresh_every_seconds BIGINT,
    refresh_by_bot        BIGINT NOT NULL,
    challenge             TEXT,
    message               TEXT,
    signing_token         TEXT,
    signing_key           TEXT,
    opened_by             TEXT NOT NULL,
    opened_at             BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    last_refresh_at       BIGINT,
    failures              BIGINT NOT NULL,
    last_error            TEXT
);

CREATE INDEX bank_sessions_company ON bank_sessions (company_id, plugin_id, state);

-- Whose session scheduled work (statement download, batch export) uses
-- when no ERP user is named.
CREATE TABLE bank_session_defaults (
    company_id TEXT NOT NULL REFERENCES companies (id),
    plugin_id  TEXT NOT NULL,
    erp_user   TEXT NOT NULL,
    PRIMARY KEY (company_id, plugin_id)
);
