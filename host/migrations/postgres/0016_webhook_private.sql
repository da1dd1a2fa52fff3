-- A webhook reaches a loopback, private or link-local address only when
-- the admin said so when setting it (like a plugin's private-host grant).
ALTER TABLE webhooks ADD COLUMN allow_private BIGINT NOT NULL DEFAULT 0;
