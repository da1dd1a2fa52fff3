-- ERP users (the people an ERP system acts for, named in X-H2H-User), the
-- companies each may act for, the plugin permissions granted to them, the
-- operations a plugin's permission guards, and per-company webhooks with
-- their delivery cursor. Instants are milliseconds since the Unix epoch;
-- booleans are 0/1.

CREATE TABLE erp_users (
    id           TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    email        TEXT,
    enabled      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL
);

-- Access is per company: a head office does not imply its branches.
CREATE TABLE erp_user_companies (
    user_id    TEXT NOT NULL REFERENCES erp_users (id),
    company_id TEXT NOT NULL REFERENCES companies (id),
    granted_at BIGINT NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (user_id, company_id)
);
CREATE INDEX erp_user_companies_by_company ON erp_user_companies (company_id);

-- A grant outlives an uninstall; it counts again if the plugin comes back
-- declaring the permission.
CREATE TABLE erp_user_permissions (
    user_id    TEXT NOT NULL REFERENCES erp_users (id),
    plugin_id  TEXT NOT NULL,
    permission TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (user_id, plugin_id, permission)
);

-- The operations a declared permission guards, space-separated
-- (`sync-statements`, `submit-transfers`, `open-session`, `task:<name>`).
ALTER TABLE plugin_permissions ADD COLUMN operations TEXT NOT NULL DEFAULT '';

-- One webhook per company. Its secret is sealed in the vault (kind secret,
-- owner `h2h:webhook`). delivered_through is the id of the last event the
-- receiver acknowledged with a 2xx; the lease keeps two host processes from
-- delivering the same webhook at once.
CREATE TABLE webhooks (
    company_id        TEXT PRIMARY KEY NOT NULL REFERENCES companies (id),
    url               TEXT NOT NULL,
    delivered_through BIGINT NOT NULL,
    attempts          BIGINT NOT NULL,
    next_attempt_at   BIGINT NOT NULL,
    last_status       BIGINT,
    last_error        TEXT,
    last_delivered_at BIGINT,
    lease_owner       TEXT,
    lease_until       BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT NOT NULL
);
