-- Facts about this host installation (its id, schema notes), one row each.
CREATE TABLE host_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
