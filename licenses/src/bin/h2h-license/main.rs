//! `h2h-license`: the vendor's tool for keys and licenses, and a way to
//! check a license exactly as a host would.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use h2h_license::{IssueError, KeyError, LicenseError, VersionRange, parse_date};

/// Issue and check h2h plugin licenses.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Print one JSON object on standard output instead of text, for
    /// success and failure alike.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a vendor key pair: NAME.key (secret, mode 0600) and NAME.pub.
    Keygen {
        /// Directory for the two files; created if missing.
        #[arg(long)]
        out_dir: PathBuf,
        /// File name stem of the two files.
        #[arg(long, default_value = "vendor")]
        name: String,
    },
    /// Sign a license with the vendor's secret key.
    Issue(IssueArgs),
    /// Check a license as a host would; exit 1 with the reason if it fails.
    Verify(VerifyArgs),
    /// Print a license's payload (without checking its signature).
    Show {
        /// The license file.
        file: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct IssueArgs {
    /// The vendor's secret key file.
    #[arg(long)]
    key: PathBuf,
    /// Plugin id (lowercase slug).
    #[arg(long)]
    plugin: String,
    /// Plugin versions covered, a semver range such as "^1.2".
    #[arg(long, value_name = "RANGE")]
    versions: VersionRange,
    /// Who holds the license (company name).
    #[arg(long)]
    licensee: String,
    /// The host's installation id (`h2h installation-id` on that host).
    #[arg(long)]
    installation: String,
    /// First valid day, YYYY-MM-DD; today's UTC date if absent.
    #[arg(long, value_parser = date_arg, value_name = "DATE")]
    not_before: Option<NaiveDate>,
    /// Last valid day, YYYY-MM-DD (valid through that day).
    #[arg(long, value_parser = date_arg, value_name = "DATE")]
    expires: NaiveDate,
    /// Cap on companies.
    #[arg(long, value_name = "N")]
    max_companies: Option<u32>,
    /// Cap on terminals.
    #[arg(long, value_name = "N")]
    max_terminals: Option<u32>,
    /// License id; 32 random hex digits if absent.
    #[arg(long)]
    id: Option<String>,
    /// Write the license to this file (never overwritten) instead of
    /// standard output.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The license file.
    file: PathBuf,
    /// A trusted vendor public key file; repeat for several.
    #[arg(long, required = true, value_name = "PUBLIC_KEY")]
    trust: Vec<PathBuf>,
    /// This host's installation id.
    #[arg(long)]
    installation: String,
    /// The plugin id.
    #[arg(long)]
    plugin: String,
    /// The plugin version.
    #[arg(long)]
    version: semver::Version,
    /// Check as of this day (YYYY-MM-DD) instead of today's UTC date.
    #[arg(long, value_parser = date_arg, value_name = "DATE")]
    today: Option<NaiveDate>,
}

fn date_arg(text: &str) -> Result<NaiveDate, String> {
    parse_date(text).map_err(|e| e.to_string())
}

/// What a command has to say: text for a person, JSON for a program.
struct Report {
    text: String,
    json: serde_json::Value,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let is_verify = matches!(cli.command, Command::Verify(_));
    let result = match cli.command {
        Command::Keygen { out_dir, name } => commands::keygen(&out_dir, &name),
        Command::Issue(args) => commands::issue(args),
        Command::Verify(args) => commands::verify(args),
        Command::Show { file } => commands::show(&file),
    };
    match result {
        Ok(report) => {
            if cli.json {
                println!("{}", report.json);
            } else {
                print!("{}", report.text);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            let message = format!("{error:#}");
            if cli.json {
                let mut json = serde_json::json!({
                    "error": { "kind": error_kind(&error), "message": message }
                });
                if is_verify {
                    json["valid"] = false.into();
                }
                println!("{json}");
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The `kind` in `--json` failures: the license reason when there is one,
/// so scripts can branch without parsing messages.
fn error_kind(error: &anyhow::Error) -> &'static str {
    if let Some(error) = error.downcast_ref::<LicenseError>() {
        error.kind()
    } else if error.downcast_ref::<KeyError>().is_some() {
        "key"
    } else if error.downcast_ref::<IssueError>().is_some() {
        "invalid-request"
    } else {
        "other"
    }
}
