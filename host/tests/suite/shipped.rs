//! Setting up a shipped bank connector as an admin would, against a
//! simulated bank over mutual TLS with a SoftHSM2 card: shared by the
//! connectors' end-to-end tests.

use crate::admin::Fixture;
use crate::softhsm::SoftHsm;
use h2h_host::packages::pack::{with_extra_origins, write_package};
use h2h_host::pkcs11::SlotSelector;

/// The connector: its manifest, README and built component.
pub struct Connector<'a> {
    pub plugin: &'a str,
    pub manifest: &'a str,
    pub readme: &'a str,
    pub wasm: &'a str,
    /// The permissions `anna` gets.
    pub permissions: &'a [&'a str],
}

/// The simulated bank: where it listens and what its client needs.
pub struct Bank<'a> {
    pub url: &'a str,
    pub ca_pem: &'a str,
    pub transport_cert_pem: &'a str,
    pub transport_key_pem: &'a str,
}

/// Packs the connector (the bank's origin added to its allow-list),
/// uploads, licenses and installs it; company `acme` with `settings`, a
/// loopback grant, the bank's CA and the transport certificate; SoftHSM
/// token `token` registered and granted; ERP user `anna` acting for acme
/// with the connector's permissions. The host's own scheduler is paused
/// for the connector: the tests move the bot and the syncs themselves.
pub async fn deliver(
    fx: &Fixture,
    hsm: &SoftHsm,
    connector: &Connector<'_>,
    bank: &Bank<'_>,
    settings: &[(&str, &str)],
    token: &str,
) {
    let plugin = connector.plugin;
    let admin = &fx.host.admin;
    let manifest = with_extra_origins(connector.manifest, &[bank.url.to_owned()]).expect("origin");
    let wasm = std::fs::read(connector.wasm).expect("connector built");
    let zip = write_package(
        &manifest,
        &wasm,
        Some(connector.readme),
        None,
        Some(&fx.key),
    )
    .expect("pack");
    admin.upload(&fx.actor, &zip).await.expect("upload");
    fx.add_license(plugin).await;
    admin
        .install(&fx.actor, plugin, None)
        .await
        .expect("install");
    fx.company("acme").await;
    for (name, value) in settings.iter().copied().chain([("api-url", bank.url)]) {
        admin
            .set_setting(&fx.actor, "acme", plugin, name, value)
            .await
            .expect("setting");
    }
    admin
        .allow_private_host(
            &fx.actor,
            plugin,
            bank.url.trim_start_matches("https://"),
            true,
        )
        .await
        .expect("loopback grant");
    admin
        .set_extra_ca(&fx.actor, plugin, Some(bank.ca_pem))
        .await
        .expect("the bank's CA");
    admin
        .add_tls_identity(
            &fx.actor,
            "acme",
            plugin,
            "transport",
            bank.transport_cert_pem,
            bank.transport_key_pem,
        )
        .await
        .expect("transport certificate");
    admin
        .register_token(
            &fx.actor,
            token,
            &hsm.module,
            Some(SlotSelector::Label(token.to_owned())),
        )
        .await
        .expect("token");
    admin
        .grant_signing(&fx.actor, token, plugin)
        .await
        .expect("signing grant");
    admin
        .add_erp_user(&fx.actor, "anna", "Anna Księgowa", None)
        .await
        .expect("user");
    admin
        .grant_company(&fx.actor, "anna", "acme", false)
        .await
        .expect("company");
    for permission in connector.permissions {
        admin
            .grant_permission(&fx.actor, "anna", plugin, permission)
            .await
            .expect("permission");
    }
    for task in ["bank-session-bot", "sync-statements"] {
        admin
            .pause_task(&fx.actor, plugin, task, true)
            .await
            .expect("pause");
    }
}
