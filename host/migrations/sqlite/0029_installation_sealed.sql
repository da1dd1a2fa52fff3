-- Installation ids are sealed in the vault from now on
-- (host/src/catalog/installation.rs). A database that has an id already
-- keeps it, since its licenses name it: the host seals it on first use and
-- drops this mark. An unsealed id without the mark is not trusted.
INSERT INTO host_meta (key, value)
    SELECT 'installation-id-unsealed', '1'
    WHERE EXISTS (SELECT 1 FROM host_meta WHERE key = 'installation-id');
