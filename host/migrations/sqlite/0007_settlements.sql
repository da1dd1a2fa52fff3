-- The settlements core (host module "settlements" v1): bank accounts,
-- transactions deduplicated per account, open receivables, matches, and
-- the events feed. Amounts are canonical decimal strings; dates ISO 8601.

CREATE TABLE bank_accounts (
    id         TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies (id),
    plugin_id  TEXT NOT NULL,
    iban       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (plugin_id, iban)
);

-- dedupe_key is the bank's reference (PKO's bank reference, mBank's TNR,
-- Privat's ID): the same transaction fetched again is the same row.
CREATE TABLE bank_transactions (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id           TEXT NOT NULL REFERENCES bank_accounts (id),
    dedupe_key           TEXT NOT NULL,
    booking_date         TEXT NOT NULL,
    direction            TEXT NOT NULL,
    amount               TEXT NOT NULL,
    currency             TEXT NOT NULL,
    title                TEXT NOT NULL,
    counterparty_name    TEXT,
    counterparty_account TEXT,
    received_at          BIGINT NOT NULL,
    UNIQUE (account_id, dedupe_key)
);

-- status: open | settled | review
CREATE TABLE receivables (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id     TEXT NOT NULL REFERENCES companies (id),
    invoice_number TEXT NOT NULL,
    amount         TEXT NOT NULL,
    open_amount    TEXT NOT NULL,
    currency       TEXT NOT NULL,
    counterparty   TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (company_id, invoice_number)
);

-- outcome: settled | review; reason: exact | partial | overpayment | ambiguous
CREATE TABLE payment_matches (
    transaction_id BIGINT NOT NULL,
    receivable_id  BIGINT NOT NULL,
    outcome        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    matched_at     BIGINT NOT NULL,
    PRIMARY KEY (transaction_id, receivable_id)
);

CREATE TABLE settlement_settings (
    company_id    TEXT PRIMARY KEY NOT NULL REFERENCES companies (id),
    auto_matching BIGINT NOT NULL
);

-- The ERP's feed: read with ?after=<id>.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
