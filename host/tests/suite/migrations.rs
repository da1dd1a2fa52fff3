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
