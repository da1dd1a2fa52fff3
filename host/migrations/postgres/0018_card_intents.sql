-- Card payments (intents) on paired terminals. The ERP's reference is the
-- idempotency key, per company: a second request with it never starts a
-- second charge. state: starting (the connector was called; no answer
-- yet) | unknown (the answer was lost: looked up by reference, never
-- started again) | open (the provider has it, not completed) | completed
-- | refused (the provider refused it; nothing charged).
CREATE TABLE card_intents (
    id                 BIGSERIAL PRIMARY KEY,
    company_id         TEXT NOT NULL REFERENCES companies (id),
    plugin_id          TEXT NOT NULL,
    terminal           BIGINT NOT NULL REFERENCES pos_terminals (id),
    reference          TEXT NOT NULL,
    kind               TEXT NOT NULL,
    amount             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    state              TEXT NOT NULL,
    status             TEXT,
    status_code        BIGINT,
    result             TEXT,
    result_code        BIGINT,
    provider_intent_id TEXT,
    payment            TEXT,
    last_error         TEXT,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (company_id, reference)
);

-- Every answer of the provider about an intent, exactly as received.
CREATE TABLE card_intent_exchanges (
    id        BIGSERIAL PRIMARY KEY,
    intent_id BIGINT NOT NULL REFERENCES card_intents (id),
    call      TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    body      TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX card_intent_exchanges_intent ON card_intent_exchanges (intent_id);
