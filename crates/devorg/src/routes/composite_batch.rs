//! Composite Batch (`POST .../composite/batch`): up to 25 independent subrequests in one
//! call, each answered with its own status and body.
//!
//! Unlike `/composite`, subrequests share no transaction and no references: each one that
//! fails is undone alone, and those before it stay. With `haltOnError`, every subrequest
//! after the first failure answers `412 BATCH_PROCESSING_HALTED` without running. A
//! request whose subrequests cannot be read (no method, no url) is refused whole.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::composite::{SubResponse, dispatch};
use super::{version, with_ctx};
use crate::error::ApiError;
use crate::http::{AppState, JsonBody, Session};
use crate::records::Ctx;

/// Most subrequests one batch takes.
pub const MAX_SUBREQUESTS: usize = 25;

/// One subrequest, read before any runs.
struct Subrequest<'b> {
    method: Method,
    /// The path from `/services/data/`, with its query string.
    url: String,
    rich_input: Option<&'b Value>,
}

fn parse_error(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("JSON_PARSER_ERROR", message)
}

/// Reads every subrequest; the first that cannot be read refuses the whole batch.
fn read_requests(body: &Value) -> Result<(bool, Vec<Subrequest<'_>>), ApiError> {
    let halt_on_error = body.get("haltOnError").and_then(Value::as_bool).unwrap_or(false);
    let requests = body
        .get("batchRequests")
        .and_then(Value::as_array)
        .ok_or_else(|| parse_error("batchRequests is required"))?;
    if requests.len() > MAX_SUBREQUESTS {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!("Exceeded max limit of subrequests allowed: {MAX_SUBREQUESTS}"),
        ));
    }
    let mut out = Vec::with_capacity(requests.len());
    for req in requests {
        let method = req
            .get("method")
            .and_then(Value::as_str)
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .filter(|m| {
                [Method::GET, Method::POST, Method::PATCH, Method::PUT, Method::DELETE].contains(m)
            })
            .ok_or_else(|| parse_error("Each batch subrequest needs a method"))?;
        let url = req
            .get("url")
            .and_then(Value::as_str)
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| parse_error("Each batch subrequest needs a url"))?;
        let url = url.trim_start_matches('/');
        let url = url.strip_prefix("services/data/").unwrap_or(url);
        out.push(Subrequest {
            method,
            url: format!("/services/data/{url}"),
            rich_input: req.get("richInput"),
        });
    }
    Ok((halt_on_error, out))
}

/// Runs one subrequest in a savepoint of its own, so a failure undoes only itself.
fn run_one(ctx: &Ctx<'_>, req: &Subrequest<'_>) -> Result<SubResponse, ApiError> {
    ctx.conn.execute_batch("SAVEPOINT devorg_batch_sub")?;
    let outcome = dispatch(ctx, &req.method, &req.url, req.rich_input, None);
    let kept = outcome.as_ref().is_ok_and(|r| r.status.is_success());
    if kept {
        ctx.conn.execute_batch("RELEASE devorg_batch_sub")?;
    } else {
        ctx.conn.execute_batch("ROLLBACK TO devorg_batch_sub; RELEASE devorg_batch_sub")?;
    }
    outcome
}

fn result_json(status: StatusCode, result: Value) -> Value {
    json!({"statusCode": status.as_u16(), "result": result})
}

fn run_batch(ctx: &Ctx<'_>, body: &Value) -> Result<Value, ApiError> {
    let (halt_on_error, requests) = read_requests(body)?;
    let halted = ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "BATCH_PROCESSING_HALTED",
        "Batch processing halted per request",
    );
    let mut has_errors = false;
    let mut results = Vec::with_capacity(requests.len());
    for req in &requests {
        if has_errors && halt_on_error {
            results.push(result_json(halted.status, json!([halted.to_resource_json()])));
            continue;
        }
        let (status, result) = match run_one(ctx, req) {
            Ok(r) => (r.status, r.body),
            Err(e) => (e.status, json!([e.to_resource_json()])),
        };
        has_errors |= status.is_client_error() || status.is_server_error();
        results.push(result_json(status, result));
    }
    tracing::debug!(subrequests = requests.len(), has_errors, "composite batch");
    Ok(json!({"hasErrors": has_errors, "results": results}))
}

/// `POST .../composite/batch`.
pub async fn batch(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    with_ctx(&org, &session, &v, |ctx| run_batch(ctx, &body)).map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_taken_from_the_version_on() {
        let body = json!({"batchRequests": [
            {"method": "get", "url": "v62.0/limits"},
            {"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+Id+FROM+Account"},
        ]});
        let (halt, reqs) = read_requests(&body).unwrap();
        assert!(!halt);
        assert_eq!(reqs[0].url, "/services/data/v62.0/limits");
        assert_eq!(reqs[0].method, Method::GET);
        assert_eq!(reqs[1].url, "/services/data/v62.0/query?q=SELECT+Id+FROM+Account");
    }

    #[test]
    fn a_subrequest_without_a_method_refuses_the_batch() {
        let body = json!({"batchRequests": [{"url": "v62.0/limits"}]});
        assert_eq!(read_requests(&body).err().unwrap().code, "JSON_PARSER_ERROR");
    }
}
