//! sObject Collections: create, update, upsert, delete and retrieve up to 200 records
//! (2000 ids for retrieve) in one call, with per-record results in request order and
//! `allOrNone` rollback.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Map, Value, json};

use super::{object_param, version, with_ctx};
use crate::error::ApiError;
use crate::http::{AppState, JsonBody, Session};
use crate::records::{self, Ctx, UpsertOutcome};

/// Most records one write call takes.
pub const MAX_RECORDS: usize = 200;
/// Most ids one retrieve call takes.
pub const MAX_RETRIEVE_IDS: usize = 2000;

fn too_many(limit: usize) -> ApiError {
    ApiError::bad_request(
        "EXCEEDED_ID_LIMIT",
        format!("record limit reached. cannot submit more than {limit} records into this call"),
    )
}

/// Runs `f` inside a savepoint, so a failing record leaves nothing behind.
fn in_savepoint<T>(ctx: &Ctx<'_>, f: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    ctx.conn.execute_batch("SAVEPOINT devorg_record")?;
    match f() {
        Ok(v) => {
            ctx.conn.execute_batch("RELEASE devorg_record")?;
            Ok(v)
        }
        Err(e) => {
            ctx.conn.execute_batch("ROLLBACK TO devorg_record; RELEASE devorg_record")?;
            Err(e)
        }
    }
}

/// One record's outcome: its id (if any), and either success or an error.
type Outcome = (Option<String>, Result<Option<bool>, ApiError>);

/// Turns outcomes into the response array, applying `allOrNone`.
fn finish(ctx: &Ctx<'_>, all_or_none: bool, outcomes: Vec<Outcome>) -> Result<Value, ApiError> {
    let failed = outcomes.iter().any(|(_, r)| r.is_err());
    if all_or_none && failed {
        ctx.conn.execute_batch("ROLLBACK TO devorg_batch; RELEASE devorg_batch")?;
    } else {
        ctx.conn.execute_batch("RELEASE devorg_batch")?;
    }
    let rolled_back = ApiError::bad_request(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
    );
    let results = outcomes
        .into_iter()
        .map(|(id, r)| {
            let mut out = Map::new();
            match r {
                Ok(created) if !(all_or_none && failed) => {
                    out.insert("id".into(), json!(id));
                    out.insert("success".into(), json!(true));
                    out.insert("errors".into(), json!([]));
                    if let Some(c) = created {
                        out.insert("created".into(), json!(c));
                    }
                }
                Ok(_) => {
                    out.insert("success".into(), json!(false));
                    out.insert("errors".into(), json!([rolled_back.to_record_json()]));
                }
                Err(e) => {
                    if let Some(id) = id {
                        out.insert("id".into(), json!(id));
                    }
                    out.insert("success".into(), json!(false));
                    out.insert("errors".into(), json!([e.to_record_json()]));
                }
            }
            Value::Object(out)
        })
        .collect();
    Ok(Value::Array(results))
}

fn parse_request(body: &Value) -> Result<(bool, &Vec<Value>), ApiError> {
    let all_or_none = body.get("allOrNone").and_then(Value::as_bool).unwrap_or(false);
    let records = body.get("records").and_then(Value::as_array).ok_or_else(|| {
        ApiError::bad_request("JSON_PARSER_ERROR", "The request body must hold a records array")
    })?;
    if records.len() > MAX_RECORDS {
        return Err(too_many(MAX_RECORDS));
    }
    Ok((all_or_none, records))
}

fn record_type<'a>(
    ctx: &Ctx<'a>,
    rec: &Map<String, Value>,
    id: Option<&str>,
) -> Result<&'a crate::schema::ObjectDef, ApiError> {
    let named = rec.get("attributes").and_then(|a| a.get("type")).and_then(Value::as_str);
    let by_id = id
        .and_then(|i| salesforce::SfId::parse(i).ok())
        .and_then(|i| ctx.org.schema.object_by_prefix(i.key_prefix()));
    match (named, by_id) {
        (Some(name), _) => ctx.org.schema.object(name).ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_TYPE",
                format!("sObject type '{name}' is not supported."),
            )
        }),
        (None, Some(obj)) => Ok(obj),
        (None, None) => {
            Err(ApiError::bad_request("INVALID_TYPE", "No SObject Type defined in attributes"))
        }
    }
}

fn as_object(v: &Value) -> Result<&Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| {
        ApiError::bad_request("JSON_PARSER_ERROR", "Each record must be a JSON object")
    })
}

/// Creates the records of a collections request.
pub fn create_all(ctx: &Ctx<'_>, body: &Value) -> Result<Value, ApiError> {
    let (all_or_none, records) = parse_request(body)?;
    ctx.conn.execute_batch("SAVEPOINT devorg_batch")?;
    let mut outcomes = Vec::new();
    for rec in records {
        let r = in_savepoint(ctx, || {
            let rec = as_object(rec)?;
            let obj = record_type(ctx, rec, None)?;
            records::create(ctx, obj, rec).map(|id| id.to_string())
        });
        outcomes.push(match r {
            Ok(id) => (Some(id), Ok(None)),
            Err(e) => (None, Err(e)),
        });
    }
    finish(ctx, all_or_none, outcomes)
}

/// Updates the records of a collections request (each carries its `Id`).
pub fn update_all(ctx: &Ctx<'_>, body: &Value) -> Result<Value, ApiError> {
    let (all_or_none, records) = parse_request(body)?;
    ctx.conn.execute_batch("SAVEPOINT devorg_batch")?;
    let mut outcomes = Vec::new();
    for rec in records {
        // Field names are case-insensitive: jsforce sends `id`.
        let id = rec
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case("Id")))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string);
        let r = in_savepoint(ctx, || {
            let rec = as_object(rec)?;
            let id = id.as_deref().ok_or_else(|| {
                ApiError::bad_request("MISSING_ARGUMENT", "Id not specified in an update call")
            })?;
            let obj = record_type(ctx, rec, Some(id))?;
            let sf = records::parse_id(obj, id)?;
            records::update(ctx, obj, &sf, rec)
        });
        outcomes.push((id, r.map(|()| None)));
    }
    finish(ctx, all_or_none, outcomes)
}

/// Upserts the records of a collections request by an external id field.
pub fn upsert_all(
    ctx: &Ctx<'_>,
    object: &str,
    field: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let obj = ctx.object(object)?;
    let (all_or_none, records) = parse_request(body)?;
    ctx.conn.execute_batch("SAVEPOINT devorg_batch")?;
    let mut outcomes = Vec::new();
    for rec in records {
        let r = in_savepoint(ctx, || {
            let rec = as_object(rec)?;
            let key = rec
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .map(|(_, v)| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .ok_or_else(|| {
                    ApiError::bad_request("MISSING_ARGUMENT", format!("{field} not specified"))
                })?;
            match records::upsert(ctx, obj, field, &key, rec)? {
                UpsertOutcome::Created(id) => Ok((id, true)),
                UpsertOutcome::Updated(id) => Ok((id, false)),
                UpsertOutcome::Multiple(_) => Err(ApiError::bad_request(
                    "DUPLICATE_EXTERNAL_ID",
                    format!("{field}: more than one record found for external id field"),
                )),
            }
        });
        outcomes.push(match r {
            Ok((id, created)) => (Some(id), Ok(Some(created))),
            Err(e) => (None, Err(e)),
        });
    }
    finish(ctx, all_or_none, outcomes)
}

/// Deletes records by id.
pub fn delete_all(ctx: &Ctx<'_>, ids: &[String], all_or_none: bool) -> Result<Value, ApiError> {
    if ids.len() > MAX_RECORDS {
        return Err(too_many(MAX_RECORDS));
    }
    ctx.conn.execute_batch("SAVEPOINT devorg_batch")?;
    let mut outcomes = Vec::new();
    for id in ids {
        let r = in_savepoint(ctx, || {
            let sf = salesforce::SfId::parse(id)
                .map_err(|_| ApiError::bad_request("MALFORMED_ID", format!("malformed id {id}")))?;
            let obj = ctx.org.schema.object_by_prefix(sf.key_prefix()).ok_or_else(|| {
                ApiError::bad_request("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            })?;
            records::delete(ctx, obj, &sf).map(|()| sf.to_string())
        });
        outcomes.push(match r {
            Ok(sf) => (Some(sf), Ok(None)),
            Err(e) => (Some(id.clone()), Err(e)),
        });
    }
    finish(ctx, all_or_none, outcomes)
}

/// Retrieves records by id: each visible record, or `null`.
pub fn retrieve_all(
    ctx: &Ctx<'_>,
    object: &str,
    ids: &[String],
    fields: &[String],
) -> Result<Value, ApiError> {
    let obj = ctx.object(object)?;
    if ids.len() > MAX_RETRIEVE_IDS {
        return Err(too_many(MAX_RETRIEVE_IDS));
    }
    if fields.is_empty() {
        return Err(ApiError::bad_request("MISSING_ARGUMENT", "fields not specified"));
    }
    let list = fields.join(",");
    records::field_list(obj, Some(&list))?;
    let mut out = Vec::new();
    for id in ids {
        let rec = records::parse_id(obj, id)
            .and_then(|sf| records::retrieve(ctx, obj, &sf, Some(&list)))
            .map(|(_, json)| Value::Object(json))
            .unwrap_or(Value::Null);
        out.push(rec);
    }
    Ok(Value::Array(out))
}

/// `POST .../composite/sobjects`.
pub async fn create(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    with_ctx(&org, &session, &v, |ctx| create_all(ctx, &body)).map(Json)
}

/// `PATCH .../composite/sobjects`.
pub async fn update(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    with_ctx(&org, &session, &v, |ctx| update_all(ctx, &body)).map(Json)
}

/// `PATCH .../composite/sobjects/{Object}/{ExtIdField}`.
pub async fn upsert(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    let field = p.get("field").cloned().unwrap_or_default();
    with_ctx(&org, &session, &v, |ctx| upsert_all(ctx, &obj.name, &field, &body)).map(Json)
}

/// Splits a comma-separated query parameter.
pub fn split_list(s: Option<&String>) -> Vec<String> {
    s.map(|s| s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default()
}

/// `DELETE .../composite/sobjects?ids=a,b&allOrNone=false`.
pub async fn delete(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    let ids = split_list(q.get("ids"));
    let all_or_none = q.get("allOrNone").is_some_and(|a| a.eq_ignore_ascii_case("true"));
    with_ctx(&org, &session, &v, |ctx| delete_all(ctx, &ids, all_or_none)).map(Json)
}

/// `POST .../composite/sobjects/{Object}` with `{"ids":[...],"fields":[...]}`.
pub async fn retrieve(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    with_ctx(&org, &session, &v, |ctx| retrieve_by_body(ctx, &obj.name, &body)).map(Json)
}

/// Retrieves the records a `{"ids":[...],"fields":[...]}` body names.
pub fn retrieve_by_body(ctx: &Ctx<'_>, object: &str, body: &Value) -> Result<Value, ApiError> {
    let strings = |k: &str| -> Vec<String> {
        body.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    retrieve_all(ctx, object, &strings("ids"), &strings("fields"))
}

/// `GET .../composite/sobjects/{Object}?ids=&fields=`.
pub async fn retrieve_get(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    with_ctx(&org, &session, &v, |ctx| retrieve_by_params(ctx, &obj.name, &q)).map(Json)
}

/// Retrieves the records the `ids` and `fields` query parameters name.
pub fn retrieve_by_params(
    ctx: &Ctx<'_>,
    object: &str,
    params: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let (ids, fields) = (split_list(params.get("ids")), split_list(params.get("fields")));
    retrieve_all(ctx, object, &ids, &fields)
}
