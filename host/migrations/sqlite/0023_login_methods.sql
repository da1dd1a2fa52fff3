-- How a bank user logs in when the ERP does not say (Comarch's "default
-- login mode" on the operator's card): signature | mobile-confirmation |
-- stored-credentials. Without a row the method is `signature`.
CREATE TABLE bank_user_login_methods (
    company_id   TEXT NOT NULL REFERENCES companies (id),
    plugin_id    TEXT NOT NULL,
    bank_user_id TEXT NOT NULL,
    method       TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL,
    PRIMARY KEY (company_id, plugin_id, bank_user_id)
);
