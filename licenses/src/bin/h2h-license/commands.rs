//! The four commands. Each returns a [`Report`]; `main` decides between text
//! and JSON and turns errors into exit codes.

use std::path::Path;

use anyhow::{Context as _, bail};
use h2h_license::{
    KeyError, License, LicenseRequest, Limits, SignedLicense, VendorKeyPair, VendorPublicKey,
    VerifyContext, format_date, is_slug,
};
use serde_json::json;

use crate::{IssueArgs, Report, VerifyArgs};

/// How long before the last valid day `verify` starts warning; the host
/// warns on the same schedule.
const EXPIRY_WARNING_DAYS: u32 = 30;

pub(crate) fn keygen(out_dir: &Path, name: &str) -> anyhow::Result<Report> {
    if !is_slug(name) {
        bail!("--name `{name}` must be a lowercase slug (a-z, 0-9, inner dashes)");
    }
    let secret_path = out_dir.join(format!("{name}.key"));
    let public_path = out_dir.join(format!("{name}.pub"));
    // Checked up front so that a refusal leaves nothing half-written; the
    // writes themselves still refuse to overwrite should a file appear
    // meanwhile.
    for path in [&secret_path, &public_path] {
        if path.exists() {
            return Err(KeyError::AlreadyExists {
                path: path.to_path_buf(),
            }
            .into());
        }
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let pair = VendorKeyPair::generate()?;
    pair.save(&secret_path)?;
    pair.public().save(&public_path)?;
    let key_id = pair.public().key_id();
    Ok(Report {
        text: format!(
            "vendor key {key_id}\n  \
             secret: {} (mode 0600: keep it private and backed up)\n  \
             public: {} (give it to hosts to trust)\n",
            secret_path.display(),
            public_path.display()
        ),
        json: json!({
            "key_id": key_id,
            "secret_key": secret_path,
            "public_key": public_path,
        }),
    })
}

pub(crate) fn issue(args: IssueArgs) -> anyhow::Result<Report> {
    let key = VendorKeyPair::load(&args.key)?;
    let today = today_utc();
    let request = LicenseRequest {
        id: args.id,
        plugin: args.plugin,
        versions: args.versions,
        licensee: args.licensee,
        installation: args.installation,
        not_before: args.not_before.unwrap_or(today),
        expires: args.expires,
        issued_at: today,
        limits: Limits {
            max_companies: args.max_companies,
            max_terminals: args.max_terminals,
        },
    };
    let signed = h2h_license::issue(&key, request)?;
    let toml = signed.to_toml();
    let license = signed.license();
    let text = match &args.out {
        Some(path) => {
            write_new(path, &toml)?;
            format!(
                "license {} for {} {} written to {}\n",
                license.id,
                license.plugin,
                license.versions,
                path.display()
            )
        }
        None => toml.clone(),
    };
    Ok(Report {
        text,
        json: json!({ "file": args.out, "license": license, "toml": toml }),
    })
}

pub(crate) fn verify(args: VerifyArgs) -> anyhow::Result<Report> {
    let signed = read_license(&args.file)?;
    let trusted = args
        .trust
        .iter()
        .map(|path| VendorPublicKey::load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let today = args.today.unwrap_or_else(today_utc);
    let context = VerifyContext {
        installation_id: args.installation,
        plugin_id: args.plugin,
        plugin_version: args.version,
        today,
    };
    let verified = h2h_license::verify(&signed, &trusted, &context)?;
    let license = verified.license();
    let days_left = verified.days_left(today);
    let expires_soon = verified.expires_within(EXPIRY_WARNING_DAYS);
    let mut text = format!(
        "valid: license {} lets {} {} run on installation {}\n",
        license.id, license.plugin, context.plugin_version, license.installation
    );
    text.push_str(&describe(license, Some(days_left)));
    if expires_soon {
        text.push_str(&format!(
            "warning: the license ends in {days_left} days; its last valid day is {}\n",
            format_date(license.expires)
        ));
    }
    Ok(Report {
        text,
        json: json!({
            "valid": true,
            "days_left": days_left,
            "expires_soon": expires_soon,
            "license": license,
        }),
    })
}

pub(crate) fn show(file: &Path) -> anyhow::Result<Report> {
    let signed = read_license(file)?;
    let license = signed.license();
    let mut text = format!(
        "license {} (format {}; signature not checked, use `verify` for that)\n",
        license.id, license.format
    );
    text.push_str(&describe(license, None));
    Ok(Report {
        text,
        json: serde_json::to_value(license)?,
    })
}

/// The payload as aligned `name: value` lines.
fn describe(license: &License, days_left: Option<i64>) -> String {
    let period = format!(
        "{} through {}{}",
        format_date(license.not_before),
        format_date(license.expires),
        days_left.map_or(String::new(), |days| format!(" ({days} days left)"))
    );
    let cap = |limit: Option<u32>, what: &str| match limit {
        Some(n) => format!("at most {n} {what}"),
        None => format!("unlimited {what}"),
    };
    let limits = format!(
        "{}, {}",
        cap(license.limits.max_companies, "companies"),
        cap(license.limits.max_terminals, "terminals")
    );
    let rows = [
        ("plugin", license.plugin.clone()),
        ("versions", license.versions.to_string()),
        ("licensee", license.licensee.clone()),
        ("installation", license.installation.clone()),
        ("valid", period),
        ("limits", limits),
        ("issued at", format_date(license.issued_at)),
        ("vendor key", license.vendor_key.clone()),
    ];
    rows.iter()
        .map(|(name, value)| format!("  {:<13} {value}\n", format!("{name}:")))
        .collect()
}

fn read_license(path: &Path) -> anyhow::Result<SignedLicense> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(SignedLicense::from_toml(&text)?)
}

/// Writes a license file, refusing to replace one: an admin may already
/// have uploaded it, and a second issue would have another id.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn today_utc() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}
