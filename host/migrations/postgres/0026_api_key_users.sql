-- The ERP users an `erp` key may act for (`X-H2H-User`), as a JSON array
-- of user ids; NULL: any ERP user (keys made before binding existed).
ALTER TABLE api_keys ADD COLUMN acts_for TEXT;
