-- Other keys a stored transaction is known by: a connector that changed
-- its dedupe key names the former one (contract 2.0's former-references).
-- A line arriving under an alias is the stored line, whichever connector
-- build sends it (the new key, or the old one after a rollback).
CREATE TABLE bank_transaction_aliases (
    account_id     TEXT NOT NULL REFERENCES bank_accounts (id),
    alias          TEXT NOT NULL,
    transaction_id BIGINT NOT NULL REFERENCES bank_transactions (id),
    PRIMARY KEY (account_id, alias)
);
