//! The card-terminal part: the simulated Mellon WebECR service, the
//! connector delivered like the bank ones, a terminal paired with the code
//! it shows, and one sale taken on it, approved as the device reports.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use h2h_host::admin::Actor;
use h2h_host::runtime::model::Money;
use h2h_host::runtime::model::pos::IntentKind;
use h2h_host::serve::Host;
use h2h_host::terminals::{NewIntent, PairRequest};
use h2h_license::VendorKeyPair;
use h2h_webecr_sim::{Running, Simulator, TerminalSpec};

use crate::package;
use crate::setup::{COMPANY, ERP_USER, step};
use h2h_host::dev::DevDir;

/// The connector's plugin id.
pub const PLUGIN: &str = "mellon";
const LICENSE_ID: &str = "demo-mellon";
/// The demo merchant's made-up WebECR account.
const USER: &str = "demo-merchant";
const PASSWORD: &str = "demo-password-not-secret";
const TID: &str = "12345678";
const MID: &str = "000000012345";

/// Starts the simulated WebECR service; a device approves in a second.
pub async fn start_service(listen: SocketAddr) -> Result<Running> {
    Simulator::builder()
        .account(USER, PASSWORD)
        .require_provider_data(false)
        .approval_time(Duration::from_secs(1))
        .build()
        .context("building the simulated WebECR service")?
        .start(&listen.to_string())
        .await
        .with_context(|| format!("starting the simulated WebECR service on {listen}"))
}

/// Delivers and configures the connector, pairs the demo terminal and
/// takes one sale on it.
pub async fn run(
    host: &Host,
    key: &VendorKeyPair,
    demo_dir: &DevDir,
    plugin_dir: &Path,
    service: &Running,
) -> Result<()> {
    let actor = Actor::cli("h2h-demo");
    let url = service.url();
    package::deliver(
        host,
        &actor,
        &package::Delivery {
            plugin: PLUGIN,
            plugin_dir,
            key,
            demo_dir,
            bank_url: &url,
            license_id: LICENSE_ID,
        },
    )
    .await?;
    let admin = &host.admin;
    for (name, value) in [
        ("base-url", url.as_str()),
        ("username", USER),
        ("password", PASSWORD),
    ] {
        admin
            .set_setting(&actor, COMPANY, PLUGIN, name, value)
            .await
            .with_context(|| format!("setting {PLUGIN} `{name}` for {COMPANY}"))?;
    }
    admin
        .set_extra_ca(&actor, PLUGIN, Some(&service.handle.ca_pem()))
        .await
        .context("trusting the simulated service's CA")?;
    let host_port = url.trim_start_matches("https://");
    admin
        .allow_private_host(&actor, PLUGIN, host_port, true)
        .await
        .with_context(|| format!("letting {PLUGIN} reach {host_port} on loopback"))?;
    for permission in ["pos-terminals", "pos-payments"] {
        admin
            .grant_permission(&actor, ERP_USER, PLUGIN, permission)
            .await
            .with_context(|| format!("granting {PLUGIN}/{permission}"))?;
    }

    let code = service
        .handle
        .issue_pairing_code(USER, TerminalSpec::new(TID, MID))
        .context("a pairing code from the simulated service")?
        .code;
    let connectors = host.connectors();
    let via = &*connectors;
    let terminals = host.terminals();
    let paired = terminals
        .pair(
            via,
            ERP_USER,
            &PairRequest {
                company: COMPANY.to_owned(),
                plugin: PLUGIN.to_owned(),
                code: code.clone(),
                payment_method: Some("card".to_owned()),
                replaces: None,
            },
        )
        .await
        .context("pairing the demo terminal")?;
    let terminal = paired.first().context("the device brought no terminal")?;
    step(
        "terminal",
        format!(
            "code {code} paired: terminal {} (TID {}, MID {}), its key sealed in the vault",
            terminal.id,
            terminal.terminal_id,
            terminal.merchant_id.as_deref().unwrap_or("-")
        ),
    );

    let reference = format!("DEMO-{}", chrono::Utc::now().timestamp());
    let (sale, _) = terminals
        .start_intent(
            via,
            ERP_USER,
            &NewIntent {
                company: COMPANY.to_owned(),
                terminal: terminal.id,
                kind: IntentKind::Sale,
                amount: Money {
                    amount: "12.40".to_owned(),
                    currency: "EUR".to_owned(),
                },
                reference: reference.clone(),
                original: None,
                // The demo's simulator asks for no e-invoicing data.
                e_invoicing: None,
            },
        )
        .await
        .context("starting the demo sale")?;
    // The device asks for the card and approves in a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sale = terminals
        .refresh_intent(via, ERP_USER, sale.id)
        .await
        .context("asking about the demo sale")?;
    step(
        "sale",
        format!(
            "12.40 EUR on terminal {} ({reference}): {} {} (card payment {})",
            terminal.id,
            sale.state,
            sale.result.as_deref().unwrap_or("-"),
            sale.id
        ),
    );
    Ok(())
}
