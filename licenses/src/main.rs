//! `h2h-license`: vendor keys, issuing and checking plugin licenses.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use h2h_license::{
    License, Limits, SignedLicense, VendorKeyPair, VendorPublicKey, VerifyContext, verify,
};
use time::{Date, OffsetDateTime};

/// Issue and check h2h plugin licenses.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a vendor key pair: vendor.key (secret, 0600) and vendor.pub.
    Keygen {
        /// Directory for the two files.
        #[arg(long)]
        out_dir: PathBuf,
    },
    /// Issue a license signed with the vendor key.
    Issue {
        /// The vendor's secret key file.
        #[arg(long)]
        key: PathBuf,
        /// Plugin id.
        #[arg(long)]
        plugin: String,
        /// Plugin versions covered (semver range, e.g. "^1").
        #[arg(long)]
        versions: semver::VersionReq,
        /// Who holds the license.
        #[arg(long)]
        licensee: String,
        /// Host installation id (`h2h installation-id`).
        #[arg(long)]
        installation: String,
        /// First valid day, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        not_before: Date,
        /// Last valid day, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        expires: Date,
        /// Cap on companies.
        #[arg(long)]
        max_companies: Option<u32>,
        /// Cap on card terminals.
        #[arg(long)]
        max_terminals: Option<u32>,
        /// Output file; standard output if absent.
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Check a license as a host would.
    Verify {
        /// The license file.
        file: PathBuf,
        /// Trusted vendor public key files.
        #[arg(long, required = true)]
        trust: Vec<PathBuf>,
        /// This host's installation id.
        #[arg(long)]
        installation: String,
        /// Plugin id.
        #[arg(long)]
        plugin: String,
        /// Plugin version.
        #[arg(long)]
        version: semver::Version,
        /// Check as of this day instead of today.
        #[arg(long, value_parser = parse_date)]
        today: Option<Date>,
    },
    /// Print a license's payload.
    Show {
        /// The license file.
        file: PathBuf,
    },
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| format!("`{text}` is not a YYYY-MM-DD date: {e}"))
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

fn write_new(path: &Path, text: &str, secret: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn read_license(path: &Path) -> anyhow::Result<SignedLicense> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(SignedLicense::from_toml(&text)?)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Keygen { out_dir } => {
            let pair = VendorKeyPair::generate()?;
            std::fs::create_dir_all(&out_dir)?;
            let (secret, public) = (out_dir.join("vendor.key"), out_dir.join("vendor.pub"));
            write_new(&secret, &pair.to_armored(), true)?;
            write_new(&public, &pair.public().to_armored(), false)?;
            let key_id = pair.public().key_id();
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({"key_id": key_id, "secret": secret, "public": public})
                );
            } else {
                println!(
                    "vendor key {key_id}: {} (keep secret), {}",
                    secret.display(),
                    public.display()
                );
            }
        }
        Command::Issue {
            key,
            plugin,
            versions,
            licensee,
            installation,
            not_before,
            expires,
            max_companies,
            max_terminals,
            out,
        } => {
            if !is_slug(&plugin) {
                bail!("plugin id `{plugin}` must be a lowercase slug (a-z, 0-9, -)");
            }
            if expires < not_before {
                bail!("--expires {expires} is before --not-before {not_before}");
            }
            let pair = VendorKeyPair::load(&key)?;
            let license = License {
                format: h2h_license::FORMAT_VERSION,
                id: license_id()?,
                plugin,
                versions,
                licensee,
                installation,
                not_before,
                expires,
                issued: today(),
                vendor_key: String::new(),
                limits: Limits {
                    max_companies,
                    max_terminals,
                },
            };
            let signed = SignedLicense::issue(license, &pair);
            match out {
                Some(path) => write_new(&path, &signed.to_toml(), false)?,
                None => print!("{}", signed.to_toml()),
            }
        }
        Command::Verify {
            file,
            trust,
            installation,
            plugin,
            version,
            today: as_of,
        } => {
            let signed = read_license(&file)?;
            let trusted = trust
                .iter()
                .map(|p| VendorPublicKey::load(p))
                .collect::<Result<Vec<_>, _>>()?;
            let today = as_of.unwrap_or_else(today);
            let ctx = VerifyContext {
                installation: &installation,
                plugin: &plugin,
                version: &version,
                today,
            };
            match verify(&signed, &trusted, &ctx) {
                Ok(verified) => {
                    let days = verified.days_left(today);
                    if cli.json {
                        println!(
                            "{}",
                            serde_json::json!({"valid": true, "days_left": days, "license": verified.license.license})
                        );
                    } else {
                        println!(
                            "valid: {} {} for {} until {} ({days} days left)",
                            plugin,
                            version,
                            verified.license.license.licensee,
                            verified.license.license.expires
                        );
                    }
                }
                Err(error) => {
                    if cli.json {
                        println!(
                            "{}",
                            serde_json::json!({"valid": false, "error": error.to_string()})
                        );
                    }
                    bail!(error);
                }
            }
        }
        Command::Show { file } => {
            let signed = read_license(&file)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&signed.license)?);
            } else {
                print!("{}", toml::to_string(&signed.license)?);
            }
        }
    }
    Ok(())
}

fn license_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for a license id: {e}"))?;
    Ok(hex::encode(bytes))
}
