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

CREATE FUNCTION bump_call_context_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE call_context_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

-- Statement-level where the whole table counts: one bump per statement.
CREATE TRIGGER company_settings_inserted AFTER INSERT ON company_settings
FOR EACH STATEMENT EXECUTE FUNCTION bump_call_context_generation();
CREATE TRIGGER company_settings_updated AFTER UPDATE ON company_settings
FOR EACH STATEMENT EXECUTE FUNCTION bump_call_context_generation();
CREATE TRIGGER company_settings_deleted AFTER DELETE ON company_settings
FOR EACH STATEMENT EXECUTE FUNCTION bump_call_context_generation();

CREATE TRIGGER companies_updated AFTER UPDATE ON companies
FOR EACH STATEMENT EXECUTE FUNCTION bump_call_context_generation();
CREATE TRIGGER companies_deleted AFTER DELETE ON companies
FOR EACH STATEMENT EXECUTE FUNCTION bump_call_context_generation();

-- Only the kinds a call's context holds; PINs and sealed session tokens
-- change often and are read per call.
CREATE TRIGGER vault_entries_inserted AFTER INSERT ON vault_entries
FOR EACH ROW WHEN (NEW.kind IN ('secret', 'tls-identity'))
EXECUTE FUNCTION bump_call_context_generation();
CREATE TRIGGER vault_entries_updated AFTER UPDATE ON vault_entries
FOR EACH ROW WHEN (OLD.kind IN ('secret', 'tls-identity') OR NEW.kind IN ('secret', 'tls-identity'))
EXECUTE FUNCTION bump_call_context_generation();
CREATE TRIGGER vault_entries_deleted AFTER DELETE ON vault_entries
FOR EACH ROW WHEN (OLD.kind IN ('secret', 'tls-identity'))
EXECUTE FUNCTION bump_call_context_generation();
