//! The host database: SQLite (embedded default) or PostgreSQL (several host
//! processes, one database). Each backend has its own migrations, since the
//! dialects differ; both reach the same schema.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// Connecting or querying failed.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Bringing the schema up to date failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A connection pool to the host database.
#[derive(Debug, Clone)]
pub enum Database {
    /// Embedded SQLite file.
    Sqlite(SqlitePool),
    /// PostgreSQL server.
    Postgres(PgPool),
}

impl Database {
    /// Connects to `url` and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            Database::Sqlite(SqlitePoolOptions::new().connect_with(options).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Database::Postgres(PgPoolOptions::new().connect(url).await?)
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Database::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Database::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        match self {
            Database::Sqlite(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            Database::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }
}
