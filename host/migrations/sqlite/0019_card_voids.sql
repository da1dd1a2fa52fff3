-- A void of a completed sale: pending until the provider confirms it
-- (voided) or refuses it (refused: the sale stands as it was).
ALTER TABLE card_intents ADD COLUMN void_state TEXT;
ALTER TABLE card_intents ADD COLUMN void_intent_id TEXT;
