//! The admin REST API: the same operations as the CLI, through the same
//! library functions ([`crate::admin::Admin`]).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use semver::Version;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::admin::{
    AdminError, AuditEntry, InstallReport, Installed, LicenseInfo, PackageInfo, Publisher,
    ServiceMode, Uploaded,
};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Routes under `/admin/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/installation-id", get(installation_id))
        .route("/publishers", get(publishers).post(trust_publisher))
        .route("/packages", get(packages).post(upload))
        .route("/licenses", get(licenses).post(add_license))
        .route("/plugins", get(installed))
        .route("/plugins/{id}/install", post(install))
        .route("/plugins/{id}/upgrade", post(upgrade))
        .route("/plugins/{id}/uninstall", post(uninstall))
        .route("/plugins/{id}/enable", post(enable))
        .route("/plugins/{id}/disable", post(disable))
        .route("/service-mode", get(service_mode).put(set_service_mode))
        .route("/audit", get(audit))
}

#[derive(Debug, serde::Serialize)]
struct InstallationId {
    installation_id: String,
}

async fn installation_id(State(state): State<AppState>) -> ApiResult<InstallationId> {
    Ok(Json(InstallationId {
        installation_id: state.admin.installation_id().await?,
    }))
}

async fn publishers(State(state): State<AppState>) -> ApiResult<Vec<Publisher>> {
    Ok(Json(state.admin.publishers().await?))
}

#[derive(Debug, Deserialize)]
struct TrustQuery {
    name: String,
}

/// Body: the armored public key file.
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

async fn packages(State(state): State<AppState>) -> ApiResult<Vec<PackageInfo>> {
    Ok(Json(state.admin.packages().await?))
}

/// Body: the zip file.
async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Uploaded> {
    Ok(Json(state.admin.upload(&caller.actor(), &body).await?))
}

async fn licenses(State(state): State<AppState>) -> ApiResult<Vec<LicenseInfo>> {
    Ok(Json(state.admin.licenses().await?))
}

/// Body: the license file.
async fn add_license(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: String,
) -> ApiResult<LicenseInfo> {
    Ok(Json(state.admin.add_license(&caller.actor(), &body).await?))
}

async fn installed(State(state): State<AppState>) -> ApiResult<Vec<Installed>> {
    Ok(Json(state.admin.installed().await?))
}

#[derive(Debug, Default, Deserialize)]
struct VersionRequest {
    version: Option<String>,
    #[serde(default)]
    force: bool,
}

fn parse_version(text: Option<String>) -> Result<Option<Version>, ApiError> {
    text.map(|v| {
        Version::parse(&v)
            .map_err(|e| AdminError::InvalidInput(format!("version `{v}`: {e}")).into())
    })
    .transpose()
}

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

#[derive(Debug, Default, Deserialize)]
struct UninstallRequest {
    #[serde(default)]
    purge: bool,
}

#[derive(Debug, serde::Serialize)]
struct Done {
    plugin: String,
    done: &'static str,
}

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

async fn service_mode(State(state): State<AppState>) -> ApiResult<ServiceMode> {
    Ok(Json(state.admin.service_mode().await?))
}

#[derive(Debug, Deserialize)]
struct ServiceModeRequest {
    active: bool,
    #[serde(default)]
    reason: Option<String>,
}

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

async fn audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Vec<AuditEntry>> {
    Ok(Json(state.admin.audit(query.after, query.limit).await?))
}
