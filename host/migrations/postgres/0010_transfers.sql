-- The transfer waiting room: transfers the ERP queues, grouped per source
-- account into batches that a connector submits with an idempotency key.
-- Amounts are canonical decimal strings; dates ISO 8601; instants millis.

-- status: queued | batched | submitted | awaiting-approval | accepted |
--         executed | rejected | cancelled
-- (company_id, id) is the ERP's id; seq orders and links the rows.
CREATE TABLE transfers (
    seq                  BIGSERIAL PRIMARY KEY,
    company_id           TEXT NOT NULL REFERENCES companies (id),
    id                   TEXT NOT NULL,
    account_id           TEXT NOT NULL REFERENCES bank_accounts (id),
    amount               TEXT NOT NULL,
    currency             TEXT NOT NULL,
    counterparty_account TEXT NOT NULL,
    counterparty_name    TEXT NOT NULL,
    counterparty_address TEXT,
    title                TEXT NOT NULL,
    execution_date       TEXT,
    status               TEXT NOT NULL,
    batch_id             BIGINT,
    bank_reference       TEXT,
    bank_message         TEXT,
    last_error           TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (company_id, id)
);

CREATE INDEX transfers_account_status ON transfers (account_id, status);
CREATE INDEX transfers_company_status ON transfers (company_id, status);
CREATE INDEX transfers_batch ON transfers (batch_id);

-- state: created | submitting | submitted | unknown | failed
-- idempotency_key is sent with every submission of the batch, never renewed.
CREATE TABLE transfer_batches (
    id              BIGSERIAL PRIMARY KEY,
    company_id      TEXT NOT NULL REFERENCES companies (id),
    account_id      TEXT NOT NULL REFERENCES bank_accounts (id),
    plugin_id       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL,
    bank_batch_id   TEXT,
    attempts        BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    last_attempt_at BIGINT,
    submitted_at    BIGINT
);

CREATE INDEX transfer_batches_company ON transfer_batches (company_id);

-- Which transfers a batch carried, kept after a failed batch gave them back
-- to the queue.
CREATE TABLE transfer_batch_items (
    batch_id     BIGINT NOT NULL REFERENCES transfer_batches (id),
    transfer_seq BIGINT NOT NULL REFERENCES transfers (seq),
    PRIMARY KEY (batch_id, transfer_seq)
);
