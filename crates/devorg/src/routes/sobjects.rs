//! sObject rows: create, retrieve, update, delete, and upsert / retrieve / delete by
//! external id, with `ETag`, `If-Match`, `If-None-Match`, `If-Modified-Since` and
//! `If-Unmodified-Since`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{object_param, version, with_ctx};
use crate::clock::{format_http_date, parse_datetime};
use crate::error::ApiError;
use crate::http::{AppState, JsonBody, Session};
use crate::records::{self, Ctx, Row, UpsertOutcome};
use crate::schema::ObjectDef;

type Params = Path<HashMap<String, String>>;

fn body_object(body: Value) -> Result<serde_json::Map<String, Value>, ApiError> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request(
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of sObject from a value that is not an object",
        )),
    }
}

/// The entity tag of a record version.
pub fn etag(row: &Row) -> String {
    let digest = Sha256::digest(
        format!("{}|{}", row.text("Id").unwrap_or(""), row.text("SystemModstamp").unwrap_or(""))
            .as_bytes(),
    );
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn last_modified(row: &Row) -> Option<chrono::DateTime<chrono::Utc>> {
    row.text("LastModifiedDate").and_then(parse_datetime)
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn http_date(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc2822(text).ok().map(|t| t.with_timezone(&chrono::Utc))
}

/// Checks `If-Match` and `If-Unmodified-Since` before a write.
fn check_preconditions(headers: &HeaderMap, row: &Row) -> Result<(), ApiError> {
    let failed =
        |msg: &str| ApiError::new(StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED", msg);
    if let Some(expected) = header_str(headers, header::IF_MATCH) {
        let current = etag(row);
        let matches = expected.split(',').map(str::trim).any(|e| {
            e == "*"
                || e.trim_start_matches("W/") == current
                || e.trim_matches('"') == current.trim_matches('"')
        });
        if !matches {
            return Err(failed(
                "The ETag of the requested resource doesn't match the If-Match header",
            ));
        }
    }
    if let Some(since) = header_str(headers, header::IF_UNMODIFIED_SINCE) {
        let since = http_date(since).ok_or_else(|| {
            ApiError::bad_request("INVALID_HEADER_VALUE", "If-Unmodified-Since is not an HTTP date")
        })?;
        if last_modified(row).is_some_and(|m| m.timestamp() > since.timestamp()) {
            return Err(failed(
                "The requested resource has been modified since the If-Unmodified-Since date",
            ));
        }
    }
    Ok(())
}

/// Whether `If-None-Match` / `If-Modified-Since` make a retrieve a 304.
fn not_modified(headers: &HeaderMap, row: &Row) -> bool {
    if let Some(tags) = header_str(headers, header::IF_NONE_MATCH) {
        let current = etag(row);
        return tags
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == current);
    }
    if let Some(since) = header_str(headers, header::IF_MODIFIED_SINCE).and_then(http_date) {
        return last_modified(row).is_some_and(|m| m.timestamp() <= since.timestamp());
    }
    false
}

fn record_response(
    headers: &HeaderMap,
    row: &Row,
    json: serde_json::Map<String, Value>,
) -> Response {
    let tag = etag(row);
    if not_modified(headers, row) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&tag) {
            r.headers_mut().insert(header::ETAG, v);
        }
        return r;
    }
    let mut r = Json(Value::Object(json)).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    if let Some(m) = last_modified(row)
        && let Ok(v) = HeaderValue::from_str(&format_http_date(m))
    {
        r.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    r
}

/// `POST .../sobjects/{Object}`.
pub async fn create(
    State(org): State<AppState>,
    session: Session,
    Path(p): Params,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    let body = body_object(body)?;
    let id = with_ctx(&org, &session, &v, |ctx| records::create(ctx, obj, &body))?;
    Ok((StatusCode::CREATED, Json(json!({"id": id.as_str(), "success": true, "errors": []})))
        .into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct FieldsParam {
    fields: Option<String>,
}

/// `GET .../sobjects/{Object}/{Id}`.
pub async fn retrieve(
    State(org): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(p): Params,
    Query(q): Query<FieldsParam>,
) -> Result<Response, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    let id = records::parse_id(obj, p.get("id").map(String::as_str).unwrap_or(""))
        .map_err(|_| ApiError::not_found())?;
    let (row, json) =
        with_ctx(&org, &session, &v, |ctx| records::retrieve(ctx, obj, &id, q.fields.as_deref()))?;
    Ok(record_response(&headers, &row, json))
}

fn load_for_write(ctx: &Ctx<'_>, obj: &ObjectDef, id: &salesforce::SfId) -> Result<Row, ApiError> {
    records::load_row(ctx.conn, obj, id.as_str())?.ok_or_else(ApiError::not_found)
}

/// `PATCH .../sobjects/{Object}/{Id}` -> 204.
pub async fn update(
    State(org): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(p): Params,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    let id = records::parse_id(obj, p.get("id").map(String::as_str).unwrap_or(""))?;
    let body = body_object(body)?;
    with_ctx(&org, &session, &v, |ctx| {
        if id.key_prefix() == obj.key_prefix {
            check_preconditions(&headers, &load_for_write(ctx, obj, &id)?)?;
        }
        records::update(ctx, obj, &id, &body)
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE .../sobjects/{Object}/{Id}` -> 204.
pub async fn delete(
    State(org): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(p): Params,
) -> Result<Response, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    let id = records::parse_id(obj, p.get("id").map(String::as_str).unwrap_or(""))?;
    with_ctx(&org, &session, &v, |ctx| {
        if id.key_prefix() == obj.key_prefix {
            check_preconditions(&headers, &load_for_write(ctx, obj, &id)?)?;
        }
        records::delete(ctx, obj, &id)
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The single live record whose external id matches, for GET and DELETE by external id.
fn by_external_id(
    ctx: &Ctx<'_>,
    obj: &ObjectDef,
    field: &str,
    value: &str,
) -> Result<salesforce::SfId, ApiError> {
    let f = obj.field(field).filter(|f| f.external_id || f.name == "Id").ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {field}"),
        )
    })?;
    let key = records::values::to_sql(f, &Value::String(value.to_string()))?;
    let ids = records::find_by_field(ctx.conn, obj, &f.name, &key)?;
    match ids.as_slice() {
        [one] => records::parse_id(obj, one),
        [] => Err(ApiError::not_found()),
        _ => Err(ApiError::new(
            StatusCode::MULTIPLE_CHOICES,
            "MULTIPLE_CHOICES",
            format!("More than one record found for external id field {}", f.name),
        )),
    }
}

/// `GET .../sobjects/{Object}/{ExtIdField}/{value}`.
pub async fn get_by_external_id(
    State(org): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(p): Params,
    Query(q): Query<FieldsParam>,
) -> Result<Response, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    let field = p.get("field").map(String::as_str).unwrap_or("");
    let value = p.get("value").map(String::as_str).unwrap_or("");
    let (row, json) = with_ctx(&org, &session, &v, |ctx| {
        let id = by_external_id(ctx, obj, field, value)?;
        records::retrieve(ctx, obj, &id, q.fields.as_deref())
    })?;
    Ok(record_response(&headers, &row, json))
}

/// `DELETE .../sobjects/{Object}/{ExtIdField}/{value}`.
pub async fn delete_by_external_id(
    State(org): State<AppState>,
    session: Session,
    Path(p): Params,
) -> Result<Response, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    let field = p.get("field").map(String::as_str).unwrap_or("");
    let value = p.get("value").map(String::as_str).unwrap_or("");
    with_ctx(&org, &session, &v, |ctx| {
        let id = by_external_id(ctx, obj, field, value)?;
        records::delete(ctx, obj, &id)
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The HTTP answer to an upsert outcome.
pub fn upsert_response(version: &str, object: &str, outcome: UpsertOutcome) -> Response {
    match outcome {
        UpsertOutcome::Created(id) => (
            StatusCode::CREATED,
            Json(json!({"id": id, "success": true, "errors": [], "created": true})),
        )
            .into_response(),
        UpsertOutcome::Updated(id) => {
            let old = version
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
                .is_some_and(|m| m < 46);
            if old {
                StatusCode::NO_CONTENT.into_response()
            } else {
                (
                    StatusCode::OK,
                    Json(json!({"id": id, "success": true, "errors": [], "created": false})),
                )
                    .into_response()
            }
        }
        UpsertOutcome::Multiple(ids) => {
            let urls: Vec<String> = ids
                .iter()
                .map(|id| format!("/services/data/v{version}/sobjects/{object}/{id}"))
                .collect();
            (StatusCode::MULTIPLE_CHOICES, Json(json!(urls))).into_response()
        }
    }
}

/// `PATCH .../sobjects/{Object}/{ExtIdField}/{value}`: upsert.
pub async fn upsert(
    State(org): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(p): Params,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    let field = p.get("field").map(String::as_str).unwrap_or("");
    let value = p.get("value").map(String::as_str).unwrap_or("");
    let body = body_object(body)?;
    let outcome = with_ctx(&org, &session, &v, |ctx| {
        let conditional = header_str(&headers, header::IF_MATCH).is_some()
            || header_str(&headers, header::IF_UNMODIFIED_SINCE).is_some();
        if conditional && let Ok(id) = by_external_id(ctx, obj, field, value) {
            check_preconditions(&headers, &load_for_write(ctx, obj, &id)?)?;
        }
        records::upsert(ctx, obj, field, value, &body)
    })?;
    Ok(upsert_response(&v, &obj.name, outcome))
}
