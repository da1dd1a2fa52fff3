//! The PKO BP part: the simulated Integra service over mutual TLS, the
//! connector delivered like Privat24, company `demo`'s ContextId, transport
//! certificate and account, the demo card granted to the connector, and a
//! session opened with the card's PIN the way an ERP user opens one. The
//! first statement sync then reads MT940 from the bank.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::Utc;
use h2h_host::admin::{Actor, AdminError};
use h2h_host::pkcs11::{SlotSelector, TokenError};
use h2h_host::runtime::model::bank::{LoginMethod, SessionState};
use h2h_host::serve::Host;
use h2h_host::sessions::{HostSigning, OpenRequest};
use h2h_host::settlements::{BankAccount, Settlements, SettlementsError};
use h2h_license::VendorKeyPair;
use h2h_pkobp_sim::{DEMO_CONTEXT_ID, Running, Simulator};
use secrecy::SecretString;

use crate::card::{self, Card};
use crate::package;
use crate::setup::{COMPANY, ERP_USER, step};
use h2h_host::dev::DevDir;

/// The connector's plugin id.
pub const PLUGIN: &str = "pkobp";
/// The demo company's account at the simulated PKO BP.
pub const ACCOUNT: &str = "demo-pln";
/// The demo user's id at the bank.
const BANK_USER: &str = "JKOWALSKI";
const LICENSE_ID: &str = "demo-pkobp";
const PERMISSIONS: [&str; 3] = ["pko-session", "pko-statements", "pko-export"];
/// The name the connector asks the transport certificate by.
const TRANSPORT: &str = "transport";

/// Starts the simulated PKO BP: five days of statement lines ending today.
pub async fn start_bank(listen: SocketAddr) -> Result<Running> {
    Simulator::builder()
        .today(Utc::now().date_naive())
        .days(5)
        .build()
        .context("building the simulated PKO BP")?
        .start(&listen.to_string())
        .await
        .with_context(|| format!("starting the simulated PKO BP on {listen}"))
}

/// What the PKO part needs from outside.
pub struct Inputs<'a> {
    /// Signs the package and the license.
    pub key: &'a VendorKeyPair,
    /// The demo's own files.
    pub demo_dir: &'a DevDir,
    /// The connector crate.
    pub plugin_dir: &'a Path,
    /// The simulated bank.
    pub bank: &'a Running,
    /// The smart card.
    pub card: &'a Card,
}

/// Delivers and configures the connector and opens the demo user's
/// session.
pub async fn prepare(host: &Host, actor: &Actor, inputs: &Inputs<'_>) -> Result<()> {
    let bank_url = inputs.bank.url();
    package::deliver(
        host,
        actor,
        &package::Delivery {
            plugin: PLUGIN,
            plugin_dir: inputs.plugin_dir,
            key: inputs.key,
            demo_dir: inputs.demo_dir,
            bank_url: &bank_url,
            license_id: LICENSE_ID,
        },
    )
    .await?;
    configure(host, actor, inputs, &bank_url).await?;
    card_and_user(host, actor, inputs).await?;
    account(host, inputs).await?;
    open_session(host, actor, inputs).await
}

async fn configure(host: &Host, actor: &Actor, inputs: &Inputs<'_>, bank_url: &str) -> Result<()> {
    let admin = &host.admin;
    for (name, value) in [("context-id", DEMO_CONTEXT_ID), ("api-url", bank_url)] {
        admin
            .set_setting(actor, COMPANY, PLUGIN, name, value)
            .await
            .with_context(|| format!("setting {PLUGIN} `{name}` for {COMPANY}"))?;
    }
    // The bank makes a new test PKI at every start: trust its CA and take
    // its transport certificate anew.
    let bank = &inputs.bank.handle;
    let transport = bank.client_identity();
    admin
        .add_tls_identity(
            actor,
            COMPANY,
            PLUGIN,
            TRANSPORT,
            &transport.cert_pem,
            &transport.key_pem,
        )
        .await
        .context("storing the transport certificate")?;
    admin
        .set_extra_ca(actor, PLUGIN, Some(&bank.ca_pem()))
        .await
        .context("trusting the simulated bank's CA")?;
    let host_port = bank_url.trim_start_matches("https://");
    admin
        .allow_private_host(actor, PLUGIN, host_port, true)
        .await
        .with_context(|| format!("letting {PLUGIN} reach {host_port} on loopback"))?;
    step(
        "settings",
        format!(
            "{PLUGIN} ContextId {DEMO_CONTEXT_ID}, {bank_url} (mutual TLS, transport certificate {})",
            transport.subject
        ),
    );
    Ok(())
}

async fn card_and_user(host: &Host, actor: &Actor, inputs: &Inputs<'_>) -> Result<()> {
    let admin = &host.admin;
    match admin
        .register_token(
            actor,
            card::TOKEN,
            &inputs.card.module,
            Some(SlotSelector::Label(card::TOKEN.to_owned())),
        )
        .await
    {
        Ok(_) | Err(AdminError::Token(TokenError::TokenExists(_))) => {}
        Err(e) => return Err(e).context("registering the demo card"),
    }
    admin
        .grant_signing(actor, card::TOKEN, PLUGIN)
        .await
        .context("letting the connector sign with the demo card")?;
    for permission in PERMISSIONS {
        admin
            .grant_permission(actor, ERP_USER, PLUGIN, permission)
            .await
            .with_context(|| format!("granting {PLUGIN}/{permission}"))?;
    }
    inputs
        .bank
        .handle
        .register_user(BANK_USER, &inputs.card.cert_der, &[DEMO_CONTEXT_ID])
        .context("registering the card's certificate at the bank")?;
    step(
        "card",
        format!(
            "SoftHSM2 token {} granted to {PLUGIN}; bank user {BANK_USER}; {ERP_USER} holds {}",
            card::TOKEN,
            PERMISSIONS.map(|p| format!("{PLUGIN}/{p}")).join(", ")
        ),
    );
    Ok(())
}

async fn account(host: &Host, inputs: &Inputs<'_>) -> Result<()> {
    let settlements = Settlements::new(host.db.clone());
    let iban = inputs
        .bank
        .handle
        .accounts()
        .first()
        .map(|a| a.iban.clone())
        .context("the simulated bank has no account")?;
    let wanted = BankAccount {
        id: ACCOUNT.to_owned(),
        company: COMPANY.to_owned(),
        plugin: PLUGIN.to_owned(),
        iban: iban.clone(),
        currency: "PLN".to_owned(),
        name: "Demo PLN (PKO BP simulator)".to_owned(),
    };
    let outcome = match settlements.add_account(&wanted).await {
        Ok(_) => "added",
        Err(SettlementsError::Exists(_)) => "exists",
        Err(e) => return Err(e).context("adding the PKO BP account"),
    };
    step("account", format!("{ACCOUNT} = {iban} PLN {outcome}"));
    Ok(())
}

async fn open_session(host: &Host, actor: &Actor, inputs: &Inputs<'_>) -> Result<()> {
    let connectors = host.connectors();
    let via = &*connectors;
    let sessions = host.sessions();
    // An earlier run's sessions belong to an earlier bank: close them.
    for old in sessions
        .list(Some(COMPANY), 100)
        .await
        .context("listing bank sessions")?
        .into_iter()
        .filter(|s| s.plugin == PLUGIN && s.state == SessionState::Active)
    {
        let _ = sessions.close(via, actor, old.id).await;
    }
    sessions
        .set_default_user(COMPANY, PLUGIN, ERP_USER)
        .await
        .context("naming the default authorizing user")?;
    let opened = sessions
        .open(
            via,
            ERP_USER,
            OpenRequest {
                plugin: PLUGIN.to_owned(),
                company: COMPANY.to_owned(),
                bank_user_id: BANK_USER.to_owned(),
                method: LoginMethod::Signature,
                company_ids: Vec::new(),
                valid_until: None,
                refresh_by_bot: true,
                host_signing: Some(HostSigning {
                    key: inputs.card.key.clone(),
                    pin: Some(SecretString::from(card::PIN)),
                    save_pin: true,
                }),
                certificate: None,
            },
        )
        .await
        .context("opening a PKO BP session with the demo card")?;
    step(
        "session",
        format!(
            "{BANK_USER} signed in with the card: session {} {:?}, refreshed by the bot every {} s",
            opened.id,
            opened.state,
            opened.refresh_every_seconds.unwrap_or_default()
        ),
    );
    Ok(())
}

/// Runs `pkobp/sync-statements` for the demo company now and prints what
/// came in.
pub async fn sync_now(host: &Host, user: &str) -> Result<()> {
    crate::sync::run_task(host, PLUGIN, Some(user)).await?;
    let settlements = Settlements::new(host.db.clone());
    let state = settlements
        .sync_state(ACCOUNT)
        .await
        .context("reading the sync state")?;
    let documents = settlements
        .documents(ACCOUNT, 1)
        .await
        .context("reading the kept files")?;
    if let (Some(balance), Some(file)) = (&state.balance_booked, documents.first()) {
        println!(
            "  {:<9} {ACCOUNT} booked balance {balance} PLN; MT940 kept as sent: {} ({} bytes, {})",
            "", file.name, file.size, file.media_type
        );
    }
    Ok(())
}
