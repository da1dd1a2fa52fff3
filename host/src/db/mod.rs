//! The host database: SQLite (embedded default) or PostgreSQL (several host
//! processes, one database).
//!
//! Queries go through `sqlx::Any` so each is written once; they stick to
//! what both dialects share (`$n` placeholders, `ON CONFLICT`, `RETURNING`,
//! integers for booleans and timestamps). Each backend has its own
//! migrations, since DDL differs; both reach the same schema.

pub mod testing;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Transaction};

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

/// Which server is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A connection pool to the host database.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
}

impl Database {
    /// Connects to `url` and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        let pool = match backend {
            // One writer at a time is all SQLite has; a small pool keeps
            // readers concurrent without piling up writers on the lock.
            Backend::Sqlite => options.max_connections(4).connect(url).await?,
            Backend::Postgres => options.max_connections(16).connect(url).await?,
        };
        if backend == Backend::Sqlite {
            // Readers never wait for a writer in WAL mode; the setting is
            // stored in the file, so once is enough.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let db = Self { pool, backend };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// The pool, for queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, DbError> {
        Ok(self.pool.begin().await?)
    }

    /// Starts a transaction that reads, then writes. On SQLite it takes the
    /// write lock at once (`BEGIN IMMEDIATE`), waiting for another writer
    /// under the busy timeout: a deferred transaction that read first would
    /// instead fail with "database is locked" when another process wrote
    /// meanwhile, with no wait possible.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Which server this is.
    pub fn kind(&self) -> Backend {
        self.backend
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (tests drop their database afterwards).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch: how the schema stores instants.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An instant of the schema as RFC 3339 text, for people and JSON.
pub fn format_millis(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| millis.to_string())
}
