//! sObject Tree (`POST .../composite/tree/{Object}`): up to 200 new records in nested
//! parent-child trees, each named by `attributes.referenceId`, created all or nothing.
//!
//! Records are created level by level across all trees (every root, then every second-level
//! record, ...), as Salesforce does; a child gets its parent's new id in the reference
//! field behind its child relationship. The answer is `201` with each `referenceId` and its
//! new `id`, or `400` with only the records that failed and why, nothing having been kept.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{object_param, version, with_ctx};
use crate::error::ApiError;
use crate::http::{AppState, JsonBody, Session};
use crate::records::{self, Ctx};
use crate::schema::ObjectDef;

/// Most records one request creates, across all its trees.
pub const MAX_RECORDS: usize = 200;
/// Most levels one tree has.
pub const MAX_DEPTH: usize = 5;
/// Most object types one request creates.
pub const MAX_TYPES: usize = 5;

/// One record of a tree, flattened: what to create and where its parent is.
struct Node<'a> {
    reference: String,
    object: &'a ObjectDef,
    fields: Map<String, Value>,
    /// The parent's index among the nodes, and the reference field that points at it.
    parent: Option<(usize, String)>,
}

/// A record that could not be created, as the answer lists it.
struct Failure {
    reference: String,
    error: ApiError,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("INVALID_INPUT", message)
}

/// Whether a reference id is letters, digits and underscores, starting with a letter or
/// digit.
fn valid_reference(r: &str) -> bool {
    r.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A record still to be read, and where it sits in its tree.
struct Pending<'v, 'a> {
    value: &'v Value,
    object: &'a ObjectDef,
    depth: usize,
    parent: Option<(usize, String)>,
}

/// Reads one record of a tree: its fields, and its children queued on `next` (the record
/// becomes node `index`).
fn read_record<'v, 'a>(
    ctx: &Ctx<'a>,
    pending: Pending<'v, 'a>,
    index: usize,
    next: &mut Vec<Pending<'v, 'a>>,
) -> Result<Node<'a>, Failure> {
    let Pending { value, object, depth, parent } = pending;
    let Some(rec) = value.as_object() else {
        let error = invalid("Each record must be a JSON object");
        return Err(Failure { reference: String::new(), error });
    };
    let attributes = rec.get("attributes");
    let reference =
        attributes.and_then(|a| a.get("referenceId")).and_then(Value::as_str).unwrap_or("");
    let fail = |error: ApiError| Failure { reference: reference.to_string(), error };
    if !valid_reference(reference) {
        return Err(fail(invalid(format!(
            "Invalid reference id: '{reference}'. A reference id must begin with a letter or digit and contain only letters, digits and underscores"
        ))));
    }
    let type_name = attributes.and_then(|a| a.get("type")).and_then(Value::as_str);
    if type_name.is_none_or(|t| !t.eq_ignore_ascii_case(&object.name)) {
        return Err(fail(ApiError::bad_request(
            "INVALID_TYPE",
            format!("The type of the record with reference id {reference} must be {}", object.name),
        )));
    }
    if depth > MAX_DEPTH {
        return Err(fail(invalid(format!(
            "An sObject tree can be at most {MAX_DEPTH} levels deep"
        ))));
    }

    // Child relationships are the members holding `{"records": [...]}`.
    let mut fields = Map::new();
    let mut children = Vec::new();
    for (key, v) in rec {
        if key == "attributes" {
            continue;
        }
        let Some(kids) = v.as_object().and_then(|o| o.get("records")).and_then(Value::as_array)
        else {
            fields.insert(key.clone(), v.clone());
            continue;
        };
        let rel =
            ctx.org.schema.children(&object.name).iter().find(|c| {
                c.relationship_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(key))
            });
        let (Some(rel), Some(child)) =
            (rel, rel.and_then(|r| ctx.org.schema.object(&r.child_object)))
        else {
            return Err(fail(invalid(format!(
                "No such relation '{key}' on entity '{}'. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name.",
                object.name
            ))));
        };
        children.extend(kids.iter().map(|value| Pending {
            value,
            object: child,
            depth: depth + 1,
            parent: Some((index, rel.field.clone())),
        }));
    }
    next.extend(children);
    Ok(Node { reference: reference.to_string(), object, fields, parent })
}

/// Walks the trees breadth-first (so nodes come out level by level) and checks their shape.
fn flatten<'a>(
    ctx: &Ctx<'a>,
    root: &'a ObjectDef,
    records: &[Value],
) -> Result<Vec<Node<'a>>, Vec<Failure>> {
    let mut nodes: Vec<Node<'a>> = Vec::new();
    let mut failures: Vec<Failure> = Vec::new();
    let mut level: Vec<Pending<'_, 'a>> = records
        .iter()
        .map(|value| Pending { value, object: root, depth: 1, parent: None })
        .collect();
    while !level.is_empty() {
        let mut next = Vec::new();
        for pending in level {
            match read_record(ctx, pending, nodes.len(), &mut next) {
                Ok(node) => nodes.push(node),
                Err(failure) => failures.push(failure),
            }
        }
        level = next;
    }

    // Reference ids are unique in a request: every use of a repeated one is reported.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for n in &nodes {
        *seen.entry(n.reference.as_str()).or_default() += 1;
    }
    for n in nodes.iter().filter(|n| seen[n.reference.as_str()] > 1) {
        failures.push(Failure {
            reference: n.reference.clone(),
            error: invalid(format!(
                "Duplicate ReferenceId provided in the request: {}",
                n.reference
            )),
        });
    }
    let types: HashSet<&str> = nodes.iter().map(|n| n.object.name.as_str()).collect();
    if types.len() > MAX_TYPES && failures.is_empty() {
        failures.push(Failure {
            reference: nodes.first().map(|n| n.reference.clone()).unwrap_or_default(),
            error: invalid(format!(
                "An sObject tree request can hold at most {MAX_TYPES} object types"
            )),
        });
    }
    if failures.is_empty() { Ok(nodes) } else { Err(failures) }
}

/// Creates the nodes in order; stops at the first record that cannot be created.
fn create_nodes(ctx: &Ctx<'_>, nodes: &[Node<'_>]) -> Result<Vec<String>, Failure> {
    let mut ids: Vec<String> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let mut fields = node.fields.clone();
        if let Some((parent, field)) = &node.parent {
            let parent_id = ids.get(*parent).cloned().unwrap_or_default();
            fields.retain(|k, _| !k.eq_ignore_ascii_case(field));
            fields.insert(field.clone(), Value::String(parent_id));
        }
        match records::create(ctx, node.object, &fields) {
            Ok(id) => ids.push(id.to_string()),
            Err(error) => return Err(Failure { reference: node.reference.clone(), error }),
        }
    }
    Ok(ids)
}

fn failed(failures: Vec<Failure>) -> (StatusCode, Value) {
    let results: Vec<Value> = failures
        .into_iter()
        .map(|f| json!({"referenceId": f.reference, "errors": [f.error.to_record_json()]}))
        .collect();
    (StatusCode::BAD_REQUEST, json!({"hasErrors": true, "results": results}))
}

/// Checks and creates the trees of one request; a failure leaves no record behind.
fn create_trees(
    ctx: &Ctx<'_>,
    root: &ObjectDef,
    body: &Value,
) -> Result<(StatusCode, Value), ApiError> {
    let records = body.get("records").and_then(Value::as_array).ok_or_else(|| {
        ApiError::bad_request("JSON_PARSER_ERROR", "The request body must hold a records array")
    })?;
    let nodes = match flatten(ctx, root, records) {
        Ok(nodes) => nodes,
        Err(failures) => return Ok(failed(failures)),
    };
    if nodes.len() > MAX_RECORDS {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!("An sObject tree request can hold at most {MAX_RECORDS} records"),
        ));
    }
    tracing::debug!(object = %root.name, records = nodes.len(), "sObject tree");

    ctx.conn.execute_batch("SAVEPOINT devorg_tree")?;
    match create_nodes(ctx, &nodes) {
        Ok(ids) => {
            ctx.conn.execute_batch("RELEASE devorg_tree")?;
            let results: Vec<Value> = nodes
                .iter()
                .zip(ids)
                .map(|(n, id)| json!({"referenceId": n.reference, "id": id}))
                .collect();
            Ok((StatusCode::CREATED, json!({"hasErrors": false, "results": results})))
        }
        Err(failure) => {
            ctx.conn.execute_batch("ROLLBACK TO devorg_tree; RELEASE devorg_tree")?;
            tracing::debug!(code = %failure.error.code, "sObject tree refused");
            Ok(failed(vec![failure]))
        }
    }
}

/// `POST .../composite/tree/{Object}`.
pub async fn create(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let v = version(&p)?;
    let root = object_param(&org, &p)?;
    let (status, body) = with_ctx(&org, &session, &v, |ctx| create_trees(ctx, root, &body))?;
    Ok((status, Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_ids_are_letters_digits_and_underscores() {
        assert!(valid_reference("ref1"));
        assert!(valid_reference("1_account"));
        assert!(!valid_reference(""));
        assert!(!valid_reference("_ref"));
        assert!(!valid_reference("ref-1"));
    }
}
