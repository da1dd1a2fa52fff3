-- The last day the bank has closed for an account, as its connector last
-- reported it (contract 2.0's final-through): days after it are re-read.
ALTER TABLE account_sync ADD COLUMN final_through TEXT;
