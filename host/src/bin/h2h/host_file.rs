//! `h2h-host.toml`: the host's settings in a file, below flags and `H2H_*`
//! variables. Read from `--config` (`H2H_CONFIG`), else from
//! `./h2h-host.toml` when there is one. Relative paths in it are relative
//! to the file. (`h2h.toml` is a plugin's manifest; this is the host's.)

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::ArgMatches;
use clap::parser::ValueSource;
use h2h_host::logs::LogFormat;
use h2h_host::runtime::Limits;
use serde::Deserialize;

use crate::{Cli, Command};

/// The file looked for when `--config` is not given.
pub const DEFAULT_NAME: &str = "h2h-host.toml";

/// What the file may say; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostFile {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    log_format: Option<LogFormat>,
    #[serde(default)]
    serve: ServeSection,
    #[serde(default)]
    limits: LimitsSection,
}

/// `[serve]`: what `h2h serve` listens on.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeSection {
    listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    plain_http_anywhere: Option<bool>,
    console_anywhere: Option<bool>,
}

/// `[limits]`: what one plugin call may use.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    memory_mib: Option<usize>,
    call_deadline_seconds: Option<u64>,
    max_output_mib: Option<usize>,
    max_concurrent_instances: Option<u32>,
    max_log_lines_per_second: Option<u32>,
}

impl LimitsSection {
    /// The defaults with what the file sets.
    pub fn apply(&self, mut limits: Limits) -> Limits {
        if let Some(mib) = self.memory_mib {
            limits.memory_bytes = mib << 20;
        }
        if let Some(seconds) = self.call_deadline_seconds {
            limits.deadline = Duration::from_secs(seconds);
        }
        if let Some(mib) = self.max_output_mib {
            limits.max_output_bytes = mib << 20;
        }
        if let Some(n) = self.max_concurrent_instances {
            limits.max_concurrent_instances = n;
        }
        if let Some(n) = self.max_log_lines_per_second {
            limits.max_log_lines_per_second = n;
        }
        limits
    }
}

/// The file named by `--config`, or the default one if present; none
/// when neither is.
pub fn load(explicit: Option<&Path>) -> anyhow::Result<Option<(PathBuf, HostFile)>> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None => {
            let default = PathBuf::from(DEFAULT_NAME);
            if !default.exists() {
                return Ok(None);
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the host config {}", path.display()))?;
    let file: HostFile = toml::from_str(&text)
        .with_context(|| format!("the host config {} is not valid", path.display()))?;
    if file.serve.tls_cert.is_some() != file.serve.tls_key.is_some() {
        anyhow::bail!(
            "the host config {}: [serve] tls_cert and tls_key go together",
            path.display()
        );
    }
    Ok(Some((path, file)))
}

/// Whether the user set `id` on the command line or in the environment
/// (then the file does not).
fn set_by_user(matches: &ArgMatches, id: &str) -> bool {
    matches!(
        matches.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// `cli` with the file's values where no flag or variable set one.
pub fn merge(mut cli: Cli, matches: &ArgMatches, path: &Path, file: HostFile) -> Cli {
    let base = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
    if let Some(dir) = file.data_dir.filter(|_| !set_by_user(matches, "data_dir")) {
        cli.data_dir = resolve(dir);
    }
    if let Some(url) = file
        .database_url
        .filter(|_| !set_by_user(matches, "database_url"))
    {
        cli.database_url = Some(url);
    }
    if let Some(format) = file
        .log_format
        .filter(|_| !set_by_user(matches, "log_format"))
    {
        cli.log_format = format;
    }
    cli.limits = file.limits;
    if let (
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            plain_http_anywhere,
            console_anywhere,
        },
        Some(serve),
    ) = (&mut cli.command, matches.subcommand_matches("serve"))
    {
        let section = file.serve;
        if let Some(addr) = section.listen.filter(|_| !set_by_user(serve, "listen")) {
            *listen = addr;
        }
        // A certificate and its key come from one place: the file's pair
        // only when neither flag is given.
        if let (Some(cert), Some(key)) = (section.tls_cert, section.tls_key)
            && !set_by_user(serve, "tls_cert")
            && !set_by_user(serve, "tls_key")
        {
            *tls_cert = Some(resolve(cert));
            *tls_key = Some(resolve(key));
        }
        if let Some(anywhere) = section
            .plain_http_anywhere
            .filter(|_| !set_by_user(serve, "plain_http_anywhere"))
        {
            *plain_http_anywhere = anywhere;
        }
        if let Some(anywhere) = section
            .console_anywhere
            .filter(|_| !set_by_user(serve, "console_anywhere"))
        {
            *console_anywhere = anywhere;
        }
    }
    cli
}
