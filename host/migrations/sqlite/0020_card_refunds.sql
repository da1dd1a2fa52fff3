-- A refund names the sale it gives money back for.
ALTER TABLE card_intents ADD COLUMN original_intent BIGINT;
