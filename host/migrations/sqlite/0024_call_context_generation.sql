-- The call-context generation: grows in the same transaction as every change
-- to what a call's context is built from (company settings, a company's
-- secrets and TLS identities, companies), whichever process or command made
-- it. A host keeps the contexts it built while the generation stands; each
-- plugin lookup reads it, so every host process on the database sees a
-- change on its next call.
CREATE TABLE call_context_generation (
    id    BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO call_context_generation (id, value) VALUES (1, 0);

CREATE TRIGGER company_settings_inserted AFTER INSERT ON company_settings
BEGIN UPDATE call_context_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER company_settings_updated AFTER UPDATE ON company_settings
BEGIN UPDATE call_context_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER company_settings_deleted AFTER DELETE ON company_settings
BEGIN UPDATE call_context_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER companies_updated AFTER UPDATE ON companies
BEGIN UPDATE call_context_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER companies_deleted AFTER DELETE ON companies
BEGIN UPDATE call_context_generation SET value = value + 1 WHERE id = 1; END;

-- Only the kinds a call's context holds; PINs and sealed session tokens
-- change often and are read per call.
CREATE TRIGGER vault_entries_inserted AFTER INSERT ON vault_entries
WHEN NEW.kind IN ('secret', 'tls-identity')
BEGIN UPDATE call_context_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER vault_entries_updated AFTER UPDATE ON vault_entries
WHEN OLD.kind IN ('secret', 'tls-identity') OR NEW.kind IN ('secret', 'tls-identity')
BEGIN UPDATE call_context_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER vault_entries_deleted AFTER DELETE ON vault_entries
WHEN OLD.kind IN ('secret', 'tls-identity')
BEGIN UPDATE call_context_generation SET value = value + 1 WHERE id = 1; END;
