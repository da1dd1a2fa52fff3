-- Admin console sign-ins (host/src/admin/console_sessions.rs): the cookie's
-- token and the admin key are kept as SHA-256 only; a session ends when
-- idle too long, too old, signed out, or when its key is revoked (the key's
-- row is gone, so the join finds nothing).
CREATE TABLE console_sessions (
    token_sha256 TEXT PRIMARY KEY NOT NULL,
    key_sha256   TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    flash        TEXT,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_key ON console_sessions (key_sha256);
