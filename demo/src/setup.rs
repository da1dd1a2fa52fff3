//! Everything an admin and an ERP would do before the first statement sync,
//! through the host's library calls (the same ones the CLI and the admin
//! API make). Every step first looks at what is there, so a second run on
//! the same data directory reuses it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use h2h_host::admin::{Actor, AdminError, Role};
use h2h_host::serve::{Host, HostConfig};
use h2h_host::settlements::{
    BankAccount, MAX_LIMIT, Settlements, SettlementsError, TransactionFilter,
};
use h2h_license::VendorKeyPair;

use crate::bank::INVOICES;
use crate::package;
use h2h_host::dev::DevDir;

/// The connector's plugin id.
pub const PLUGIN: &str = "privat24";
/// The demo company.
pub const COMPANY: &str = "demo";
/// Its bank account at the simulated PrivatBank.
pub const ACCOUNT: &str = "demo-uah";
/// The ERP user the ERP acts for.
pub const ERP_USER: &str = "demo-user";
/// The demo license's id: the same on every run, so a new one replaces it.
const LICENSE_ID: &str = "demo-privat24";
/// The ERP API key's name.
const ERP_KEY_NAME: &str = "demo-erp";
/// The connector's permissions the ERP user gets.
const PERMISSIONS: [&str; 2] = ["sync-statements", "submit-transfers"];

/// What the setup needs from outside.
pub struct Inputs<'a> {
    /// The host's data directory.
    pub data_dir: &'a Path,
    /// `<data-dir>/demo`.
    pub demo_dir: &'a DevDir,
    /// The development vendor key.
    pub key: &'a VendorKeyPair,
    /// The connector's crate.
    pub plugin_dir: &'a Path,
    /// The simulated bank's base URL (`http://127.0.0.1:8089`).
    pub bank_url: &'a str,
    /// The merchant's API token (the simulator's fake demo value).
    pub bank_token: &'a str,
    /// The merchant's account.
    pub iban: &'a str,
    /// Its currency.
    pub currency: &'a str,
}

/// The host after setup.
pub struct Prepared {
    /// How it was opened (for `serve::start`).
    pub config: HostConfig,
    /// The opened host (for the sync on demand).
    pub host: Host,
    /// The ERP key's secret.
    pub erp_secret: String,
    /// The ERP user the ERP acts for.
    pub erp_user: &'static str,
    /// The highest bank reference the host stored for the demo account.
    pub last_reference: Option<u64>,
}

/// Prints one step's outcome.
pub fn step(what: &str, outcome: impl std::fmt::Display) {
    println!("  {what:<9} {outcome}");
}

/// Runs every step; see the crate docs for the list.
pub async fn prepare(inputs: Inputs<'_>) -> Result<Prepared> {
    let config = HostConfig::new(inputs.data_dir);
    let host = Host::open(&config)
        .await
        .with_context(|| format!("opening the host in {}", inputs.data_dir.display()))?;
    let actor = Actor::cli("h2h-demo");
    let admin = &host.admin;

    // The demo key is both the package publisher and the license vendor:
    // the host checks packages and licenses against the same trust store.
    let publisher = admin
        .trust_publisher(
            &actor,
            &inputs.key.public().to_armored(),
            "h2h demo (development key)",
        )
        .await
        .context("trusting the demo publisher key")?;
    step(
        "trust",
        format!(
            "publisher and license vendor key {} trusted",
            publisher.key_id
        ),
    );

    package::deliver(
        &host,
        &actor,
        &package::Delivery {
            plugin: PLUGIN,
            plugin_dir: inputs.plugin_dir,
            key: inputs.key,
            demo_dir: inputs.demo_dir,
            bank_url: inputs.bank_url,
            license_id: LICENSE_ID,
        },
    )
    .await?;

    company(&host, &actor).await?;
    for (name, value) in [("api-url", inputs.bank_url), ("token", inputs.bank_token)] {
        admin
            .set_setting(&actor, COMPANY, PLUGIN, name, value)
            .await
            .with_context(|| format!("setting {PLUGIN} `{name}` for {COMPANY}"))?;
    }
    step(
        "settings",
        format!(
            "{PLUGIN} api-url = {}, token sealed in the vault",
            inputs.bank_url
        ),
    );
    let host_port = inputs
        .bank_url
        .trim_start_matches("http://")
        .trim_end_matches('/');
    admin
        .allow_private_host(&actor, PLUGIN, host_port, true)
        .await
        .with_context(|| format!("letting {PLUGIN} reach {host_port} on loopback"))?;
    step(
        "grant",
        format!("{PLUGIN} may reach {host_port} (loopback)"),
    );

    let settlements = Settlements::new(host.db.clone());
    account(&settlements, &inputs).await?;
    receivables(&settlements).await?;
    settlements
        .set_auto_matching(COMPANY, true)
        .await
        .context("turning auto-matching on")?;
    step("matching", format!("auto-matching on for {COMPANY}"));

    let erp_secret = erp_key(&host, &actor, inputs.demo_dir).await?;
    admin_key(&host, &actor, inputs.demo_dir).await?;
    let erp_user = erp_user(&host, &actor).await?;
    Ok(Prepared {
        config,
        host,
        erp_secret,
        erp_user,
        last_reference: last_reference(&settlements).await?,
    })
}

async fn company(host: &Host, actor: &Actor) -> Result<()> {
    match host
        .admin
        .add_company(actor, COMPANY, "ТОВ \"ДЕМО ТРЕЙД\" (demo)", None)
        .await
    {
        Ok(_) => step("company", format!("{COMPANY} added")),
        Err(AdminError::CompanyExists(_)) => step("company", format!("{COMPANY} exists")),
        Err(e) => return Err(e).context("adding the demo company"),
    }
    Ok(())
}

async fn account(settlements: &Settlements, inputs: &Inputs<'_>) -> Result<()> {
    let wanted = BankAccount {
        id: ACCOUNT.to_owned(),
        company: COMPANY.to_owned(),
        plugin: PLUGIN.to_owned(),
        iban: inputs.iban.to_owned(),
        currency: inputs.currency.to_owned(),
        name: "Demo UAH (Privat24 simulator)".to_owned(),
    };
    match settlements.add_account(&wanted).await {
        Ok(_) => step(
            "account",
            format!("{ACCOUNT} = {} {} added", inputs.iban, inputs.currency),
        ),
        Err(SettlementsError::Exists(_)) => {
            let stored = settlements
                .account(ACCOUNT)
                .await
                .with_context(|| format!("reading bank account {ACCOUNT}"))?;
            if stored.iban != wanted.iban || stored.plugin != PLUGIN || stored.company != COMPANY {
                bail!(
                    "bank account {ACCOUNT} exists as {} of {} via {}, not the demo's {} of \
                     {COMPANY} via {PLUGIN}; use another --data-dir",
                    stored.iban,
                    stored.company,
                    stored.plugin,
                    wanted.iban
                );
            }
            step(
                "account",
                format!("{ACCOUNT} = {} {} exists", stored.iban, stored.currency),
            );
        }
        Err(e) => return Err(e).context("adding the demo bank account"),
    }
    Ok(())
}

/// Registers the demo invoices (an earlier run's stay as they are: open,
/// settled or flagged).
async fn receivables(settlements: &Settlements) -> Result<()> {
    for invoice in &INVOICES {
        let receivable = match settlements
            .add_receivable(
                COMPANY,
                invoice.number,
                invoice.amount,
                "UAH",
                invoice.counterparty,
            )
            .await
        {
            Ok(r) => r,
            Err(SettlementsError::Exists(_)) => settlements
                .receivable(COMPANY, invoice.number)
                .await
                .with_context(|| format!("reading invoice {}", invoice.number))?,
            Err(e) => return Err(e).with_context(|| format!("registering {}", invoice.number)),
        };
        step(
            "invoice",
            format!(
                "{} {} UAH from {}: {}",
                receivable.invoice_number,
                receivable.amount,
                receivable.counterparty,
                receivable.status
            ),
        );
    }
    Ok(())
}

/// The highest (numeric) bank reference stored for the demo account.
async fn last_reference(settlements: &Settlements) -> Result<Option<u64>> {
    let mut filter = TransactionFilter {
        limit: MAX_LIMIT,
        ..TransactionFilter::default()
    };
    let mut last = None;
    loop {
        let page = settlements
            .transactions(ACCOUNT, &filter)
            .await
            .context("reading the stored transactions")?;
        last = page
            .transactions
            .iter()
            .filter_map(|t| t.bank_reference.parse::<u64>().ok())
            .chain(last)
            .max();
        if !page.more {
            return Ok(last);
        }
        filter.after = page.next;
    }
}

/// The ERP's API key: the stored one while the host knows it, else a new
/// one, stored (0600) for the next run.
async fn erp_key(host: &Host, actor: &Actor, demo_dir: &DevDir) -> Result<String> {
    let (secret, said) = h2h_host::dev::ensure_key(host, actor, demo_dir, ERP_KEY_NAME, Role::Erp)
        .await
        .context("the demo's ERP API key")?;
    step("erp key", said);
    Ok(secret)
}

/// The console's development admin key, kept like the ERP's.
async fn admin_key(host: &Host, actor: &Actor, demo_dir: &DevDir) -> Result<()> {
    let (_, said) = h2h_host::dev::ensure_key(host, actor, demo_dir, "demo-admin", Role::Admin)
        .await
        .context("the demo's admin API key")?;
    step("admin key", said);
    Ok(())
}

/// The ERP user `demo-user` with access to the demo company and the
/// connector's permissions (statement sync, transfers).
async fn erp_user(host: &Host, actor: &Actor) -> Result<&'static str> {
    let admin = &host.admin;
    let added = match admin.add_erp_user(actor, ERP_USER, "Demo User", None).await {
        Ok(_) => "added",
        Err(AdminError::ErpUserExists(_)) => "exists",
        Err(e) => return Err(e).context("adding the demo ERP user"),
    };
    admin
        .grant_company(actor, ERP_USER, COMPANY, false)
        .await
        .with_context(|| format!("letting {ERP_USER} act for {COMPANY}"))?;
    let mut granted = Vec::new();
    for permission in PERMISSIONS {
        match admin
            .grant_permission(actor, ERP_USER, PLUGIN, permission)
            .await
        {
            Ok(_) => granted.push(format!("{PLUGIN}/{permission}")),
            // A connector version that no longer declares it: nothing to grant.
            Err(e @ AdminError::UnknownPermission { .. }) => {
                step("", format!("not granted: {e}"));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("granting {PLUGIN}/{permission}"));
            }
        }
    }
    step(
        "erp user",
        format!(
            "{ERP_USER} {added}, acts for {COMPANY}, holds {}",
            if granted.is_empty() {
                "no permissions".to_owned()
            } else {
                granted.join(", ")
            }
        ),
    );
    Ok(ERP_USER)
}

/// A connector crate in this checkout.
pub fn default_plugin_dir(plugin: &str) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR"));
    demo.parent().unwrap_or(demo).join("plugins").join(plugin)
}
