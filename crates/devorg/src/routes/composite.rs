//! Composite: up to 25 subrequests in one transaction (at most 5 of them queries or
//! sObject Collections), later ones able to use earlier results through
//! `@{referenceId.path}`; `allOrNone` rolls everything back on a failure. The whole call
//! counts as one API request.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::{collections, query, replication, version, with_ctx};
use crate::error::ApiError;
use crate::http::{AppState, JsonBody, Session, api_version};
use crate::query_cursor::{next_page, run_query};
use crate::records::{self, Ctx, UpsertOutcome};

/// Most subrequests one composite request takes.
pub const MAX_SUBREQUESTS: usize = 25;

/// Most of them that may be query operations (query, queryAll, queryMore) or sObject
/// Collections.
pub const MAX_QUERY_SUBREQUESTS: usize = 5;

/// A subrequest's answer.
pub(crate) struct SubResponse {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    headers: Map<String, Value>,
}

impl SubResponse {
    fn ok(status: StatusCode, body: Value) -> SubResponse {
        SubResponse { status, body, headers: Map::new() }
    }

    pub(crate) fn error(e: &ApiError) -> SubResponse {
        SubResponse::ok(e.status, json!([e.to_resource_json()]))
    }

    /// The subrequest's entry in a `compositeResponse` array.
    pub(crate) fn entry(self, reference: &str) -> Value {
        json!({
            "body": self.body,
            "httpHeaders": self.headers,
            "httpStatusCode": self.status.as_u16(),
            "referenceId": reference,
        })
    }
}

pub(crate) fn halted(message: &str) -> ApiError {
    ApiError::bad_request("PROCESSING_HALTED", message)
}

/// Follows `records[0].Id`-style paths into an earlier response body.
fn lookup<'v>(mut v: &'v Value, path: &str) -> Option<&'v Value> {
    for part in path.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            v = v.get(name)?;
        }
        for idx in indexes.split('[').filter(|s| !s.is_empty()) {
            let n: usize = idx.trim_end_matches(']').parse().ok()?;
            v = v.get(n)?;
        }
    }
    Some(v)
}

/// Replaces every `@{ref.path}` in `text` with the referenced value.
fn substitute(text: &str, results: &HashMap<String, Value>) -> Result<String, ApiError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| halted("Invalid reference specified"))?;
        let expr = &after[..end];
        let (reference, path) = expr.split_once('.').unwrap_or((expr, ""));
        let value = results
            .get(reference)
            .and_then(|body| if path.is_empty() { Some(body) } else { lookup(body, path) })
            .ok_or_else(|| {
                halted(&format!(
                    "Invalid reference specified. No value for {expr} found in {reference}. Provided referenceId ('{reference}') must be defined earlier"
                ))
            })?;
        match value {
            Value::String(s) => out.push_str(s),
            Value::Null => out.push_str("null"),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn substitute_json(v: &Value, results: &HashMap<String, Value>) -> Result<Value, ApiError> {
    Ok(match v {
        Value::String(s) if s.contains("@{") => Value::String(substitute(s, results)?),
        Value::Array(items) => Value::Array(
            items.iter().map(|i| substitute_json(i, results)).collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), substitute_json(v, results)?)))
                .collect::<Result<_, ApiError>>()?,
        ),
        other => other.clone(),
    })
}

fn body_map(body: Option<&Value>) -> Result<Map<String, Value>, ApiError> {
    match body {
        Some(Value::Object(m)) => Ok(m.clone()),
        None | Some(Value::Null) => Ok(Map::new()),
        Some(_) => {
            Err(ApiError::bad_request("JSON_PARSER_ERROR", "The body must be a JSON object"))
        }
    }
}

/// Runs one subrequest against the shared transaction. Composite takes what Salesforce
/// serves inside it: every sObject resource (describeGlobal, basic information, describe,
/// rows, rows by external id, updated and deleted), query, queryAll and queryMore, and
/// every sObject Collections call. A graph takes only record operations
/// (`composite_graph`).
pub(crate) fn dispatch(
    ctx: &Ctx<'_>,
    method: &Method,
    url: &str,
    body: Option<&Value>,
    headers: Option<&Value>,
) -> Result<SubResponse, ApiError> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let segments = path_segments(path);
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let rest = match segs.as_slice() {
        ["services", "data", v, rest @ ..] => {
            api_version(v)?;
            rest
        }
        _ => return Err(ApiError::not_found()),
    };
    let m = method.clone();
    match (m, rest) {
        (Method::GET, ["sobjects"]) => Ok(SubResponse::ok(
            StatusCode::OK,
            super::describe::describe_global(ctx.org, ctx.version),
        )),
        (Method::GET, ["sobjects", object]) => {
            let obj = ctx.object(object)?;
            Ok(SubResponse::ok(StatusCode::OK, super::describe::basic_info(obj, ctx.version)))
        }
        (Method::GET, ["sobjects", object, "updated"]) => {
            let obj = ctx.object(object)?;
            Ok(SubResponse::ok(StatusCode::OK, replication::updated_ids(ctx, obj, &params)?))
        }
        (Method::GET, ["sobjects", object, "deleted"]) => {
            let obj = ctx.object(object)?;
            Ok(SubResponse::ok(StatusCode::OK, replication::deleted_records(ctx, obj, &params)?))
        }
        (Method::POST, ["sobjects", object]) => {
            let obj = ctx.object(object)?;
            let id = records::create(ctx, obj, &body_map(body)?)?;
            let mut r = SubResponse::ok(
                StatusCode::CREATED,
                json!({"id": id.as_str(), "success": true, "errors": []}),
            );
            r.headers.insert("Location".into(), json!(ctx.record_url(&obj.name, id.as_str())));
            Ok(r)
        }
        (Method::GET, ["sobjects", object, "describe"]) => {
            let obj = ctx.object(object)?;
            Ok(SubResponse::ok(
                StatusCode::OK,
                super::describe::describe_object(ctx.org, obj, ctx.version),
            ))
        }
        (Method::GET, ["sobjects", object, id]) => {
            let obj = ctx.object(object)?;
            let sf = records::parse_id(obj, id).map_err(|_| ApiError::not_found())?;
            let (_, rec) =
                records::retrieve(ctx, obj, &sf, params.get("fields").map(String::as_str))?;
            Ok(SubResponse::ok(StatusCode::OK, Value::Object(rec)))
        }
        (Method::PATCH, ["sobjects", object, id]) => {
            let obj = ctx.object(object)?;
            let sf = records::parse_id(obj, id)?;
            records::update(ctx, obj, &sf, &body_map(body)?)?;
            Ok(SubResponse::ok(StatusCode::NO_CONTENT, Value::Null))
        }
        (Method::DELETE, ["sobjects", object, id]) => {
            let obj = ctx.object(object)?;
            let sf = records::parse_id(obj, id)?;
            records::delete(ctx, obj, &sf)?;
            Ok(SubResponse::ok(StatusCode::NO_CONTENT, Value::Null))
        }
        (Method::PATCH, ["sobjects", object, field, value]) => {
            let obj = ctx.object(object)?;
            Ok(match records::upsert(ctx, obj, field, value, &body_map(body)?)? {
                UpsertOutcome::Created(id) => SubResponse::ok(
                    StatusCode::CREATED,
                    json!({"id": id, "success": true, "errors": [], "created": true}),
                ),
                UpsertOutcome::Updated(id) => SubResponse::ok(
                    StatusCode::OK,
                    json!({"id": id, "success": true, "errors": [], "created": false}),
                ),
                UpsertOutcome::Multiple(ids) => SubResponse::ok(
                    StatusCode::MULTIPLE_CHOICES,
                    json!(ids.iter().map(|i| ctx.record_url(&obj.name, i)).collect::<Vec<_>>()),
                ),
            })
        }
        (Method::GET, ["query" | "queryAll", locator]) => {
            Ok(SubResponse::ok(StatusCode::OK, next_page(ctx, locator)?))
        }
        (Method::GET, [kind @ ("query" | "queryAll")]) => {
            let q = params.get("q").map(String::as_str).unwrap_or("").trim();
            if q.is_empty() {
                return Err(ApiError::bad_request(
                    "MALFORMED_QUERY",
                    "A query string has to be specified",
                ));
            }
            let batch = query::batch_option(header(headers, "Sforce-Query-Options"));
            Ok(SubResponse::ok(StatusCode::OK, run_query(ctx, q, *kind == "queryAll", batch)?))
        }
        (Method::POST, ["composite", "sobjects"]) => Ok(SubResponse::ok(
            StatusCode::OK,
            collections::create_all(ctx, body.unwrap_or(&Value::Null))?,
        )),
        (Method::PATCH, ["composite", "sobjects"]) => Ok(SubResponse::ok(
            StatusCode::OK,
            collections::update_all(ctx, body.unwrap_or(&Value::Null))?,
        )),
        (Method::PATCH, ["composite", "sobjects", object, field]) => Ok(SubResponse::ok(
            StatusCode::OK,
            collections::upsert_all(ctx, object, field, body.unwrap_or(&Value::Null))?,
        )),
        (Method::GET, ["composite", "sobjects", object]) => Ok(SubResponse::ok(
            StatusCode::OK,
            collections::retrieve_by_params(ctx, object, &params)?,
        )),
        (Method::POST, ["composite", "sobjects", object]) => Ok(SubResponse::ok(
            StatusCode::OK,
            collections::retrieve_by_body(ctx, object, body.unwrap_or(&Value::Null))?,
        )),
        (Method::DELETE, ["composite", "sobjects"]) => {
            let ids = collections::split_list(params.get("ids"));
            let all = params.get("allOrNone").is_some_and(|a| a == "true");
            Ok(SubResponse::ok(StatusCode::OK, collections::delete_all(ctx, &ids, all)?))
        }
        _ => Err(ApiError::not_found()),
    }
}

/// The decoded segments of a subrequest's path.
pub(crate) fn path_segments(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .map(|s| {
            url::form_urlencoded::parse(s.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect::<String>()
        })
        .collect()
}

/// A subrequest header's value (`httpHeaders`), the name compared case-insensitively.
fn header<'v>(headers: Option<&'v Value>, name: &str) -> Option<&'v str> {
    headers?
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// Whether a subrequest is a query operation (query, queryAll, queryMore) or an sObject
/// Collections call: the kinds of which a composite request takes at most
/// [`MAX_QUERY_SUBREQUESTS`].
fn is_query_operation(request: &Value) -> bool {
    let url = request.get("url").and_then(Value::as_str).unwrap_or("");
    let path = url.split_once('?').map_or(url, |(p, _)| p);
    let segments = path_segments(path);
    matches!(
        segments.iter().map(String::as_str).collect::<Vec<_>>().as_slice(),
        ["services", "data", _, "query" | "queryAll", ..]
            | ["services", "data", _, "composite", "sobjects", ..]
    )
}

/// Only subrequests that read (`GET`): such a composite request writes nothing.
pub fn is_read_only(body: &Value) -> bool {
    body.get("compositeRequest").and_then(Value::as_array).is_some_and(|requests| {
        requests.iter().all(|r| {
            r.get("method").and_then(Value::as_str).is_some_and(|m| m.eq_ignore_ascii_case("GET"))
        })
    })
}

/// Runs the subrequests; returns the `compositeResponse` array.
fn run_composite(ctx: &Ctx<'_>, body: &Value) -> Result<Value, ApiError> {
    let all_or_none = body.get("allOrNone").and_then(Value::as_bool).unwrap_or(false);
    let requests = body.get("compositeRequest").and_then(Value::as_array).ok_or_else(|| {
        ApiError::bad_request("JSON_PARSER_ERROR", "compositeRequest is required")
    })?;
    if requests.len() > MAX_SUBREQUESTS {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!("Exceeded max limit of subrequests allowed: {MAX_SUBREQUESTS}"),
        ));
    }
    let queries = requests.iter().filter(|r| is_query_operation(r)).count();
    if queries > MAX_QUERY_SUBREQUESTS {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!(
                "Exceeded max limit of query and sObject Collections subrequests allowed: {MAX_QUERY_SUBREQUESTS}"
            ),
        ));
    }
    let (out, _) = run_in_order(ctx, requests, all_or_none, |_| None)?;
    Ok(json!({"compositeResponse": out}))
}

/// The message of a subrequest that was undone or not run because another failed.
const ROLLED_BACK: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

/// Runs subrequests in order, each able to refer to the results of earlier ones, and
/// returns their `compositeResponse` entries and whether any failed. With `all_or_none`,
/// a failure undoes every subrequest and halts the ones after it. `refuse` names why a
/// subrequest may not run here (its URL is not served in this kind of call), if it may not.
pub(crate) fn run_in_order(
    ctx: &Ctx<'_>,
    requests: &[Value],
    all_or_none: bool,
    refuse: impl Fn(&Value) -> Option<ApiError>,
) -> Result<(Vec<Value>, bool), ApiError> {
    ctx.conn.execute_batch("SAVEPOINT devorg_composite")?;
    let mut results: HashMap<String, Value> = HashMap::new();
    let mut responses: Vec<(String, SubResponse)> = Vec::new();
    let mut failed = false;
    for req in requests {
        let reference = req.get("referenceId").and_then(Value::as_str).unwrap_or("").to_string();
        if failed && all_or_none {
            responses.push((reference, SubResponse::error(&halted(ROLLED_BACK))));
            continue;
        }
        if let Some(e) = refuse(req) {
            failed = true;
            responses.push((reference, SubResponse::error(&e)));
            continue;
        }
        let outcome = (|| {
            let method = req
                .get("method")
                .and_then(Value::as_str)
                .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
                .ok_or_else(|| ApiError::bad_request("JSON_PARSER_ERROR", "method is required"))?;
            let url = substitute(req.get("url").and_then(Value::as_str).unwrap_or(""), &results)?;
            let body = req.get("body").map(|b| substitute_json(b, &results)).transpose()?;
            ctx.conn.execute_batch("SAVEPOINT devorg_sub")?;
            let started = std::time::Instant::now();
            let r = dispatch(ctx, &method, &url, body.as_ref(), req.get("httpHeaders"));
            tracing::debug!(
                method = %method,
                path = url.split_once('?').map_or(url.as_str(), |(p, _)| p),
                ok = r.is_ok(),
                duration_ms = started.elapsed().as_millis() as u64,
                "composite subrequest"
            );
            if r.is_ok() {
                ctx.conn.execute_batch("RELEASE devorg_sub")?;
            } else {
                ctx.conn.execute_batch("ROLLBACK TO devorg_sub; RELEASE devorg_sub")?;
            }
            r
        })();
        let response = match outcome {
            Ok(r) => {
                if r.status.is_success() {
                    results.insert(reference.clone(), r.body.clone());
                } else {
                    failed = true;
                }
                r
            }
            Err(e) => {
                failed = true;
                SubResponse::error(&e)
            }
        };
        responses.push((reference, response));
    }
    if failed && all_or_none {
        ctx.conn.execute_batch("ROLLBACK TO devorg_composite; RELEASE devorg_composite")?;
        let rolled_back = halted(ROLLED_BACK);
        for (_, r) in responses.iter_mut() {
            if r.status.is_success() {
                *r = SubResponse::error(&rolled_back);
            }
        }
    } else {
        ctx.conn.execute_batch("RELEASE devorg_composite")?;
    }
    let out = responses.into_iter().map(|(reference, r)| r.entry(&reference)).collect();
    Ok((out, failed))
}

/// `POST .../composite`.
pub async fn composite(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    with_ctx(&org, &session, &v, |ctx| run_composite(ctx, &body)).map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_paths_into_earlier_bodies() {
        let mut results = HashMap::new();
        results.insert("acc".to_string(), json!({"id": "001x", "records": [{"Id": "003y"}]}));
        assert_eq!(
            substitute("/sobjects/Account/@{acc.id}", &results).unwrap(),
            "/sobjects/Account/001x"
        );
        assert_eq!(substitute("@{acc.records[0].Id}", &results).unwrap(), "003y");
        assert_eq!(substitute("@{nope.id}", &results).unwrap_err().code, "PROCESSING_HALTED");
    }
}
