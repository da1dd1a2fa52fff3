//! Shared set-up for the host's integration tests.

use std::sync::Arc;
use std::time::Duration;

use h2h_host::capabilities::Grants;
use h2h_host::kv::MemoryKv;
use h2h_host::runtime::{CallContext, Limits, Plugin, Runtime, RuntimeConfig};

pub fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("test plugin {path} missing: {e}"))
}

/// Limits small enough that hostile tests finish fast.
pub fn test_limits() -> Limits {
    Limits {
        deadline: Duration::from_millis(750),
        ..Limits::default()
    }
}

pub struct Host {
    pub runtime: Runtime,
    pub kv: Arc<MemoryKv>,
}

pub fn host(limits: Limits) -> Host {
    let kv = Arc::new(MemoryKv::default());
    let runtime = Runtime::new(
        RuntimeConfig {
            cache_dir: None,
            limits,
        },
        kv.clone(),
    )
    .expect("runtime starts");
    Host { runtime, kv }
}

impl Host {
    pub fn load(&self, id: &str, path: &str) -> Plugin {
        self.runtime
            .load(id, &wasm(path), Grants::default())
            .expect("test plugin loads")
    }
}

pub fn company(id: &str) -> CallContext {
    CallContext {
        company_id: Some(id.to_owned()),
        ..CallContext::default()
    }
}

/// The raw value a plugin stored, read straight from the backend.
pub async fn stored(
    host: &Host,
    plugin: &str,
    company: Option<&str>,
    key: &str,
) -> Option<Vec<u8>> {
    use h2h_host::kv::{KvStore, Scope};
    let scope = Scope {
        plugin: plugin.into(),
        company: company.map(str::to_owned),
    };
    host.kv
        .get(&scope, key)
        .await
        .expect("memory store answers")
}

/// The context a call of installed `plugin` for `company` on behalf of
/// `user` gets on `host`, as the serving path builds it.
pub async fn call_context(
    host: &h2h_host::serve::Host,
    company: &str,
    plugin: &str,
    user: Option<&str>,
) -> CallContext {
    let connectors = host.connectors();
    let loaded = connectors.get(plugin).await.expect("an installed plugin");
    connectors
        .context(&loaded, Some(company), user)
        .await
        .expect("context")
}

/// Runs test `name` of this binary alone in a child process with `env`
/// set (tracing decides per callsite, process-wide, whether anyone
/// listens, so log checks run there) and returns what it printed; fails
/// when the probe failed.
pub fn run_probe(name: &str, env: &str) -> String {
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(env, "1")
        .output()
        .expect("probe runs");
    let logs = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{logs}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    logs
}
