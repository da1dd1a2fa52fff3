//! Install, upgrade, rollback, licenses and packages through the admin
//! library, on SQLite and on PostgreSQL.

use crate::admin::{Fixture, manifest};
use h2h_host::admin::AdminError;
use h2h_host::connectors::{Registry, UnavailableError};
use h2h_host::db::testing::TestBackend;
use h2h_host::runtime::CallContext;
use h2h_test_plugins::{VERSIONED, VERSIONED_BROKEN, VERSIONED_V2, WELL_BEHAVED};
use semver::Version;
use serde_json::json;

async fn installed_v1(backend: TestBackend) -> Option<Fixture> {
    let fx = Fixture::new(backend).await?;
    fx.upload("versioned", "1.0.0", VERSIONED).await;
    fx.add_license("versioned").await;
    let report = fx
        .host
        .admin
        .install(&fx.actor, "versioned", None)
        .await
        .expect("install");
    assert_eq!(report.to, "1.0.0");
    assert_eq!(
        fx.stored("versioned", "greeting").await,
        Some(json!("hello"))
    );
    Some(fx)
}

async fn upgrade_migrates_data(backend: TestBackend) {
    let Some(fx) = installed_v1(backend).await else {
        return;
    };
    fx.upload("versioned", "1.1.0", VERSIONED_V2).await;
    let report = fx
        .host
        .admin
        .upgrade(&fx.actor, "versioned", None, false)
        .await
        .expect("upgrade");
    assert_eq!(
        (report.from.as_deref(), report.to.as_str()),
        (Some("1.0.0"), "1.1.0")
    );
    assert_eq!(
        fx.stored("versioned", "greeting").await,
        Some(json!("HELLO"))
    );
    assert_eq!(fx.stored("versioned", "format").await, Some(json!(2)));
    assert_eq!(
        fx.installed_version("versioned").await.as_deref(),
        Some("1.1.0")
    );
    assert!(!fx.host.admin.service_mode().await.expect("mode").active);
    assert_eq!(fx.count("journal").await, 0);
    assert_eq!(fx.count("plugin_kv_backup").await, 0);
    let actions: Vec<(String, String)> = fx
        .host
        .admin
        .audit(0, 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| (e.action, e.outcome))
        .collect();
    for expected in [
        "publisher.trust",
        "package.upload",
        "license.add",
        "plugin.install",
        "plugin.upgrade",
    ] {
        assert!(
            actions.contains(&(expected.to_owned(), "ok".to_owned())),
            "{expected} missing from {actions:?}"
        );
    }
    fx.finish().await;
}
on_both_databases!(upgrade_migrates_data);

async fn failed_migration_keeps_previous_version_and_data(backend: TestBackend) {
    let Some(fx) = installed_v1(backend).await else {
        return;
    };
    fx.upload("versioned", "1.1.0", VERSIONED_BROKEN).await;
    let error = fx
        .host
        .admin
        .upgrade(&fx.actor, "versioned", None, false)
        .await
        .expect_err("the migration fails");
    assert_eq!(error.kind(), "lifecycle_failed");
    assert_eq!(
        error.to_string(),
        "versioned 1.1.0: migrate failed, rolled back and the previous state was kept: \
         plugin `versioned` lifecycle.migrate: rejected by the provider: greeting cannot be converted"
    );
    // The broken step wrote format 2 before failing: the backup undid it.
    assert_eq!(fx.stored("versioned", "format").await, Some(json!(1)));
    assert_eq!(
        fx.stored("versioned", "greeting").await,
        Some(json!("hello"))
    );
    assert_eq!(
        fx.installed_version("versioned").await.as_deref(),
        Some("1.0.0")
    );
    assert!(!fx.host.admin.service_mode().await.expect("mode").active);
    assert_eq!(fx.count("journal").await, 0);

    // 1.0.0 still serves.
    let registry = Registry::new(
        fx.host.db.clone(),
        fx.host.admin.vault().clone(),
        fx.host.runtime.clone(),
    );
    let loaded = registry.get("versioned").await.expect("still callable");
    assert_eq!(loaded.version, Version::new(1, 0, 0));
    loaded
        .plugin
        .run_task(CallContext::default(), "ping")
        .await
        .expect("1.0.0 answers");
    assert_eq!(fx.stored("versioned", "pinged").await, Some(json!(true)));

    let last = fx
        .host
        .admin
        .audit(0, 100)
        .await
        .expect("audit")
        .pop()
        .expect("entry");
    assert_eq!(
        (last.action.as_str(), last.outcome.as_str()),
        ("plugin.upgrade", "lifecycle_failed")
    );
    fx.finish().await;
}
on_both_databases!(failed_migration_keeps_previous_version_and_data);

async fn downgrade_needs_force(backend: TestBackend) {
    let Some(fx) = installed_v1(backend).await else {
        return;
    };
    fx.upload("versioned", "0.9.0", VERSIONED).await;
    let error = fx
        .host
        .admin
        .upgrade(&fx.actor, "versioned", Some(Version::new(0, 9, 0)), false)
        .await
        .expect_err("refused");
    assert_eq!(
        error.to_string(),
        "versioned: 0.9.0 is not newer than the installed 1.0.0; a downgrade needs --force"
    );
    let same = fx
        .host
        .admin
        .upgrade(&fx.actor, "versioned", Some(Version::new(1, 0, 0)), false)
        .await
        .expect_err("same version");
    assert_eq!(same.kind(), "same_version");
    assert_eq!(
        fx.installed_version("versioned").await.as_deref(),
        Some("1.0.0")
    );
    fx.finish().await;
}
on_both_databases!(downgrade_needs_force);

async fn install_refusals(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let admin = &fx.host.admin;
    let not_uploaded = admin
        .install(&fx.actor, "versioned", None)
        .await
        .expect_err("none");
    assert_eq!(
        not_uploaded.to_string(),
        "no package of versioned has been uploaded"
    );

    fx.upload("versioned", "1.0.0", VERSIONED).await;
    let unlicensed = admin
        .install(&fx.actor, "versioned", None)
        .await
        .expect_err("unlicensed");
    assert_eq!(
        unlicensed.to_string(),
        "versioned 1.0.0 has no valid license: no license for it has been added"
    );

    // A license for 2.x only: added (2.x may come later) but not enough.
    let text = fx.license("versioned", "^2", 1, 365).await;
    admin
        .add_license(&fx.actor, &text)
        .await
        .expect_err("outside the uploaded 1.0.0");
    assert_eq!(fx.count("licenses").await, 0);

    let needs = manifest("needs", "1.0.0", "\n[requires]\nversioned = \"^1\"\n");
    admin
        .upload(&fx.actor, &fx.package_with(&needs, VERSIONED))
        .await
        .expect("upload");
    fx.add_license("needs").await;
    let missing = admin
        .install(&fx.actor, "needs", None)
        .await
        .expect_err("requires");
    assert_eq!(
        missing.to_string(),
        "needs requires versioned ^1: versioned is not installed"
    );
    assert!(fx.installed_version("needs").await.is_none());

    fx.add_license("versioned").await;
    admin
        .install(&fx.actor, "versioned", None)
        .await
        .expect("install");
    admin
        .install(&fx.actor, "needs", None)
        .await
        .expect("now satisfied");
    let again = admin
        .install(&fx.actor, "needs", None)
        .await
        .expect_err("twice");
    assert_eq!(
        again.to_string(),
        "needs 1.0.0 is already installed; use upgrade"
    );
    let breaks = admin
        .uninstall(&fx.actor, "versioned", false)
        .await
        .expect_err("needed");
    assert_eq!(breaks.kind(), "requirement_not_met");
    fx.finish().await;
}
on_both_databases!(install_refusals);

async fn bad_licenses_are_refused_and_not_stored(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    fx.upload("versioned", "1.0.0", VERSIONED).await;
    let admin = &fx.host.admin;
    let installation = admin.installation_id().await.expect("id");
    let cases = [
        (fx.license("versioned", "*", 30, -1).await, "expired"),
        (fx.license("versioned", "*", -2, 30).await, "not_yet_valid"),
        (
            fx.license_for("h2h-somewhere-else", "versioned", "*", 1, 30),
            "other_installation",
        ),
        (
            fx.license("versioned", "^2", 1, 30).await,
            "version_outside_range",
        ),
        (
            fx.license("versioned", "*", 1, 30)
                .await
                .replace("ACME", "EVIL"),
            "bad_signature",
        ),
    ];
    for (text, kind) in cases {
        let error = admin.add_license(&fx.actor, &text).await.expect_err(kind);
        assert_eq!(error.kind(), kind, "{error}");
        assert!(
            error.to_string().starts_with("license refused: "),
            "{error}"
        );
    }
    let stranger = h2h_license::VendorKeyPair::generate().expect("key");
    let foreign = h2h_license::issue(
        &stranger,
        h2h_license::SignedLicense::from_toml(&fx.license("versioned", "*", 1, 30).await)
            .map(|s| request_of(s.license(), &installation))
            .expect("parse"),
    )
    .expect("issue")
    .to_toml();
    let error = admin
        .add_license(&fx.actor, &foreign)
        .await
        .expect_err("unknown key");
    assert_eq!(error.kind(), "unknown_vendor_key");
    assert_eq!(fx.count("licenses").await, 0);

    let expiring = fx.license("versioned", "*", 1, 10).await;
    let info = admin
        .add_license(&fx.actor, &expiring)
        .await
        .expect("valid");
    assert_eq!((info.status, info.days_left), ("expiring", 10));
    fx.finish().await;
}
on_both_databases!(bad_licenses_are_refused_and_not_stored);

/// A license's `max-companies` holds: a company starts using the plugin
/// (its first setting, secret or bank account) only while fewer use it;
/// a company already served keeps configuring it.
async fn max_companies_caps_the_companies_a_plugin_serves(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let admin = &fx.host.admin;
    let settings = "[[settings]]\nname = \"context-id\"\ntype = \"string\"\ndescription = \"Id.\"\n\n\
                    [[settings]]\nname = \"token\"\ntype = \"secret\"\ndescription = \"Token.\"\n";
    fx.upload_with(
        &manifest("ticker", "1.0.0", settings),
        h2h_test_plugins::TICKER,
    )
    .await;
    let installation = admin.installation_id().await.expect("id");
    let license = fx.license_with(
        &installation,
        "ticker",
        "*",
        1,
        365,
        h2h_license::Limits {
            max_companies: Some(2),
            ..h2h_license::Limits::default()
        },
    );
    admin
        .add_license(&fx.actor, &license)
        .await
        .expect("license");
    admin
        .install(&fx.actor, "ticker", None)
        .await
        .expect("install");
    for company in ["acme", "globex", "initech"] {
        fx.company(company).await;
    }
    admin
        .set_setting(&fx.actor, "acme", "ticker", "context-id", "A")
        .await
        .expect("first company");
    admin
        .set_setting(&fx.actor, "globex", "ticker", "token", "tok-not-real")
        .await
        .expect("second company, by a secret");
    let refused = admin
        .set_setting(&fx.actor, "initech", "ticker", "context-id", "I")
        .await
        .expect_err("a third company");
    assert_eq!(refused.kind(), "company_cap_reached");
    assert_eq!(
        refused.to_string(),
        "the license of ticker allows 2 companies and 2 already use it: company `initech` cannot \
         be configured for it (a license with a higher max-companies, or removing another \
         company's settings, makes room)"
    );
    admin
        .set_setting(&fx.actor, "acme", "ticker", "token", "tok-acme")
        .await
        .expect("a served company keeps configuring it");

    let settlements = h2h_host::settlements::Settlements::new(fx.host.db.clone());
    let account = |id: &str, company: &str| h2h_host::settlements::BankAccount {
        id: id.to_owned(),
        company: company.to_owned(),
        plugin: "ticker".to_owned(),
        iban: "PL61109010140000071219812874".to_owned(),
        currency: "PLN".to_owned(),
        name: "Main".to_owned(),
    };
    let refused = settlements
        .add_account(&account("initech-main", "initech"))
        .await
        .expect_err("an account for a third company");
    assert_eq!(refused.kind(), "company_cap_reached");
    settlements
        .add_account(&account("acme-main", "acme"))
        .await
        .expect("an account for a served company");
    assert_eq!(fx.count("company_settings").await, 1);
    fx.finish().await;
}
on_both_databases!(max_companies_caps_the_companies_a_plugin_serves);

fn request_of(license: &h2h_license::License, installation: &str) -> h2h_license::LicenseRequest {
    h2h_license::LicenseRequest {
        id: None,
        plugin: license.plugin.clone(),
        versions: license.versions.clone(),
        licensee: license.licensee.clone(),
        installation: installation.to_owned(),
        not_before: license.not_before,
        expires: license.expires,
        issued_at: license.issued_at,
        limits: license.limits,
    }
}

async fn uploads_validate_before_storing(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let admin = &fx.host.admin;
    let good = fx.package("versioned", "1.0.0", VERSIONED);

    let garbage = admin
        .upload(&fx.actor, b"not a zip at all")
        .await
        .expect_err("garbage");
    assert_eq!(garbage.kind(), "not_a_zip");

    let stranger = h2h_license::VendorKeyPair::generate().expect("key");
    let wasm = std::fs::read(VERSIONED).expect("wasm");
    let foreign = h2h_host::packages::pack::write_package(
        &manifest("versioned", "1.0.0", ""),
        &wasm,
        None,
        None,
        Some(&stranger),
    )
    .expect("package");
    let unknown = admin
        .upload(&fx.actor, &foreign)
        .await
        .expect_err("unknown publisher");
    assert_eq!(unknown.kind(), "unknown_publisher");

    let bad_manifest = fx.unchecked_package(&manifest("versioned", "one", ""), VERSIONED);
    let error = admin
        .upload(&fx.actor, &bad_manifest)
        .await
        .expect_err("semver");
    assert_eq!(
        error.to_string(),
        "package refused: h2h.toml line 3: `version`: not semver: unexpected character 'o' while parsing major version number"
    );

    let http_without_grant = fx.unchecked_package(&manifest("behaved", "1.0.0", ""), WELL_BEHAVED);
    let error = admin
        .upload(&fx.actor, &http_without_grant)
        .await
        .expect_err("imports http");
    assert_eq!(
        error.to_string(),
        "package refused: plugin.wasm imports `h2h:connector/http@2.0.0` but h2h.toml does not declare an HTTP allow-list (`capabilities.http`)"
    );
    assert_eq!(fx.count("packages").await, 0);

    let stored = admin.upload(&fx.actor, &good).await.expect("good");
    assert!(stored.stored);
    let again = admin.upload(&fx.actor, &good).await.expect("idempotent");
    assert!(!again.stored);
    let different = fx.package("versioned", "1.0.0", VERSIONED_V2);
    let conflict = admin
        .upload(&fx.actor, &different)
        .await
        .expect_err("conflict");
    assert_eq!(conflict.kind(), "conflicting_upload");
    assert_eq!(fx.count("packages").await, 1);
    fx.finish().await;
}
on_both_databases!(uploads_validate_before_storing);

/// A plugin id belongs to the key of its first signed upload: another
/// trusted publisher cannot ship its next version, an unsigned package
/// cannot replace it, and only an audited admin act hands it over.
async fn plugins_are_pinned_to_their_publisher(backend: TestBackend) {
    let Some(fx) = Fixture::new(backend).await else {
        return;
    };
    let admin = &fx.host.admin;
    let ours = fx.key.public().key_id();
    fx.upload("versioned", "1.0.0", VERSIONED).await;
    let pins = admin.publisher_pins().await.expect("pins");
    assert_eq!(pins.len(), 1);
    assert_eq!(
        (
            pins[0].plugin.as_str(),
            pins[0].key_id.as_str(),
            pins[0].pinned_by.as_str()
        ),
        ("versioned", ours.as_str(), "cli:tester")
    );

    // Another publisher the host trusts.
    let other = h2h_license::VendorKeyPair::generate().expect("key");
    let theirs = other.public().key_id();
    admin
        .trust_publisher(&fx.actor, &other.public().to_armored(), "other publisher")
        .await
        .expect("trust");
    let wasm = std::fs::read(VERSIONED_V2).expect("wasm");
    let hijack = h2h_host::packages::pack::write_package(
        &manifest("versioned", "2.0.0", ""),
        &wasm,
        None,
        None,
        Some(&other),
    )
    .expect("package");
    let refused = admin.upload(&fx.actor, &hijack).await.expect_err("pinned");
    assert_eq!(refused.kind(), "publisher_mismatch");
    assert_eq!(
        refused.to_string(),
        format!(
            "versioned is published under key {ours}; a package signed by {theirs} cannot ship it \
             (an admin hands the plugin to another publisher with `h2h publisher pin`)"
        )
    );
    assert_eq!(fx.count("packages").await, 1);

    // A development host takes unsigned packages, but not in a pinned id.
    let dev_config = h2h_host::serve::HostConfig {
        admin: h2h_host::admin::AdminSettings {
            allow_untrusted_packages: true,
            ..fx.config.admin.clone()
        },
        ..fx.config.clone()
    };
    let dev = h2h_host::serve::Host::open(&dev_config)
        .await
        .expect("dev host");
    let unsigned = |id: &str, version: &str| {
        h2h_host::packages::pack::write_package(&manifest(id, version, ""), &wasm, None, None, None)
            .expect("package")
    };
    let refused = dev
        .admin
        .upload(&fx.actor, &unsigned("versioned", "2.0.0"))
        .await
        .expect_err("unsigned in a pinned id");
    assert_eq!(refused.kind(), "publisher_mismatch");
    assert!(
        refused
            .to_string()
            .contains("an unsigned package cannot ship it")
    );

    // An unsigned upload made on a development host installs only there.
    dev.admin
        .upload(&fx.actor, &unsigned("drafted", "1.0.0"))
        .await
        .expect("unsigned upload on a development host");
    fx.add_license("drafted").await;
    let refused = admin
        .install(&fx.actor, "drafted", None)
        .await
        .expect_err("unsigned on a production host");
    assert_eq!(refused.kind(), "unsigned_package");
    assert_eq!(
        refused.to_string(),
        "drafted 1.0.0 is unsigned; only a development host (--allow-untrusted-packages) installs unsigned packages"
    );
    assert_eq!(fx.installed_version("drafted").await, None);
    dev.admin
        .install(&fx.actor, "drafted", None)
        .await
        .expect("a development host installs it");
    assert!(
        admin
            .publisher_pins()
            .await
            .expect("pins")
            .iter()
            .all(|p| p.plugin != "drafted"),
        "an unsigned upload pins nothing"
    );

    // Handing the plugin over: only to a trusted key, only for an uploaded id.
    let unknown = admin
        .pin_publisher(&fx.actor, "versioned", "0123456789abcdef")
        .await
        .expect_err("untrusted key");
    assert_eq!(unknown.kind(), "invalid_input");
    let nothing = admin
        .pin_publisher(&fx.actor, "nothing", &theirs)
        .await
        .expect_err("no such plugin");
    assert_eq!(nothing.kind(), "not_uploaded");
    let pin = admin
        .pin_publisher(&fx.actor, "versioned", &theirs)
        .await
        .expect("re-pin");
    assert_eq!(
        (pin.key_id.as_str(), pin.pinned_by.as_str()),
        (theirs.as_str(), "cli:tester")
    );
    let audit = admin.audit(0, 1000).await.expect("audit");
    let entry = audit
        .iter()
        .find(|e| e.action == "plugin.publisher-pin" && e.outcome == "ok")
        .expect("audited");
    assert_eq!(entry.detail, format!("pinned to {theirs} (was {ours})"));

    // Now the other publisher ships it, and what the first one signed no
    // longer installs.
    admin.upload(&fx.actor, &hijack).await.expect("handed over");
    fx.add_license("versioned").await;
    let refused = admin
        .install(&fx.actor, "versioned", Some(Version::new(1, 0, 0)))
        .await
        .expect_err("signed by the former publisher");
    assert_eq!(refused.kind(), "publisher_mismatch");
    let report = admin
        .install(&fx.actor, "versioned", Some(Version::new(2, 0, 0)))
        .await
        .expect("the new publisher's version installs");
    assert_eq!(report.to, "2.0.0");
    dev.db.close().await;
    fx.finish().await;
}
on_both_databases!(plugins_are_pinned_to_their_publisher);

async fn uninstall_keeps_data_unless_purged(backend: TestBackend) {
    let Some(fx) = installed_v1(backend).await else {
        return;
    };
    let admin = &fx.host.admin;
    let registry = Registry::new(
        fx.host.db.clone(),
        fx.host.admin.vault().clone(),
        fx.host.runtime.clone(),
    );

    admin
        .disable(&fx.actor, "versioned")
        .await
        .expect("disable");
    assert!(matches!(
        registry.get("versioned").await,
        Err(UnavailableError::Disabled(_))
    ));
    admin.enable(&fx.actor, "versioned").await.expect("enable");
    registry.get("versioned").await.expect("enabled again");

    admin
        .uninstall(&fx.actor, "versioned", false)
        .await
        .expect("uninstall");
    assert!(matches!(
        registry.get("versioned").await,
        Err(UnavailableError::NotInstalled(_))
    ));
    assert_eq!(
        fx.stored("versioned", "greeting").await,
        Some(json!("hello"))
    );

    admin
        .install(&fx.actor, "versioned", None)
        .await
        .expect("reinstall");
    admin
        .uninstall(&fx.actor, "versioned", true)
        .await
        .expect("purge");
    assert_eq!(fx.stored("versioned", "greeting").await, None);
    let error = admin
        .uninstall(&fx.actor, "versioned", true)
        .await
        .expect_err("gone");
    assert!(matches!(error, AdminError::NotInstalled(_)));
    fx.finish().await;
}
on_both_databases!(uninstall_keeps_data_unless_purged);

/// The installation id is sealed in the vault: an id edited in `host_meta`
/// (to borrow another installation's license) is refused, as is a database
/// opened under another vault key (a copy); `renew` gives a copy its own id
/// (audited), after which licenses for the old one no longer serve. A
/// database from before sealing keeps its id once; a hand-written unsealed
/// id is replaced.
async fn the_installation_id_is_sealed_to_this_host(backend: TestBackend) {
    let Some(fx) = installed_v1(backend).await else {
        return;
    };
    let admin = &fx.host.admin;
    let ours = admin.installation_id().await.expect("id");
    assert_eq!(admin.installation_id().await.expect("again"), ours);
    let set_row = |value: &'static str| {
        let db = fx.host.db.clone();
        async move {
            sqlx::query("UPDATE host_meta SET value = $1 WHERE key = 'installation-id'")
                .bind(value)
                .execute(db.pool())
                .await
                .expect("edit the row");
        }
    };
    let registry = || {
        Registry::new(
            fx.host.db.clone(),
            admin.vault().clone(),
            fx.host.runtime.clone(),
        )
    };

    // Another installation's license, with the row edited to its id.
    let theirs = "h2h-00000000000000000000000000000001";
    set_row(theirs).await;
    let edited = admin.installation_id().await.expect_err("edited");
    assert_eq!(edited.kind(), "installation_edited");
    assert!(edited.to_string().contains(&ours), "{edited}");
    let borrowed = fx.license_for(theirs, "versioned", "^1", 1, 365);
    let refused = admin
        .add_license(&fx.actor, &borrowed)
        .await
        .expect_err("a borrowed license");
    assert_eq!(refused.kind(), "installation_edited");
    match registry().get("versioned").await {
        Err(UnavailableError::Catalog(e)) => assert_eq!(e.kind(), "installation_edited"),
        other => panic!("the plugin must not serve: {:?}", other.map(|_| ())),
    }
    set_row_back(&fx, &ours).await;
    assert!(registry().get("versioned").await.is_ok(), "serves again");

    // The same database under another vault key: a copy.
    let elsewhere = tempfile::tempdir().expect("dir");
    let copy_config = h2h_host::serve::HostConfig {
        database_url: fx.config.database_url.clone(),
        vault_key: h2h_host::vault::KeySource::File(elsewhere.path().join("vault.key")),
        ..h2h_host::serve::HostConfig::new(elsewhere.path())
    };
    let copy = h2h_host::serve::Host::open(&copy_config)
        .await
        .expect("the copy opens");
    let copied = copy.admin.installation_id().await.expect_err("a copy");
    assert_eq!(copied.kind(), "installation_copied");
    let own = copy
        .admin
        .renew_installation_id(&fx.actor)
        .await
        .expect("the copy takes its own id");
    assert_ne!(own, ours);
    assert_eq!(copy.admin.installation_id().await.expect("renewed"), own);
    let renewal = copy.admin.audit(0, 1000).await.expect("audit");
    let entry = renewal
        .iter()
        .find(|e| e.action == "installation.renew")
        .expect("audited");
    assert_eq!(entry.detail, format!("{ours} -> {own}"));
    // The license issued for the original installation no longer serves.
    match Registry::new(
        copy.db.clone(),
        copy.admin.vault().clone(),
        copy.runtime.clone(),
    )
    .get("versioned")
    .await
    {
        Err(UnavailableError::Catalog(e)) => assert_eq!(e.kind(), "unlicensed"),
        other => panic!("the old license must not serve: {:?}", other.map(|_| ())),
    }
    drop(copy);

    // A database from before sealing: the mark of migration 0029 keeps its
    // id; without the mark a hand-written id is not trusted.
    for (legacy, written) in [(true, "h2h-legacy"), (false, "h2h-handmade")] {
        sqlx::query("DELETE FROM vault_entries WHERE kind = 'installation'")
            .execute(fx.host.db.pool())
            .await
            .expect("unseal");
        set_row(written).await;
        if legacy {
            sqlx::query(
                "INSERT INTO host_meta (key, value) VALUES ('installation-id-unsealed', '1')",
            )
            .execute(fx.host.db.pool())
            .await
            .expect("mark");
        }
        let id = admin.installation_id().await.expect("sealed on first use");
        assert_eq!(id == written, legacy, "{written} -> {id}");
        assert_eq!(admin.installation_id().await.expect("stable"), id);
    }
    fx.finish().await;
}

async fn set_row_back(fx: &Fixture, value: &str) {
    sqlx::query("UPDATE host_meta SET value = $1 WHERE key = 'installation-id'")
        .bind(value)
        .execute(fx.host.db.pool())
        .await
        .expect("put the row back");
}

on_both_databases!(the_installation_id_is_sealed_to_this_host);
