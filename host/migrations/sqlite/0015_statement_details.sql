-- What a statement line says beyond the basics (contract 2.0): the value
-- date as the bank wrote it, the payer's own reference (how the host
-- recognises transfers it sent), the bank's type code, the counterparty's
-- bank and the connector's extra fields (a JSON array of [name, value]).
ALTER TABLE bank_transactions ADD COLUMN value_date TEXT;
ALTER TABLE bank_transactions ADD COLUMN own_reference TEXT;
ALTER TABLE bank_transactions ADD COLUMN type_code TEXT;
ALTER TABLE bank_transactions ADD COLUMN counterparty_bank TEXT;
ALTER TABLE bank_transactions ADD COLUMN extra TEXT;

-- The statement line that booked a sent transfer, found by its own
-- reference.
ALTER TABLE transfers ADD COLUMN booked_transaction_id BIGINT;

-- Files exactly as the bank sent or took them (an MT940 statement, a
-- pain.001 batch), once per account and content.
CREATE TABLE bank_documents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL REFERENCES bank_accounts (id),
    batch_id    BIGINT,
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    content     BLOB NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (account_id, sha256)
);
CREATE INDEX bank_documents_batch ON bank_documents (batch_id);
