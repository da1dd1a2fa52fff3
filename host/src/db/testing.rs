//! Throwaway databases for tests: a fresh SQLite file, or a fresh database
//! on the PostgreSQL server named by `H2H_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! Without a server the PostgreSQL variant is skipped with a message, except
//! under CI (`CI` set), where a missing server fails the test.

use std::path::Path;
use std::time::Duration;

use sqlx::any::install_default_drivers;
use sqlx::{AnyConnection, Connection};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A new database on the test PostgreSQL server.
    Postgres,
}

/// A database created for one test. Call [`TestDatabase::drop_now`] at the
/// end to remove a PostgreSQL database (SQLite files go with their dir).
#[derive(Debug)]
pub struct TestDatabase {
    /// URL to connect to it.
    pub url: String,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh database of `backend`; `None` when PostgreSQL is wanted but no
    /// server answers outside CI.
    pub async fn create(backend: TestBackend, dir: &Path) -> Option<Self> {
        match backend {
            TestBackend::Sqlite => Some(Self {
                url: format!("sqlite://{}?mode=rwc", dir.join("h2h.db").display()),
                postgres: None,
            }),
            TestBackend::Postgres => Self::postgres().await,
        }
    }

    async fn postgres() -> Option<Self> {
        install_default_drivers();
        let admin_url =
            std::env::var("H2H_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
        let connect = AnyConnection::connect(&admin_url);
        let mut admin = match tokio::time::timeout(Duration::from_secs(5), connect).await {
            Ok(Ok(connection)) => connection,
            failure => {
                let why = match failure {
                    Ok(Err(e)) => e.to_string(),
                    _ => "no answer within 5 s".to_owned(),
                };
                assert!(
                    std::env::var_os("CI").is_none(),
                    "PostgreSQL at {admin_url} is required under CI: {why}"
                );
                eprintln!("SKIPPED: PostgreSQL tests need a server at {admin_url}: {why}");
                return None;
            }
        };
        let mut random = [0u8; 8];
        getrandom::getrandom(&mut random).expect("the OS random generator works");
        let name = format!("h2h_test_{}", hex::encode(random));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("the test server lets us create databases");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        Some(Self {
            url: format!("{base}/{name}"),
            postgres: Some((admin_url.clone(), name)),
        })
    }

    /// Drops a PostgreSQL database (connections to it must be closed).
    pub async fn drop_now(self) {
        let Some((admin_url, name)) = self.postgres else {
            return;
        };
        if let Ok(mut admin) = AnyConnection::connect(&admin_url).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    }
}
