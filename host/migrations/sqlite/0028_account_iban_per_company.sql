-- A bank account's IBAN is unique per company and connector, not per
-- connector host-wide: one company could otherwise block another's
-- account and learn that it exists.
--
-- SQLite changes a table constraint only by rebuilding the table. Its
-- children (transactions, transfers, sync state, ...) name it by name and
-- keep pointing at the rebuilt table. Dropping it orphans their rows
-- for a moment; with the checks deferred to the commit, inserting the same
-- ids again settles every one of them (SQLite counts both), and a row left
-- orphaned would fail the commit.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE bank_accounts_copy AS
    SELECT id, company_id, plugin_id, iban, currency, name, created_at FROM bank_accounts;

DROP TABLE bank_accounts;

CREATE TABLE bank_accounts (
    id         TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies (id),
    plugin_id  TEXT NOT NULL,
    iban       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (company_id, plugin_id, iban)
);

INSERT INTO bank_accounts (id, company_id, plugin_id, iban, currency, name, created_at)
    SELECT id, company_id, plugin_id, iban, currency, name, created_at FROM bank_accounts_copy;

DROP TABLE bank_accounts_copy;
