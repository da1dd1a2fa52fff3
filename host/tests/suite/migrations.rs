//! The SQLite and PostgreSQL migrations are written twice (the dialects
//! differ); they must build the same schema: the same migrations, tables,
//! columns (name, kind of type, nullability), explicit indexes and
//! triggers.

use std::collections::BTreeMap;

use h2h_host::db::Database;
use h2h_host::db::testing::{TestBackend, TestDatabase};
use sqlx::Row;

/// Table → its columns as `name kind [not null]`, plus `index <name>` lines.
type Schema = BTreeMap<String, Vec<String>>;

/// Both dialects' integer and byte types, as one kind each.
fn kind(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "smallint" => "integer",
        "text" => "text",
        "blob" | "bytea" => "bytes",
        "boolean" => "boolean",
        _ => "other",
    }
}

async fn sqlite_schema(db: &Database) -> Schema {
    let mut schema = Schema::new();
    let tables = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .expect("tables");
    for table in tables {
        let table: String = table.try_get("name").expect("name");
        let columns = sqlx::query(
            "SELECT name, type, \"notnull\" AS not_null, pk FROM pragma_table_info($1)",
        )
        .bind(&table)
        .fetch_all(db.pool())
        .await
        .expect("columns");
        let columns = columns
            .iter()
            .map(|c| {
                let name: String = c.try_get("name").expect("name");
                let declared: String = c.try_get("type").expect("type");
                // SQLite's primary key columns may be null unless declared
                // not null; PostgreSQL's never are.
                let not_null = c.try_get::<i64, _>("not_null").expect("notnull") == 1
                    || c.try_get::<i64, _>("pk").expect("pk") > 0;
                column(&name, kind(&declared), not_null)
            })
            .collect();
        schema.insert(table, columns);
    }
    add_named(
        &mut schema,
        db,
        "index",
        "SELECT name, tbl_name AS tbl FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .await;
    add_named(
        &mut schema,
        db,
        "trigger",
        "SELECT name, tbl_name AS tbl FROM sqlite_master WHERE type = 'trigger'",
    )
    .await;
    schema
}

async fn postgres_schema(db: &Database) -> Schema {
    let mut schema = Schema::new();
    let columns = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS d, \
           is_nullable::text AS n \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(db.pool())
    .await
    .expect("columns");
    for c in columns {
        let table: String = c.try_get("t").expect("table");
        let name: String = c.try_get("c").expect("column");
        let declared: String = c.try_get("d").expect("type");
        let not_null = c.try_get::<String, _>("n").expect("nullable") == "NO";
        schema
            .entry(table)
            .or_default()
            .push(column(&name, kind(&declared), not_null));
    }
    // Indexes made by CREATE INDEX, not those backing a key or constraint.
    add_named(
        &mut schema,
        db,
        "index",
        "SELECT i.relname::text AS name, t.relname::text AS tbl \
         FROM pg_index x \
           JOIN pg_class i ON i.oid = x.indexrelid \
           JOIN pg_class t ON t.oid = x.indrelid \
           JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
    )
    .await;
    add_named(
        &mut schema,
        db,
        "trigger",
        "SELECT t.tgname::text AS name, c.relname::text AS tbl \
         FROM pg_trigger t \
           JOIN pg_class c ON c.oid = t.tgrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND NOT t.tgisinternal",
    )
    .await;
    schema
}

/// Adds `<what> <name>` to its table for each row (`name`, `tbl`) of
/// `query`, in name order.
async fn add_named(schema: &mut Schema, db: &Database, what: &str, query: &str) {
    let mut rows: Vec<(String, String)> = sqlx::query(query)
        .fetch_all(db.pool())
        .await
        .expect(what)
        .iter()
        .map(|row| {
            (
                row.try_get("tbl").expect("table"),
                row.try_get("name").expect("name"),
            )
        })
        .collect();
    rows.sort();
    for (table, name) in rows {
        schema
            .entry(table)
            .or_default()
            .push(format!("{what} {name}"));
    }
}

fn column(name: &str, kind: &str, not_null: bool) -> String {
    let null = if not_null { " not null" } else { "" };
    format!("{name} {kind}{null}")
}

async fn migrations(db: &Database) -> Vec<String> {
    sqlx::query("SELECT description FROM _sqlx_migrations ORDER BY version")
        .fetch_all(db.pool())
        .await
        .expect("migrations")
        .iter()
        .map(|row| row.try_get("description").expect("description"))
        .collect()
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let dir = tempfile::tempdir().expect("dir");
    let Some(pg) = TestDatabase::create(TestBackend::Postgres, dir.path()).await else {
        return;
    };
    let lite = TestDatabase::create(TestBackend::Sqlite, dir.path())
        .await
        .expect("sqlite");
    let (sqlite, postgres) = (
        Database::connect(&lite.url).await.expect("sqlite migrates"),
        Database::connect(&pg.url).await.expect("postgres migrates"),
    );

    assert_eq!(migrations(&sqlite).await, migrations(&postgres).await);
    let (mut a, mut b) = (
        sqlite_schema(&sqlite).await,
        postgres_schema(&postgres).await,
    );
    for columns in a.values_mut().chain(b.values_mut()) {
        columns.sort();
    }
    assert!(a.len() > 20, "the host has its tables: {a:#?}");
    assert!(
        a["vault_entries"].contains(&"trigger vault_entries_inserted".to_owned()),
        "triggers are compared too: {:#?}",
        a["vault_entries"]
    );
    for table in a.keys().chain(b.keys()) {
        assert_eq!(
            a.get(table),
            b.get(table),
            "table `{table}` differs between SQLite (left) and PostgreSQL (right)"
        );
    }

    postgres.close().await;
    pg.drop_now().await;
}

/// The migrator as it stood at `version`, for upgrade tests.
fn up_to(backend: TestBackend, version: i64) -> sqlx::migrate::Migrator {
    let mut migrator = match backend {
        TestBackend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        TestBackend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    let kept: Vec<_> = migrator
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect();
    migrator.migrations = kept.into();
    migrator
}

/// 0028 makes an IBAN unique per company (SQLite by rebuilding the table
/// its children point at): on a database holding accounts with children,
/// every row survives, every child still points at its account, and two
/// companies may then hold the same IBAN while one company still may not.
async fn the_per_company_iban_upgrade_keeps_every_account_and_child(backend: TestBackend) {
    let dir = tempfile::tempdir().expect("dir");
    let Some(test_db) = TestDatabase::create(backend, dir.path()).await else {
        return;
    };
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&test_db.url).await.expect("pool");
    up_to(backend, 27).run(&pool).await.expect("0001–0027");
    for statement in [
        "INSERT INTO companies (id, name, created_at, created_by) VALUES ('acme', 'Acme', 1, 't')",
        "INSERT INTO companies (id, name, created_at, created_by) VALUES ('initech', 'Initech', 1, 't')",
        "INSERT INTO bank_accounts (id, company_id, plugin_id, iban, currency, name, created_at) \
         VALUES ('acme-uah', 'acme', 'privat24', 'UA213223130000026007233566001', 'UAH', 'Main', 7)",
        "INSERT INTO account_sync (account_id, synced_through) VALUES ('acme-uah', '2026-11-30')",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect(statement);
    }
    pool.close().await;

    let db = Database::connect(&test_db.url).await.expect("0028 applies");
    let kept = sqlx::query(
        "SELECT a.company_id, a.name, a.created_at, s.synced_through \
         FROM bank_accounts a JOIN account_sync s ON s.account_id = a.id",
    )
    .fetch_one(db.pool())
    .await
    .expect("the account and its child");
    assert_eq!(kept.try_get::<String, _>("company_id").unwrap(), "acme");
    assert_eq!(kept.try_get::<i64, _>("created_at").unwrap(), 7);
    assert_eq!(
        kept.try_get::<String, _>("synced_through").unwrap(),
        "2026-11-30"
    );
    if backend == TestBackend::Sqlite {
        let orphans = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(db.pool())
            .await
            .expect("check");
        assert!(orphans.is_empty(), "no child lost its account");
    }
    // The child still points at the account: it cannot be made orphan.
    sqlx::query("INSERT INTO account_sync (account_id) VALUES ('nobody')")
        .execute(db.pool())
        .await
        .expect_err("a child of no account is refused");

    let add = |id: &'static str, company: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query(
                "INSERT INTO bank_accounts (id, company_id, plugin_id, iban, currency, name, created_at) \
                 VALUES ($1, $2, 'privat24', 'UA213223130000026007233566001', 'UAH', '', 8)",
            )
            .bind(id)
            .bind(company)
            .execute(db.pool())
            .await
        }
    };
    add("initech-uah", "initech")
        .await
        .expect("another company may hold the same IBAN");
    add("acme-again", "acme")
        .await
        .expect_err("one company holds an IBAN once per connector");
    db.close().await;
    test_db.drop_now().await;
}

on_both_databases!(the_per_company_iban_upgrade_keeps_every_account_and_child);
