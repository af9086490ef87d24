//! Composite graph: up to [`MAX_GRAPHS`] graphs of sObject subrequests
//! ([`MAX_NODES`] in all), each graph all or nothing on its own, its subrequests able
//! to use earlier results of the same graph through `@{referenceId.field}`. Graphs run in
//! order; once more than [`MAX_GRAPH_FAILURES`] have failed, the rest are not run. The
//! whole call counts as one API request.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::composite::{SubResponse, halted, path_segments, run_in_order};
use super::{version, with_ctx};
use crate::error::ApiError;
use crate::http::{AppState, JsonBody, Session};
use crate::records::Ctx;

/// Most graphs one request takes.
pub const MAX_GRAPHS: usize = 75;

/// Most subrequests (nodes) one request takes, over all its graphs.
pub const MAX_NODES: usize = 500;

/// Failed graphs a request tolerates; the graphs after one more failure are not run.
pub const MAX_GRAPH_FAILURES: usize = 14;

/// One graph of the request body.
struct Graph<'a> {
    id: &'a str,
    requests: &'a [Value],
}

fn malformed(message: &str) -> ApiError {
    ApiError::bad_request("JSON_PARSER_ERROR", message)
}

fn limit_exceeded(message: String) -> ApiError {
    ApiError::bad_request("LIMIT_EXCEEDED", message)
}

/// The graphs of a request body, checked against the limits before any of them runs.
fn graphs(body: &Value) -> Result<Vec<Graph<'_>>, ApiError> {
    let items = body
        .get("graphs")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("graphs is required"))?;
    if items.len() > MAX_GRAPHS {
        return Err(limit_exceeded(format!("Exceeded max limit of graphs allowed: {MAX_GRAPHS}")));
    }
    let graphs = items
        .iter()
        .map(|g| {
            let id = g
                .get("graphId")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed("graphId is required"))?;
            let requests = g
                .get("compositeRequest")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed("compositeRequest is required"))?;
            Ok(Graph { id, requests })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let nodes: usize = graphs.iter().map(|g| g.requests.len()).sum();
    if nodes > MAX_NODES {
        return Err(limit_exceeded(format!("Exceeded max limit of nodes allowed: {MAX_NODES}")));
    }
    Ok(graphs)
}

/// Why a subrequest may not be a node of a graph, if it may not: a graph's nodes are
/// sObject creates (`POST .../sobjects/{object}`) and reads, updates and deletes of one
/// record, by id or by external id.
// FIXME: the error code a real org gives such a node has not been checked against one;
// comparing with a real org's answer would settle it.
fn refused_node(request: &Value) -> Option<ApiError> {
    let method = request.get("method").and_then(Value::as_str).unwrap_or("").to_ascii_uppercase();
    let url = request.get("url").and_then(Value::as_str).unwrap_or("");
    let path = url.split_once('?').map_or(url, |(p, _)| p);
    let segments = path_segments(path);
    let rest: Vec<&str> = segments.iter().map(String::as_str).skip(3).collect();
    let served = segments.len() > 3
        && segments[0] == "services"
        && segments[1] == "data"
        && matches!(
            (method.as_str(), rest.as_slice()),
            ("POST", ["sobjects", _])
                | ("GET" | "PATCH" | "DELETE", ["sobjects", _, _])
                | ("GET" | "PATCH" | "DELETE", ["sobjects", _, _, _])
        );
    (!served).then(|| {
        ApiError::bad_request(
            "INVALID_INPUT",
            format!("{method} {path} is not supported in a composite graph"),
        )
    })
}

/// A graph that was not run: each of its nodes halted.
fn not_run(graph: &Graph<'_>) -> Value {
    let halted =
        halted("The graph was not processed because too many graphs of the request failed.");
    let entries: Vec<Value> = graph
        .requests
        .iter()
        .map(|r| {
            let reference = r.get("referenceId").and_then(Value::as_str).unwrap_or("");
            SubResponse::error(&halted).entry(reference)
        })
        .collect();
    graph_result(graph.id, entries, false)
}

fn graph_result(id: &str, entries: Vec<Value>, successful: bool) -> Value {
    json!({
        "graphId": id,
        "graphResponse": {"compositeResponse": entries},
        "isSuccessful": successful,
    })
}

/// Runs every graph, each in its own savepoint, and returns the `graphs` response.
fn run_graphs(ctx: &Ctx<'_>, body: &Value) -> Result<Value, ApiError> {
    let graphs = graphs(body)?;
    let mut failures = 0;
    let mut out = Vec::with_capacity(graphs.len());
    for graph in &graphs {
        if failures > MAX_GRAPH_FAILURES {
            out.push(not_run(graph));
            continue;
        }
        let (entries, failed) = run_in_order(ctx, graph.requests, true, refused_node)?;
        if failed {
            failures += 1;
        }
        out.push(graph_result(graph.id, entries, !failed));
    }
    Ok(json!({"graphs": out}))
}

/// `POST .../composite/graph`.
pub async fn graph(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    with_ctx(&org, &session, &v, |ctx| run_graphs(ctx, &body)).map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_record_operations_are_nodes() {
        let node = |method: &str, url: &str| json!({"method": method, "url": url});
        assert!(refused_node(&node("POST", "/services/data/v62.0/sobjects/Account")).is_none());
        assert!(
            refused_node(&node("patch", "/services/data/v62.0/sobjects/Account/001x")).is_none()
        );
        assert!(
            refused_node(&node("GET", "/services/data/v62.0/sobjects/Account/Ext__c/7")).is_none()
        );
        assert!(
            refused_node(&node("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account"))
                .is_some()
        );
        assert!(refused_node(&node("POST", "/services/data/v62.0/composite/sobjects")).is_some());
        assert!(refused_node(&node("DELETE", "/services/data/v62.0/sobjects/Account")).is_some());
    }
}
