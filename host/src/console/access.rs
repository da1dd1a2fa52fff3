//! What plugins may reach and use: each installed plugin's HTTP grant
//! (declared origins, revoked ones, private hosts the admin allowed), the
//! PKCS#11 tokens and the plugins that may sign with each, and client TLS
//! identities uploaded for a company's plugin.

use axum::Form;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout;
use super::session::Signed;
use crate::admin::HttpGrantInfo;
use crate::admin::tokens::TokenListing;
use crate::api::AppState;
use crate::pkcs11::SlotSelector;

const PAGE: &str = "/console/access";

/// The access page.
pub async fn page(State(state): State<AppState>, signed: Signed) -> Response {
    let admin = &state.admin;
    let loaded = async {
        let mut grants = Vec::new();
        for installed in admin.installed().await? {
            grants.push(admin.http_grant(&installed.plugin).await?);
        }
        Ok::<_, crate::admin::AdminError>((grants, admin.tokens().await?))
    }
    .await;
    let (grants, tokens) = match loaded {
        Ok(all) => all,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let csrf = &signed.session.csrf;
    let body = html! {
        section aria-labelledby="http" {
            h2 #http { "HTTP" }
            @if grants.is_empty() {
                p.empty { "No plugin is installed." }
            }
            @for grant in &grants {
                (http_grant(grant, csrf))
            }
        }
        (tokens_section(&tokens, csrf))
        (identity_form(csrf))
    };
    layout::render(&state, "Access", "Access", &signed, body).await
}

fn grant_button(plugin: &str, op: &str, value: &str, label: &str, csrf: &str) -> Markup {
    html! {
        form.inline method="post" action="/console/access/http" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="plugin" value=(plugin);
            input type="hidden" name="op" value=(op);
            input type="hidden" name="value" value=(value);
            button type="submit" data-op=(op) { (label) }
        }
    }
}

fn http_grant(grant: &HttpGrantInfo, csrf: &str) -> Markup {
    let field = format!("private-{}", grant.plugin);
    html! {
        div data-grant=(grant.plugin) {
            h3 { (grant.plugin) }
            table {
                thead { tr { th { "Origin the manifest declares" } th { "Granted" } th { "" } } }
                tbody {
                    @for origin in &grant.declared {
                        @let revoked = grant.revoked.contains(origin);
                        tr {
                            td { code { (origin) } }
                            td { @if revoked { "revoked" } @else { "yes" } }
                            td.actions {
                                @if revoked {
                                    (grant_button(&grant.plugin, "restore", origin, "Restore", csrf))
                                } @else {
                                    (grant_button(&grant.plugin, "revoke", origin, "Revoke", csrf))
                                }
                            }
                        }
                    }
                    @for host in &grant.private_hosts {
                        tr {
                            td { code { (host) } " (a private address)" }
                            td { "allowed" }
                            td.actions { (grant_button(&grant.plugin, "forbid", host, "Forbid", csrf)) }
                        }
                    }
                }
            }
            form method="post" action="/console/access/http" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="plugin" value=(grant.plugin);
                input type="hidden" name="op" value="allow";
                label for=(field) { "Allow a private address (host:port of a bank inside the network)" }
                input id=(field) type="text" name="value" placeholder="10.0.0.5:443" required;
                button type="submit" { "Allow" }
            }
        }
    }
}

fn tokens_section(tokens: &[TokenListing], csrf: &str) -> Markup {
    html! {
        section aria-labelledby="tokens" {
            h2 #tokens { "PKCS#11 tokens" }
            @if tokens.is_empty() {
                p.empty { "No token is registered (h2h token add)." }
            } @else {
                table {
                    thead { tr { th { "Token" } th { "Module" } th { "May sign" } th { "" } } }
                    tbody {
                        @for listing in tokens {
                            @let token = &listing.token;
                            tr data-token=(token.name) {
                                td { (token.name) @if let Some(label) = &token.token_label { br; span.hint { (label) } } }
                                td { code { (token.module_path) } @if let Some(error) = &listing.module_error { br; span.hint { (error) } } }
                                td {
                                    @for plugin in &listing.granted_to {
                                        form.inline method="post" action="/console/access/signing" {
                                            input type="hidden" name="csrf" value=(csrf);
                                            input type="hidden" name="token" value=(token.name);
                                            input type="hidden" name="plugin" value=(plugin);
                                            input type="hidden" name="op" value="revoke";
                                            (plugin) " "
                                            button type="submit" data-op="revoke" { "Revoke" }
                                        }
                                    }
                                }
                                td {
                                    form.inline method="post" action="/console/access/signing" {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="token" value=(token.name);
                                        input type="hidden" name="op" value="grant";
                                        label.visually-hidden for={ "grant-" (token.name) } { "Plugin" }
                                        input id={ "grant-" (token.name) } type="text" name="plugin" placeholder="plugin" required;
                                        button type="submit" { "Let it sign" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action="/console/access/tokens" {
                input type="hidden" name="csrf" value=(csrf);
                label for="token-name" { "Register a token as (lowercase, digits, dashes)" }
                input #token-name type="text" name="name" required;
                label for="token-module" { "PKCS#11 module (absolute path)" }
                input #token-module type="text" name="module" placeholder="/usr/lib/softhsm/libsofthsm2.so" required;
                label for="token-label" { "The token's label (or leave empty and give its slot)" }
                input #token-label type="text" name="label";
                label for="token-slot" { "Slot id" }
                input #token-slot type="text" name="slot" inputmode="numeric";
                button type="submit" { "Register" }
            }
        }
    }
}

fn identity_form(csrf: &str) -> Markup {
    html! {
        section aria-labelledby="identities" {
            h2 #identities { "Client TLS identities" }
            p.hint { "A certificate and key a plugin presents to its bank for one company, sealed in the vault. \
                      Give PEM files, or a PKCS#12 (.p12) file and its password." }
            form method="post" action="/console/access/identity" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                label for="identity-company" { "Company" }
                input #identity-company type="text" name="company" required;
                label for="identity-plugin" { "Plugin" }
                input #identity-plugin type="text" name="plugin" required;
                label for="identity-name" { "Name (as the plugin's requests name it)" }
                input #identity-name type="text" name="name" required;
                label for="identity-chain" { "Certificate chain (PEM), or a .p12" }
                input #identity-chain type="file" name="chain" required;
                label for="identity-key" { "Private key (PEM; not with a .p12)" }
                input #identity-key type="file" name="key";
                label for="identity-password" { "The .p12's password" }
                input #identity-password type="password" name="password" autocomplete="off";
                button type="submit" { "Seal it" }
            }
        }
    }
}

/// An HTTP grant button's form.
#[derive(Deserialize)]
pub struct HttpForm {
    csrf: String,
    plugin: String,
    op: String,
    value: String,
}

/// Revokes or restores a declared origin, allows or forbids a private host.
pub async fn http(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<HttpForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let (admin, actor) = (&state.admin, signed.session.actor());
    let (plugin, value) = (form.plugin.as_str(), form.value.trim());
    let outcome = match form.op.as_str() {
        "revoke" => admin.revoke_origin(&actor, plugin, value, false).await,
        "restore" => admin.revoke_origin(&actor, plugin, value, true).await,
        "allow" => admin.allow_private_host(&actor, plugin, value, true).await,
        "forbid" => admin.allow_private_host(&actor, plugin, value, false).await,
        other => {
            let refused = Err(format!("unknown action `{other}`"));
            return signed.done(&state, refused, PAGE).await;
        }
    }
    .map(|_| format!("{plugin}: {} {value}.", form.op))
    .map_err(|e| e.to_string());
    signed.done(&state, outcome, PAGE).await
}

/// A signing grant's form.
#[derive(Deserialize)]
pub struct SigningForm {
    csrf: String,
    token: String,
    plugin: String,
    op: String,
}

/// Lets a plugin sign with a token, or stops it.
pub async fn signing(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<SigningForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let (admin, actor) = (&state.admin, signed.session.actor());
    let (token, plugin) = (form.token.as_str(), form.plugin.trim());
    let outcome = match form.op.as_str() {
        "grant" => admin
            .grant_signing(&actor, token, plugin)
            .await
            .map(|_| format!("{plugin} may sign with {token}.")),
        _ => admin
            .revoke_signing(&actor, token, plugin)
            .await
            .map(|_| format!("{plugin} may no longer sign with {token}.")),
    }
    .map_err(|e| e.to_string());
    signed.done(&state, outcome, PAGE).await
}

/// Seals a client TLS identity (PEM pair or PKCS#12).
pub async fn identity(
    State(state): State<AppState>,
    signed: Signed,
    mut form: Multipart,
) -> Response {
    let mut fields = std::collections::BTreeMap::<String, Vec<u8>>::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) => {
                        fields.insert(name, bytes.to_vec());
                    }
                    Err(e) => return signed.done(&state, Err(e.body_text()), PAGE).await,
                }
            }
            Ok(None) => break,
            Err(e) => return signed.done(&state, Err(e.body_text()), PAGE).await,
        }
    }
    let text = |name: &str| {
        fields
            .get(name)
            .map(|b| String::from_utf8_lossy(b).trim().to_owned())
            .unwrap_or_default()
    };
    if let Err(refused) = signed.check(&text("csrf")) {
        return refused.into_response();
    }
    let (company, plugin, name) = (text("company"), text("plugin"), text("name"));
    let chain = fields.get("chain").cloned().unwrap_or_default();
    let key = fields.get("key").cloned().unwrap_or_default();
    let actor = signed.session.actor();
    let result = if key.is_empty() {
        let password = zeroize::Zeroizing::new(text("password"));
        state
            .admin
            .add_tls_identity_pkcs12(&actor, &company, &plugin, &name, &chain, &password)
            .await
    } else {
        match (String::from_utf8(chain), String::from_utf8(key)) {
            (Ok(chain), Ok(key)) => {
                let key = zeroize::Zeroizing::new(key);
                state
                    .admin
                    .add_tls_identity(&actor, &company, &plugin, &name, &chain, &key)
                    .await
            }
            _ => Err(crate::admin::AdminError::InvalidInput(
                "PEM files are text; one of these is not".to_owned(),
            )),
        }
    };
    let outcome = result
        .map(|()| format!("Sealed TLS identity `{name}` for {plugin} at {company}."))
        .map_err(|e| e.to_string());
    signed.done(&state, outcome, PAGE).await
}

/// The token registration form.
#[derive(Deserialize)]
pub struct TokenForm {
    csrf: String,
    name: String,
    module: String,
    label: Option<String>,
    slot: Option<String>,
}

/// Registers a PKCS#11 token: the module is loaded and the token looked
/// for now, so a wrong path or label is refused with the reason.
pub async fn register_token(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Err(refused) = signed.check(&form.csrf) {
        return refused.into_response();
    }
    let label = form
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let slot = form
        .slot
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let selector = match (label, slot) {
        (Some(label), None) => Some(SlotSelector::Label(label.to_owned())),
        (None, Some(slot)) => match slot.parse() {
            Ok(id) => Some(SlotSelector::Id(id)),
            Err(_) => {
                let refused = Err(format!("slot `{slot}` is not a number"));
                return signed.done(&state, refused, PAGE).await;
            }
        },
        (None, None) => None,
        (Some(_), Some(_)) => {
            let refused = Err("give the token's label or its slot, not both".to_owned());
            return signed.done(&state, refused, PAGE).await;
        }
    };
    let outcome = state
        .admin
        .register_token(
            &signed.session.actor(),
            form.name.trim(),
            form.module.trim(),
            selector,
        )
        .await
        .map(|r| {
            format!(
                "Registered token {} (`{}`, slot {}).",
                r.token.name,
                r.found.token_label.as_deref().unwrap_or_default(),
                r.found.slot
            )
        })
        .map_err(|e| e.to_string());
    signed.done(&state, outcome, PAGE).await
}
