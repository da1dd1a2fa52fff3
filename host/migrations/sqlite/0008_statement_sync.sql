-- Statement sync per bank account: how far the account's statements are
-- known complete, the last balance the bank reported, and the last failure.
CREATE TABLE account_sync (
    account_id        TEXT PRIMARY KEY NOT NULL REFERENCES bank_accounts (id),
    synced_through    TEXT,
    last_attempt_at   BIGINT,
    last_success_at   BIGINT,
    last_error        TEXT,
    balance_booked    TEXT,
    balance_available TEXT,
    balance_as_of     TEXT
);

-- Who runs a task: the plugin's `tasks.run` ('plugin') or the host itself
-- ('host': the statement sync every bank connector gets).
ALTER TABLE plugin_tasks ADD COLUMN runner TEXT NOT NULL DEFAULT 'plugin';
