//! HTTP plumbing shared by all routes: the session extractor (bearer token, API quota),
//! the JSON body extractor, the API version check, and the logging / limit-info and
//! `Date` middleware.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

use crate::clock::format_http_date;
use crate::db::{self, Principal};
use crate::error::ApiError;
use crate::org::Org;

/// The state every handler receives.
pub type AppState = Arc<Org>;

/// Lowest and highest API versions the org answers.
pub const MIN_VERSION: f64 = 20.0;
pub const MAX_VERSION: f64 = 66.0;
/// The newest version `/services/data/` lists.
pub const LATEST_VERSION: u32 = 62;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
}

/// The bearer token in `Authorization` (`Bearer` or `OAuth` scheme).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Finds the user behind a bearer token.
pub fn authenticate(org: &Org, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let token = bearer_token(headers).ok_or_else(ApiError::invalid_session)?;
    let now_ms = org.clock.now().timestamp_millis();
    let conn = org.db();
    let user = crate::auth::access_token_user(&conn, token, now_ms)?
        .ok_or_else(ApiError::invalid_session)?;
    db::load_principal(&conn, &user)?.ok_or_else(ApiError::invalid_session)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, org: &AppState) -> Result<Self, ApiError> {
        let principal = authenticate(org, &parts.headers)?;
        if org.count_request().is_err() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            ));
        }
        Ok(Session { principal })
    }
}

/// Checks a `vNN.N` path segment and returns `"NN.N"`.
pub fn api_version(segment: &str) -> Result<String, ApiError> {
    let number = segment.strip_prefix('v').ok_or_else(ApiError::not_found)?;
    match number.parse::<f64>() {
        Ok(n) if (MIN_VERSION..=MAX_VERSION).contains(&n) && number.contains('.') => {
            Ok(number.to_string())
        }
        _ => Err(ApiError::not_found()),
    }
}

/// A JSON request body, read with the org's size limit.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, org: &AppState) -> Result<Self, ApiError> {
        let limit = org.config.max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUEST_ENTITY_TOO_LARGE",
                format!("Request body exceeds the limit of {limit} bytes"),
            )
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON the way Salesforce reports failures: `JSON_PARSER_ERROR`.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "JSON_PARSER_ERROR",
            format!(
                "Unexpected input in JSON body: {e} at [line:{}, column:{}]",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Logs one line per request and adds `Sforce-Limit-Info` to REST responses.
pub async fn observe(
    axum::extract::State(org): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".to_string());
    let rest = route.starts_with("/services/data/{version}");
    let mut response = next.run(req).await;
    if rest {
        let usage = format!("api-usage={}/{}", org.requests_used(), org.config.api_daily_limit);
        if let Ok(v) = HeaderValue::from_str(&usage) {
            response.headers_mut().insert("Sforce-Limit-Info", v);
        }
    }
    tracing::info!(
        method = %method,
        path = %route,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// Dates every response (`Date`, an IMF-fixdate) by the org's clock rather than the wall
/// clock, as Salesforce dates its own: a client that reads the server's time from it sees
/// the time tests set.
pub async fn date_header(
    axum::extract::State(org): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&format_http_date(org.clock.now())) {
        response.headers_mut().insert(header::DATE, v);
    }
    response
}

/// Strips trailing slashes so `/sobjects/Account/` and `/query/?q=` reach their routes.
pub async fn trim_trailing_slash(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let new = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = new.parse() {
            *req.uri_mut() = uri;
        }
    }
    next.run(req).await
}

/// The base URL clients reach this org at, from the `Host` header.
pub fn base_url(org: &Org, headers: &HeaderMap) -> String {
    if let Some(url) = &org.config.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host =
        headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let scheme = if org.config.tls { "https" } else { "http" };
    format!("{scheme}://{host}")
}
