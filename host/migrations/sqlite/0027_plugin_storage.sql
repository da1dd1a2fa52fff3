-- What each plugin stores, kept as it changes (triggers, in the writing
-- transaction) so a write checks its quota by reading one row instead of
-- summing the plugin's data. `bytes` counts keys and sealed values as
-- stored; the quota subtracts the sealing overhead per key.
CREATE TABLE plugin_kv_usage (
    plugin_id TEXT PRIMARY KEY,
    bytes     BIGINT NOT NULL,
    keys      BIGINT NOT NULL
);
INSERT INTO plugin_kv_usage (plugin_id, bytes, keys)
SELECT plugin_id, SUM(OCTET_LENGTH(key) + OCTET_LENGTH(value)), COUNT(*)
FROM plugin_kv GROUP BY plugin_id;

CREATE TRIGGER plugin_kv_inserted AFTER INSERT ON plugin_kv
BEGIN
    INSERT OR IGNORE INTO plugin_kv_usage (plugin_id, bytes, keys) VALUES (NEW.plugin_id, 0, 0);
    UPDATE plugin_kv_usage
    SET bytes = bytes + OCTET_LENGTH(NEW.key) + OCTET_LENGTH(NEW.value), keys = keys + 1
    WHERE plugin_id = NEW.plugin_id;
END;
CREATE TRIGGER plugin_kv_deleted AFTER DELETE ON plugin_kv
BEGIN
    UPDATE plugin_kv_usage
    SET bytes = bytes - OCTET_LENGTH(OLD.key) - OCTET_LENGTH(OLD.value), keys = keys - 1
    WHERE plugin_id = OLD.plugin_id;
END;
CREATE TRIGGER plugin_kv_updated AFTER UPDATE ON plugin_kv
BEGIN
    UPDATE plugin_kv_usage
    SET bytes = bytes - OCTET_LENGTH(OLD.key) - OCTET_LENGTH(OLD.value), keys = keys - 1
    WHERE plugin_id = OLD.plugin_id;
    INSERT OR IGNORE INTO plugin_kv_usage (plugin_id, bytes, keys) VALUES (NEW.plugin_id, 0, 0);
    UPDATE plugin_kv_usage
    SET bytes = bytes + OCTET_LENGTH(NEW.key) + OCTET_LENGTH(NEW.value), keys = keys + 1
    WHERE plugin_id = NEW.plugin_id;
END;

-- The admin's word on a plugin's storage, over its manifest's quota.
CREATE TABLE plugin_storage_limits (
    plugin_id   TEXT PRIMARY KEY,
    quota_bytes BIGINT NOT NULL,
    max_keys    BIGINT NOT NULL,
    set_at      BIGINT NOT NULL,
    set_by      TEXT NOT NULL
);
