//! A host on a throwaway database (SQLite or PostgreSQL), a publisher key it
//! trusts, and helpers to make packages and licenses for the test plugins.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use h2h_host::admin::{Actor, AdminSettings};
use h2h_host::db::testing::{TestBackend, TestDatabase};
use h2h_host::packages::pack::write_package;
use h2h_host::runtime::Limits;
use h2h_host::scheduler::Scheduler;
use h2h_host::serve::{Host, HostConfig};
use h2h_license::{LicenseRequest, Limits as LicenseLimits, VendorKeyPair, VersionRange};
use serde_json::Value;
use sqlx::Row;
use tempfile::TempDir;

pub struct Fixture {
    pub dir: TempDir,
    pub database: TestDatabase,
    pub config: HostConfig,
    pub host: Host,
    pub key: VendorKeyPair,
    pub actor: Actor,
}

impl Fixture {
    /// None when PostgreSQL is wanted and absent outside CI (the test then
    /// passes having printed SKIPPED).
    pub async fn new(backend: TestBackend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::create(backend, dir.path()).await?;
        let config = HostConfig {
            database_url: Some(database.url.clone()),
            admin: AdminSettings {
                drain_timeout: Duration::from_secs(3),
                ..AdminSettings::default()
            },
            limits: Limits {
                deadline: Duration::from_secs(20),
                ..Limits::default()
            },
            ..HostConfig::new(dir.path())
        };
        let host = Host::open(&config).await.expect("host opens");
        let key = VendorKeyPair::generate().expect("key");
        let actor = Actor::cli("tester");
        host.admin
            .trust_publisher(&actor, &key.public().to_armored(), "test publisher")
            .await
            .expect("trust");
        Some(Self {
            dir,
            database,
            config,
            host,
            key,
            actor,
        })
    }

    pub async fn finish(self) {
        self.host.db.close().await;
        self.database.drop_now().await;
    }

    /// A signed package of `wasm` as `id` `version`.
    pub fn package(&self, id: &str, version: &str, wasm: &str) -> Vec<u8> {
        self.package_with(&manifest(id, version, ""), wasm)
    }

    pub fn package_with(&self, manifest: &str, wasm: &str) -> Vec<u8> {
        let wasm = std::fs::read(wasm).expect("test plugin built");
        write_package(manifest, &wasm, None, None, Some(&self.key)).expect("package")
    }

    /// Signed, but with no checks of manifest or component: for refusals.
    pub fn unchecked_package(&self, manifest: &str, wasm: &str) -> Vec<u8> {
        let mut files = h2h_host::packages::archive::Files::new();
        files.insert("h2h.toml".to_owned(), manifest.as_bytes().to_vec());
        files.insert(
            "plugin.wasm".to_owned(),
            std::fs::read(wasm).expect("test plugin built"),
        );
        let signature = h2h_host::packages::signature::sign(&files, &self.key);
        files.insert("signature.toml".to_owned(), signature.into_bytes());
        h2h_host::packages::pack::zip_files(&files).expect("zip")
    }

    /// `id` `version` of `wasm`, signed, then its component swapped for
    /// `swapped_in`'s: the signature no longer matches.
    pub fn tampered_package(
        &self,
        id: &str,
        version: &str,
        wasm: &str,
        swapped_in: &str,
    ) -> Vec<u8> {
        let mut files = h2h_host::packages::archive::Files::new();
        files.insert(
            "h2h.toml".to_owned(),
            manifest(id, version, "").into_bytes(),
        );
        files.insert(
            "plugin.wasm".to_owned(),
            std::fs::read(wasm).expect("test plugin built"),
        );
        let signature = h2h_host::packages::signature::sign(&files, &self.key);
        files.insert("signature.toml".to_owned(), signature.into_bytes());
        files.insert(
            "plugin.wasm".to_owned(),
            std::fs::read(swapped_in).expect("test plugin built"),
        );
        h2h_host::packages::pack::zip_files(&files).expect("zip")
    }

    pub async fn upload(&self, id: &str, version: &str, wasm: &str) {
        self.host
            .admin
            .upload(&self.actor, &self.package(id, version, wasm))
            .await
            .expect("upload");
    }

    /// Uploads `wasm` packaged with `manifest`.
    pub async fn upload_with(&self, manifest: &str, wasm: &str) {
        self.host
            .admin
            .upload(&self.actor, &self.package_with(manifest, wasm))
            .await
            .expect("upload");
    }

    /// Uploads `wasm` packaged with `manifest` as plugin `id`, licenses and
    /// installs it.
    pub async fn install_with(&self, id: &str, manifest: &str, wasm: &str) {
        self.upload_with(manifest, wasm).await;
        self.add_license(id).await;
        self.host
            .admin
            .install(&self.actor, id, None)
            .await
            .expect("install");
    }

    /// Connectors over this host's database and vault whose runtime has
    /// `limits` (a short deadline, a pool of one instance).
    pub fn connectors_with(
        &self,
        limits: Limits,
    ) -> std::sync::Arc<h2h_host::connectors::Connectors> {
        let runtime = h2h_host::runtime::Runtime::new(
            h2h_host::runtime::RuntimeConfig {
                cache_dir: Some(self.dir.path().join("cache")),
                limits,
            },
            std::sync::Arc::new(h2h_host::kv::SqlKv::new(
                self.host.db.clone(),
                self.host.admin.vault().vault().clone(),
            )),
        )
        .expect("runtime");
        std::sync::Arc::new(h2h_host::connectors::Connectors::new(
            self.host.db.clone(),
            std::sync::Arc::new(runtime),
            self.host.admin.vault().clone(),
        ))
    }

    /// A scheduler of this host over a fresh registry (with its tokens), as
    /// `h2h serve` builds one; `owner` names it like a host process.
    pub fn scheduler(&self, owner: &str) -> Scheduler {
        self.host.scheduler(
            self.host.connectors(),
            None,
            owner.to_owned(),
            Duration::from_secs(60),
        )
    }

    /// What `plugin` stored under `key` for `company` ('' for plugin-wide),
    /// read from the database through this host's vault, as JSON.
    pub async fn stored_for(&self, plugin: &str, company: &str, key: &str) -> Option<Value> {
        use h2h_host::kv::{KvStore, Scope, SqlKv};
        let kv = SqlKv::new(
            self.host.db.clone(),
            self.host.admin.vault().vault().clone(),
        );
        let scope = Scope {
            plugin: plugin.into(),
            company: Some(company.to_owned()).filter(|c| !c.is_empty()),
        };
        let bytes = kv.get(&scope, key).await.expect("stored value opens")?;
        Some(serde_json::from_slice(&bytes).expect("stored JSON"))
    }

    /// Adds company `id`.
    pub async fn company(&self, id: &str) {
        self.host
            .admin
            .add_company(&self.actor, id, &format!("Company {id}"), None)
            .await
            .expect("company");
    }

    /// A license for `plugin` `versions` valid from `from` days ago to
    /// `until` days ahead (negative: in the past).
    pub async fn license(&self, plugin: &str, versions: &str, from: i64, until: i64) -> String {
        let installation = self.host.admin.installation_id().await.expect("id");
        self.license_for(&installation, plugin, versions, from, until)
    }

    pub fn license_for(
        &self,
        installation: &str,
        plugin: &str,
        versions: &str,
        from: i64,
        until: i64,
    ) -> String {
        self.license_with(
            installation,
            plugin,
            versions,
            from,
            until,
            LicenseLimits::default(),
        )
    }

    /// [`Fixture::license_for`] with caps.
    pub fn license_with(
        &self,
        installation: &str,
        plugin: &str,
        versions: &str,
        from: i64,
        until: i64,
        limits: LicenseLimits,
    ) -> String {
        let today = Utc::now().date_naive();
        h2h_license::issue(
            &self.key,
            LicenseRequest {
                id: None,
                plugin: plugin.to_owned(),
                versions: VersionRange::parse(versions).expect("range"),
                licensee: "ACME sp. z o.o.".to_owned(),
                installation: installation.to_owned(),
                not_before: shift(today, -from),
                expires: shift(today, until),
                issued_at: today,
                limits,
            },
        )
        .expect("issue")
        .to_toml()
    }

    pub async fn add_license(&self, plugin: &str) {
        let text = self.license(plugin, "*", 1, 365).await;
        self.host
            .admin
            .add_license(&self.actor, &text)
            .await
            .expect("license");
    }

    /// The plugin-wide stored value of `key`, decoded from JSON.
    pub async fn stored(&self, plugin: &str, key: &str) -> Option<Value> {
        self.stored_for(plugin, "", key).await
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(self.host.db.pool())
            .await
            .expect("count")
            .try_get("n")
            .expect("n")
    }

    pub async fn installed_version(&self, plugin: &str) -> Option<String> {
        self.host
            .admin
            .installed()
            .await
            .expect("list")
            .into_iter()
            .find(|p| p.plugin == plugin)
            .map(|p| p.version)
    }
}

fn shift(day: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        day.checked_add_days(Days::new(days as u64)).expect("date")
    } else {
        day.checked_sub_days(Days::new(days.unsigned_abs()))
            .expect("date")
    }
}

/// A bank-connector manifest; `extra` is appended (requires, settings...).
pub fn manifest(id: &str, version: &str, extra: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Test {id}"
version = "{version}"
publisher = "h2h tests"
description = "A test plugin."

[contract]
world = "bank-connector"
version = "^2.0"
{extra}"#
    )
}

/// Runs a test body on SQLite and on PostgreSQL.
macro_rules! on_both_databases {
    ($name:ident) => {
        mod $name {
            use h2h_host::db::testing::TestBackend;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(TestBackend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(TestBackend::Postgres).await;
            }
        }
    };
}
