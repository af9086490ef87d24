//! The admin endpoint: `POST /devorg/admin/faults` (set), `GET /devorg/admin/faults`
//! (configuration and counts), `POST /devorg/admin/expire-tokens` and
//! `POST /devorg/admin/hold-writes` (`{"hold_ms": N}`). Only loopback callers with an
//! administrator's bearer token get in; faults never apply here.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::post;
use serde_json::{Value, json};

use super::FaultConfig;
use crate::admin::Admin;
use crate::error::ApiError;
use crate::http::{AppState, authenticate};
use crate::tls::PeerAddr;

/// Largest admin request body.
const MAX_BODY: usize = 64 * 1024;

/// Loopback peer and an administrator's token, or 403 / 401.
fn check_caller(org: &AppState, parts: &Parts) -> Result<(), ApiError> {
    let loopback = parts
        .extensions
        .get::<ConnectInfo<PeerAddr>>()
        .is_some_and(|ConnectInfo(PeerAddr(addr))| addr.ip().is_loopback());
    if !loopback {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_ACCESS",
            "the admin endpoint answers loopback callers only",
        ));
    }
    let user = authenticate(org, &parts.headers)?;
    if !user.admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_ACCESS",
            "the admin endpoint needs an administrator's token",
        ));
    }
    Ok(())
}

async fn json_body<T: serde::de::DeserializeOwned>(
    org: &AppState,
    req: Request,
) -> Result<T, ApiError> {
    let (parts, body) = req.into_parts();
    check_caller(org, &parts)?;
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "REQUEST_ENTITY_TOO_LARGE", "body too large")
    })?;
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { &b"{}"[..] } else { &bytes[..] };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("JSON_PARSER_ERROR", format!("admin request: {e}")))
}

fn state_json(org: &AppState) -> Value {
    json!({"config": org.faults.config(), "injected": org.faults.counts()})
}

async fn set_faults(State(org): State<AppState>, req: Request) -> Result<Json<Value>, ApiError> {
    let config: FaultConfig = json_body(&org, req).await?;
    config.validate().map_err(|m| ApiError::bad_request("INVALID_FIELD", m))?;
    org.faults.set(config);
    Ok(Json(state_json(&org)))
}

async fn get_faults(State(org): State<AppState>, req: Request) -> Result<Json<Value>, ApiError> {
    let (parts, _) = req.into_parts();
    check_caller(&org, &parts)?;
    Ok(Json(state_json(&org)))
}

async fn expire_tokens(State(org): State<AppState>, req: Request) -> Result<Json<Value>, ApiError> {
    let (parts, _) = req.into_parts();
    check_caller(&org, &parts)?;
    let n = Admin::new(org.clone()).expire_tokens(None)?;
    tracing::info!(tokens = n, "access tokens expired through the admin endpoint");
    Ok(Json(json!({"expired": n})))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldRequest {
    #[serde(default)]
    hold_ms: u64,
}

async fn hold_writes(State(org): State<AppState>, req: Request) -> Result<Json<Value>, ApiError> {
    let hold: HoldRequest = json_body(&org, req).await?;
    Admin::new(org.clone()).hold_writes(Some(Duration::from_millis(hold.hold_ms)));
    Ok(Json(json!({"hold_ms": hold.hold_ms})))
}

/// The admin routes.
pub fn router(org: AppState) -> Router {
    Router::new()
        .route("/devorg/admin/faults", post(set_faults).get(get_faults))
        .route("/devorg/admin/expire-tokens", post(expire_tokens))
        .route("/devorg/admin/hold-writes", post(hold_writes))
        .with_state(org)
}
