//! The fault middleware: decides per request (from the seeded generator) whether to delay
//! it, refuse it with an error or a request-limit answer, or run it and cut the
//! connection part-way through the response.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rand::Rng;

use super::Faults;
use crate::error::ApiError;
use crate::http::AppState;

/// Paths under this prefix are never faulted.
pub const ADMIN_PREFIX: &str = "/devorg/admin";

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    Pass,
    LimitExceeded,
    /// 0: 500, 1: 503, 2: `UNABLE_TO_LOCK_ROW` (a 500 for reads).
    Error(u32),
    /// Run the request, then cut the response after this share of its body.
    Drop(f64),
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    delay_ms: u64,
    action: Action,
}

impl Faults {
    fn plan(&self) -> Plan {
        self.with_state(|s| {
            if !s.config.is_active() {
                return Plan { delay_ms: 0, action: Action::Pass };
            }
            // Every request draws the same values, so a seed replays the same decisions.
            let spike: f64 = s.rng.random();
            let error: f64 = s.rng.random();
            let kind: u32 = s.rng.random_range(0..3);
            let drop: f64 = s.rng.random();
            let cut: f64 = s.rng.random();

            let mut delay_ms = s.config.latency.fixed_ms;
            if spike < s.config.latency.spike_rate && s.config.latency.spike_ms > 0 {
                delay_ms += s.config.latency.spike_ms;
                s.injected.spikes += 1;
            }
            let action = if s.burst_left > 0 {
                s.burst_left -= 1;
                s.injected.limit_exceeded += 1;
                Action::LimitExceeded
            } else if error < s.config.error_rate {
                s.injected.errors += 1;
                Action::Error(kind)
            } else if drop < s.config.drop_rate {
                s.injected.drops += 1;
                Action::Drop(cut)
            } else {
                Action::Pass
            };
            Plan { delay_ms, action }
        })
    }
}

fn error_response(kind: u32, write: bool) -> Response {
    match kind {
        1 => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_UNAVAILABLE",
            "Server temporarily unavailable, please retry your request",
        ),
        2 if write => ApiError::bad_request(
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record or 1 records",
        ),
        _ => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support",
        ),
    }
    .into_response()
}

/// Sends the headers (with the full `Content-Length`) and the first `share` of the body,
/// then fails the body so the server aborts the connection.
async fn cut_response(response: Response, share: f64) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    // An answer with no body (a 204 after an update or delete) cannot be cut part-way, so
    // the connection goes after the status line: the write has happened, and the client
    // never learns it, which is the hazard a dropped answer poses.
    let announced = if bytes.is_empty() {
        if parts.status == StatusCode::NO_CONTENT {
            parts.status = StatusCode::OK;
        }
        1
    } else {
        bytes.len()
    };
    let keep = ((bytes.len() as f64 * share) as usize).min(bytes.len().saturating_sub(1));
    if let Ok(v) = HeaderValue::from_str(&announced.to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, v);
    }
    let head: Bytes = bytes.slice(..keep);
    let first = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(head) });
    let fail = futures_util::stream::once(async {
        // Let the part already sent reach the client before the connection goes.
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection dropped by fault injection",
        ))
    });
    Response::from_parts(parts, Body::from_stream(first.chain(fail)))
}

/// Applies the org's fault configuration to a request.
pub async fn middleware(State(org): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with(ADMIN_PREFIX) {
        return next.run(req).await;
    }
    let plan = org.faults.plan();
    if plan.action != Action::Pass || plan.delay_ms > 0 {
        tracing::debug!(action = ?plan.action, delay_ms = plan.delay_ms, "fault injected");
    }
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    let write =
        matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT | Method::DELETE);
    match plan.action {
        Action::Pass => next.run(req).await,
        Action::LimitExceeded => ApiError::new(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        )
        .into_response(),
        Action::Error(kind) => error_response(kind, write),
        Action::Drop(share) => cut_response(next.run(req).await, share).await,
    }
}
