-- What the admin changed in a plugin's grants. Installing a plugin grants
-- what its manifest declares; these rows narrow or complete that:
-- kind revoked-origin (an allow-list origin taken away), private-host
-- (host:port allowed to resolve to loopback/private addresses), extra-ca
-- (a PEM bundle the plugin's TLS also trusts).
CREATE TABLE plugin_grants (
    plugin_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    added_at  BIGINT NOT NULL,
    added_by  TEXT NOT NULL,
    PRIMARY KEY (plugin_id, kind, value)
);
