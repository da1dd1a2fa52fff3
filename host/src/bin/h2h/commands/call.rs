//! `h2h plugin call`: one export of a package (or a crate, packed first) run
//! directly, arguments and result as JSON, with no admin set-up: the quick
//! loop while writing a connector. Storage lives in memory for the one
//! call; HTTP reaches the manifest's allow-list (plus `--allow-private`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use h2h_host::capabilities::Grants;
use h2h_host::capabilities::http::HttpGrant;
use h2h_host::capabilities::storage::StorageGrant;
use h2h_host::kv::MemoryKv;
use h2h_host::packages::origin::AllowedOrigin;
use h2h_host::packages::pack::{PackOptions, pack};
use h2h_host::packages::{PackageLimits, SignaturePolicy, open};
use h2h_host::runtime::model::bank::StatementQuery;
use h2h_host::runtime::{CallContext, Limits, Plugin, Runtime, RuntimeConfig};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

use crate::output::Output;

/// A connector to call and what the call gets: settings, secrets, grants.
#[derive(Debug, Args)]
pub struct Target {
    /// A package zip, or a connector crate (packed unsigned first).
    pub(super) package: PathBuf,
    /// The company the call is for.
    #[arg(long, default_value = "dev")]
    pub(super) company: String,
    /// A company setting, NAME=VALUE (repeatable).
    #[arg(long = "setting", value_name = "NAME=VALUE")]
    pub(super) settings: Vec<String>,
    /// A secret company setting, NAME=VALUE (repeatable).
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub(super) secrets: Vec<String>,
    /// Lets an allow-listed host:port resolve to loopback or a private
    /// address (a local simulator) (repeatable).
    #[arg(long = "allow-private", value_name = "HOST:PORT")]
    private_hosts: Vec<String>,
    /// Adds an origin to the allow-list for this call (repeatable).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    origins: Vec<String>,
    /// Trusts this CA (PEM file) too, as `h2h grant extra-ca` does.
    #[arg(long = "extra-ca", value_name = "PEM")]
    extra_ca: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    target: Target,
    /// The export: fetch-statement, get-balance, task (both worlds), or
    /// redeem-pairing-code, list-terminals, get-intent, find-intent.
    export: String,
    /// The arguments as a JSON object, e.g. `{"account": "PL61...",
    /// "from": "2026-11-01", "to": "2026-11-30"}`.
    #[arg(default_value = "{}")]
    arguments: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Statement {
    account: String,
    from: String,
    to: String,
    #[serde(default)]
    continuation: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Account {
    account: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Task {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Code {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Device {
    api_key: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    reference: Option<String>,
}

fn args<T: serde::de::DeserializeOwned>(export: &str, text: &str) -> anyhow::Result<T> {
    serde_json::from_str(text).with_context(|| format!("the arguments of `{export}`"))
}

fn pairs(list: &[String], what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    list.iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("{what} `{pair}`: write NAME=VALUE"))
        })
        .collect()
}

pub async fn call(args: &CallArgs, out: Output) -> anyhow::Result<()> {
    let (plugin, ctx) = load(&args.target).await?;
    let result = run(&plugin, ctx, &args.export, &args.arguments).await?;
    out.show(&result, |v| {
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    })
}

/// The target's connector, loaded with the grants its manifest declares
/// plus the flags', and the context its calls get.
pub async fn load(args: &Target) -> anyhow::Result<(Plugin, CallContext)> {
    let zip = if args.package.is_dir() {
        let report = tokio::task::spawn_blocking({
            let options = PackOptions {
                crate_dir: args.package.clone(),
                sign_key: None,
                output: None,
                target_dir: None,
                extra_origins: args.origins.clone(),
                version: None,
            };
            move || pack(&options)
        })
        .await
        .context("packing")??;
        std::fs::read(&report.path).with_context(|| format!("reading {}", report.path.display()))?
    } else {
        std::fs::read(&args.package)
            .with_context(|| format!("reading {}", args.package.display()))?
    };
    let package = open(
        &zip,
        &[],
        SignaturePolicy::AllowUnsigned,
        &PackageLimits::default(),
    )?;
    let mut origins = package.manifest.http.clone();
    for origin in &args.origins {
        origins.push(AllowedOrigin::parse(origin).map_err(anyhow::Error::msg)?);
    }
    let mut http = HttpGrant::new(origins);
    for host_port in &args.private_hosts {
        http = http.with_private_host(host_port)?;
    }
    if let Some(path) = &args.extra_ca {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        http = http.with_extra_ca(&pem)?;
    }
    let grants = Grants {
        http,
        storage: StorageGrant {
            quota_bytes: package.manifest.storage_quota,
            ..StorageGrant::default()
        },
        ..Grants::default()
    };
    let runtime = Runtime::new(
        RuntimeConfig {
            cache_dir: None,
            limits: Limits::default(),
        },
        Arc::new(MemoryKv::default()),
    )?;
    let plugin = runtime.load(&package.manifest.id, &package.wasm, grants)?;
    let ctx = CallContext {
        company_id: Some(args.company.clone()),
        settings: pairs(&args.settings, "setting")?,
        secrets: pairs(&args.secrets, "secret")?
            .into_iter()
            .map(|(k, v)| (k, SecretString::from(v)))
            .collect(),
        ..CallContext::default()
    };
    Ok((plugin, ctx))
}

async fn run(plugin: &Plugin, ctx: CallContext, export: &str, text: &str) -> anyhow::Result<Value> {
    Ok(match export {
        "fetch-statement" => {
            let a: Statement = args(export, text)?;
            let query = StatementQuery {
                account: a.account,
                from: a.from,
                to: a.to,
                continuation: a.continuation,
            };
            json(&plugin.fetch_statement(ctx, &query).await?)?
        }
        "get-balance" => {
            let a: Account = args(export, text)?;
            json(&plugin.get_balance(ctx, &a.account).await?)?
        }
        "task" => {
            let a: Task = args(export, text)?;
            plugin.run_task(ctx, &a.name).await?;
            Value::Null
        }
        "redeem-pairing-code" => {
            let a: Code = args(export, text)?;
            // The host seals this key and never shows it; here the developer
            // asked for it, to pass to the next calls.
            let pairing = plugin.redeem_pairing_code(ctx, &a.code).await?;
            serde_json::json!({ "api_key": pairing.api_key, "label": pairing.label })
        }
        "list-terminals" => {
            let a: Device = args(export, text)?;
            json(&plugin.list_terminals(ctx, &a.api_key).await?)?
        }
        "get-intent" => {
            let a: Device = args(export, text)?;
            let id = a.id.context("get-intent needs `id`")?;
            json(&plugin.get_intent(ctx, &a.api_key, &id).await?)?
        }
        "find-intent" => {
            let a: Device = args(export, text)?;
            let reference = a.reference.context("find-intent needs `reference`")?;
            json(&plugin.find_intent(ctx, &a.api_key, &reference).await?)?
        }
        other => bail!(
            "no export `{other}` to call; one of: fetch-statement, get-balance, task, \
             redeem-pairing-code, list-terminals, get-intent, find-intent"
        ),
    })
}

fn json<T: serde::Serialize>(answer: &T) -> anyhow::Result<Value> {
    Ok(serde_json::to_value(answer)?)
}
