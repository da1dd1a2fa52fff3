-- Wrong PINs in a row per token: SoftHSM keeps no retry counter and a real
-- card locks after a few, so the host counts and stops first.
ALTER TABLE signing_tokens ADD COLUMN wrong_pins BIGINT NOT NULL DEFAULT 0;
