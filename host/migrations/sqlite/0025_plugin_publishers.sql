-- Which publisher key ships each plugin id. Pinned by the first signed
-- upload; only an audited admin act moves it, so another trusted publisher
-- cannot ship the next version of a plugin (and receive its companies'
-- secrets).
CREATE TABLE plugin_publishers (
    plugin_id TEXT PRIMARY KEY,
    key_id    TEXT NOT NULL,
    pinned_at BIGINT NOT NULL,
    pinned_by TEXT NOT NULL
);

-- Databases from before pinning: each plugin is pinned to the key of its
-- first signed upload.
INSERT INTO plugin_publishers (plugin_id, key_id, pinned_at, pinned_by)
SELECT p.plugin_id, p.signer, p.uploaded_at, 'migration'
FROM packages p
WHERE p.signer IS NOT NULL
  AND p.uploaded_at = (
      SELECT MIN(q.uploaded_at) FROM packages q
      WHERE q.plugin_id = p.plugin_id AND q.signer IS NOT NULL
  )
ON CONFLICT (plugin_id) DO NOTHING;
