-- Sharing bank sessions with another h2h database (mBank's "udostępnianie
-- sesji"). Instants are Unix millis.

-- This host's keys for sessions shared to it: an origin seals a shared
-- session's token to the newest public key (HPKE, X25519); the private key
-- is sealed in this host's vault (kind share-key, owner h2h:share).
CREATE TABLE session_share_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A session another database shared here: shared_from names the origin
-- (its installation and session), shared_secret is the token sealed to
-- this host's share key (key id, encapsulated key, ciphertext; base64).
-- NULL for the sessions opened here.
ALTER TABLE bank_sessions ADD COLUMN shared_from TEXT;
ALTER TABLE bank_sessions ADD COLUMN shared_secret TEXT;

-- Databases an admin registered to share sessions to. The connection
-- string is sealed in the vault (kind external-database, owner h2h:share).
CREATE TABLE share_targets (
    name       TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- Sessions of this database shared to a target: the target's user, head
-- office and DIKs, the row the share wrote there and the origin it names
-- (`shared_from` there).
-- state: active | revoked | ended
CREATE TABLE bank_session_shares (
    id                BIGSERIAL PRIMARY KEY,
    session_id        BIGINT NOT NULL REFERENCES bank_sessions (id),
    target            TEXT NOT NULL REFERENCES share_targets (name),
    target_user       TEXT NOT NULL,
    target_company    TEXT NOT NULL,
    company_ids       TEXT NOT NULL,
    remote_session_id BIGINT NOT NULL,
    origin            TEXT NOT NULL,
    state             TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    last_sync_at      BIGINT,
    last_error        TEXT
);

CREATE INDEX bank_session_shares_session ON bank_session_shares (session_id, state);
