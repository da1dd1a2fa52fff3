-- The context a user's one bank session of a connector lives in (mBank's
-- "w danym kontekście"): the database (no row, or per_company = 0: one
-- session per user serves every company whose ids it covers) or each head
-- office (per_company = 1, Vendo's "Zapisuj poświadczenia per firma").
CREATE TABLE bank_session_contexts (
    plugin_id   TEXT PRIMARY KEY NOT NULL,
    per_company BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);
