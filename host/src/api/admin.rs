//! The admin REST API: the same operations as the CLI, through the same
//! library functions ([`crate::admin::Admin`]).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use semver::Version;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::admin::{
    AdminError, AuditEntry, InstallReport, Installed, LicenseInfo, PackageInfo, Pin, Publisher,
    ServiceMode, Uploaded,
};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Routes under `/admin/v1`, documented under the `admin` tag.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(installation_id))
        .routes(routes!(renew_installation_id))
        .routes(routes!(publishers, trust_publisher))
        .routes(routes!(publisher_pins))
        .routes(routes!(pin_publisher))
        .routes(routes!(packages, upload))
        .routes(routes!(licenses, add_license))
        .routes(routes!(installed))
        .routes(routes!(install))
        .routes(routes!(upgrade))
        .routes(routes!(uninstall))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(service_mode, set_service_mode))
        .routes(routes!(audit))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct InstallationId {
    installation_id: String,
}

#[utoipa::path(
    get,
    path = "/installation-id",
    tag = "admin",
    responses(
        (status = 200, description = "The installation id licenses are bound to", body = InstallationId),
        (status = 409, description = "The id was edited (`installation_edited`) or sealed by another installation (`installation_copied`)", body = ApiError),
    )
)]
async fn installation_id(State(state): State<AppState>) -> ApiResult<InstallationId> {
    Ok(Json(InstallationId {
        installation_id: state.admin.installation_id().await?,
    }))
}

/// Gives this database a new installation id: for a copy of another
/// installation's database, or after the id was edited. Licenses issued
/// for the old id stop serving. Audited with both ids.
#[utoipa::path(
    post,
    path = "/installation-id/renew",
    tag = "admin",
    responses((status = 200, description = "The new installation id"))
)]
async fn renew_installation_id(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<InstallationId> {
    Ok(Json(InstallationId {
        installation_id: state.admin.renew_installation_id(&caller.actor()).await?,
    }))
}

#[utoipa::path(
    get,
    path = "/publishers",
    tag = "admin",
    responses((status = 200, description = "Trusted publisher keys"))
)]
async fn publishers(State(state): State<AppState>) -> ApiResult<Vec<Publisher>> {
    Ok(Json(state.admin.publishers().await?))
}

#[derive(Debug, Deserialize)]
struct TrustQuery {
    name: String,
}

/// Trusts a publisher's key. Body: the armored public key file.
#[utoipa::path(
    post,
    path = "/publishers",
    tag = "admin",
    params(("name" = String, Query, description = "A name for the publisher")),
    request_body(
        content = String,
        content_type = "text/plain",
        description = "The armored Ed25519 public key file the publisher gave",
        example = "-----BEGIN H2H VENDOR PUBLIC KEY-----\n(base64 of the 32-byte key)\n-----END H2H VENDOR PUBLIC KEY-----\n"
    ),
    responses(
        (status = 200, description = "Trusted"),
        (status = 400, description = "Not a public key file, or no `name` (`invalid_input`)", body = ApiError),
    )
)]
async fn trust_publisher(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<TrustQuery>,
    body: String,
) -> ApiResult<Publisher> {
    Ok(Json(
        state
            .admin
            .trust_publisher(&caller.actor(), &body, &query.name)
            .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/publisher-pins",
    tag = "admin",
    responses((status = 200, description = "The publisher key each plugin is pinned to"))
)]
async fn publisher_pins(State(state): State<AppState>) -> ApiResult<Vec<Pin>> {
    Ok(Json(state.admin.publisher_pins().await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"key_id": "3f1c2a9b7d604e15"}))]
struct PinBody {
    /// A trusted publisher key id.
    key_id: String,
}

/// Hands a plugin to another trusted publisher key (audited).
#[utoipa::path(
    put,
    path = "/plugins/{plugin}/publisher",
    tag = "admin",
    params(("plugin" = String, Path, description = "Plugin id")),
    request_body = PinBody,
    responses(
        (status = 200, description = "Pinned to the key"),
        (status = 404, description = "No package of the plugin was uploaded"),
        (status = 422, description = "The key is not trusted"),
    )
)]
async fn pin_publisher(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(plugin): Path<String>,
    Json(body): Json<PinBody>,
) -> ApiResult<Pin> {
    Ok(Json(
        state
            .admin
            .pin_publisher(&caller.actor(), &plugin, &body.key_id)
            .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/packages",
    tag = "admin",
    responses((status = 200, description = "Uploaded packages"))
)]
async fn packages(State(state): State<AppState>) -> ApiResult<Vec<PackageInfo>> {
    Ok(Json(state.admin.packages().await?))
}

/// Uploads a plugin package. Body: the zip file, as `h2h plugin pack`
/// made it.
#[utoipa::path(
    post,
    path = "/packages",
    tag = "admin",
    request_body(
        content = PackageBytes,
        content_type = "application/zip",
        description = "The package zip (at most 64 MiB)"
    ),
    responses(
        (status = 200, description = "Uploaded"),
        (status = 409, description = "Signed by another publisher than the plugin's (`publisher_mismatch`)", body = ApiError),
        (status = 422, description = "A malformed package, manifest or signature", body = ApiError),
    )
)]
async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Uploaded> {
    Ok(Json(state.admin.upload(&caller.actor(), &body).await?))
}

#[utoipa::path(
    get,
    path = "/licenses",
    tag = "admin",
    responses((status = 200, description = "Stored licenses"))
)]
async fn licenses(State(state): State<AppState>) -> ApiResult<Vec<LicenseInfo>> {
    Ok(Json(state.admin.licenses().await?))
}

/// Adds a license. Body: the license file.
#[utoipa::path(
    post,
    path = "/licenses",
    tag = "admin",
    request_body(
        content = String,
        content_type = "text/plain",
        description = "The signed license file the vendor issued"
    ),
    responses(
        (status = 200, description = "Added"),
        (status = 422, description = "Unknown vendor key, another installation, expired, or a bad signature", body = ApiError),
    )
)]
async fn add_license(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: String,
) -> ApiResult<LicenseInfo> {
    Ok(Json(state.admin.add_license(&caller.actor(), &body).await?))
}

#[utoipa::path(
    get,
    path = "/plugins",
    tag = "admin",
    responses((status = 200, description = "Installed plugins"))
)]
async fn installed(State(state): State<AppState>) -> ApiResult<Vec<Installed>> {
    Ok(Json(state.admin.installed().await?))
}

/// Which version to install or upgrade to.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"version": "1.2.1"}))]
struct VersionRequest {
    /// An uploaded version; the newest licensed one when absent.
    version: Option<String>,
    /// Upgrade: allow a downgrade.
    #[serde(default)]
    force: bool,
}

/// A package's bytes, for the document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
struct PackageBytes(Vec<u8>);

fn parse_version(text: Option<String>) -> Result<Option<Version>, ApiError> {
    text.map(|v| {
        Version::parse(&v)
            .map_err(|e| AdminError::InvalidInput(format!("version `{v}`: {e}")).into())
    })
    .transpose()
}

#[utoipa::path(
    post,
    path = "/plugins/{id}/install",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    request_body(content = Option<VersionRequest>, description = "Optional: the newest licensed version when absent", example = json!({"version": "1.2.1"})),
    responses((status = 200, description = "Installed"))
)]
async fn install(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Option<Json<VersionRequest>>,
) -> ApiResult<InstallReport> {
    let request = body.map(|Json(b)| b).unwrap_or_default();
    let version = parse_version(request.version)?;
    Ok(Json(
        state.admin.install(&caller.actor(), &id, version).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/plugins/{id}/upgrade",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    request_body(content = Option<VersionRequest>, description = "Optional: the newest licensed version when absent", example = json!({"version": "1.2.1", "force": false})),
    responses((status = 200, description = "Upgraded"))
)]
async fn upgrade(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Option<Json<VersionRequest>>,
) -> ApiResult<InstallReport> {
    let request = body.map(|Json(b)| b).unwrap_or_default();
    let version = parse_version(request.version)?;
    Ok(Json(
        state
            .admin
            .upgrade(&caller.actor(), &id, version, request.force)
            .await?,
    ))
}

/// How to uninstall.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"purge": false}))]
struct UninstallRequest {
    /// Also delete the plugin's data (kept by default).
    #[serde(default)]
    purge: bool,
}

#[derive(Debug, serde::Serialize)]
struct Done {
    plugin: String,
    done: &'static str,
}

#[utoipa::path(
    post,
    path = "/plugins/{id}/uninstall",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    request_body(content = Option<UninstallRequest>, description = "Optional: the data is kept when absent", example = json!({"purge": false})),
    responses((status = 200, description = "Uninstalled"))
)]
async fn uninstall(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Option<Json<UninstallRequest>>,
) -> ApiResult<Done> {
    let purge = body.is_some_and(|Json(b)| b.purge);
    state.admin.uninstall(&caller.actor(), &id, purge).await?;
    Ok(Json(Done {
        plugin: id,
        done: if purge {
            "uninstalled, data purged"
        } else {
            "uninstalled, data kept"
        },
    }))
}

#[utoipa::path(
    post,
    path = "/plugins/{id}/enable",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, description = "Enabled"))
)]
async fn enable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Done> {
    state.admin.enable(&caller.actor(), &id).await?;
    Ok(Json(Done {
        plugin: id,
        done: "enabled",
    }))
}

#[utoipa::path(
    post,
    path = "/plugins/{id}/disable",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, description = "Disabled"))
)]
async fn disable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Done> {
    state.admin.disable(&caller.actor(), &id).await?;
    Ok(Json(Done {
        plugin: id,
        done: "disabled",
    }))
}

#[utoipa::path(
    get,
    path = "/service-mode",
    tag = "admin",
    responses((status = 200, description = "Service mode"))
)]
async fn service_mode(State(state): State<AppState>) -> ApiResult<ServiceMode> {
    Ok(Json(state.admin.service_mode().await?))
}

/// Service mode on or off.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"active": true, "reason": "bank maintenance"}))]
struct ServiceModeRequest {
    /// On or off.
    active: bool,
    /// Why (shown to the ERP while on).
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(
    put,
    path = "/service-mode",
    tag = "admin",
    request_body = ServiceModeRequest,
    responses((status = 200, description = "Service mode switched"))
)]
async fn set_service_mode(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<ServiceModeRequest>,
) -> ApiResult<ServiceMode> {
    let actor = caller.actor();
    let status = if request.active {
        let reason = request
            .reason
            .unwrap_or_else(|| "planned maintenance".to_owned());
        state.admin.service_mode_on(&actor, &reason).await?
    } else {
        state.admin.service_mode_off(&actor).await?
    };
    Ok(Json(status))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    100
}

#[utoipa::path(
    get,
    path = "/audit",
    tag = "admin",
    responses((status = 200, description = "Audit entries"))
)]
async fn audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Vec<AuditEntry>> {
    Ok(Json(state.admin.audit(query.after, query.limit).await?))
}
