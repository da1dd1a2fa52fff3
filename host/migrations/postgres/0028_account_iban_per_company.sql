-- A bank account's IBAN is unique per company and connector, not per
-- connector host-wide: one company could otherwise block another's
-- account and learn that it exists.
ALTER TABLE bank_accounts DROP CONSTRAINT bank_accounts_plugin_id_iban_key;
ALTER TABLE bank_accounts ADD CONSTRAINT bank_accounts_company_plugin_iban_key
    UNIQUE (company_id, plugin_id, iban);
