//! The HTTP surface: one module per area, assembled into one router here.

pub mod collections;
pub mod composite;
pub mod composite_batch;
pub mod composite_graph;
pub mod composite_tree;
pub mod describe;
pub mod limits;
pub mod oauth;
pub mod query;
pub mod replication;
pub mod soap;
pub mod sobjects;
pub mod versions;

use std::collections::HashMap;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};

use crate::error::ApiError;
use crate::http::{AppState, Session, api_version, observe};
use crate::org::Org;
use crate::records::Ctx;
use crate::schema::ObjectDef;

/// Runs `f` in one database transaction as the session's user; an error rolls it back.
pub fn with_ctx<T>(
    org: &Org,
    session: &Session,
    version: &str,
    f: impl FnOnce(&Ctx<'_>) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let conn = org.db();
    let tx = conn.unchecked_transaction()?;
    let ctx = Ctx {
        conn: &tx,
        org,
        access: org.access(&session.principal),
        now: crate::txn_hold::request_stamp().unwrap_or_else(|| org.clock.now()),
        version,
    };
    let out = f(&ctx)?;
    tx.commit()?;
    Ok(out)
}

/// The `version` path parameter, checked.
pub fn version(p: &HashMap<String, String>) -> Result<String, ApiError> {
    api_version(p.get("version").map(String::as_str).unwrap_or(""))
}

/// The `object` path parameter as a known object.
pub fn object_param<'a>(
    org: &'a Org,
    p: &HashMap<String, String>,
) -> Result<&'a ObjectDef, ApiError> {
    org.schema
        .object(p.get("object").map(String::as_str).unwrap_or(""))
        .ok_or_else(ApiError::not_found)
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed(method: Method) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("HTTP Method '{method}' not allowed. Allowed are HEAD,GET,POST,PATCH,DELETE"),
    )
    .into_response()
}

/// Every route the org serves.
pub fn router(org: AppState) -> Router {
    const D: &str = "/services/data/{version}";
    Router::new()
        .route("/services/data", get(versions::list))
        .route(D, get(versions::resources))
        .route(&format!("{D}/sobjects"), get(describe::global))
        .route(&format!("{D}/sobjects/{{object}}"), get(describe::basic).post(sobjects::create))
        .route(&format!("{D}/sobjects/{{object}}/describe"), get(describe::describe))
        .route(&format!("{D}/sobjects/{{object}}/updated"), get(replication::updated))
        .route(&format!("{D}/sobjects/{{object}}/deleted"), get(replication::deleted))
        .route(
            &format!("{D}/sobjects/{{object}}/{{id}}"),
            get(sobjects::retrieve).patch(sobjects::update).delete(sobjects::delete),
        )
        .route(
            &format!("{D}/sobjects/{{object}}/{{field}}/{{value}}"),
            get(sobjects::get_by_external_id)
                .patch(sobjects::upsert)
                .delete(sobjects::delete_by_external_id),
        )
        .route(&format!("{D}/query"), get(query::query))
        .route(&format!("{D}/query/{{locator}}"), get(query::more))
        .route(&format!("{D}/queryAll"), get(query::query_all))
        .route(&format!("{D}/queryAll/{{locator}}"), get(query::more))
        .route(&format!("{D}/composite"), post(composite::composite))
        .route(&format!("{D}/composite/batch"), post(composite_batch::batch))
        .route(&format!("{D}/composite/graph"), post(composite_graph::graph))
        .route(&format!("{D}/composite/tree/{{object}}"), post(composite_tree::create))
        .route(
            &format!("{D}/composite/sobjects"),
            post(collections::create).patch(collections::update).delete(collections::delete),
        )
        .route(
            &format!("{D}/composite/sobjects/{{object}}"),
            post(collections::retrieve).get(collections::retrieve_get),
        )
        .route(&format!("{D}/composite/sobjects/{{object}}/{{field}}"), patch(collections::upsert))
        .route(&format!("{D}/limits"), get(limits::limits))
        .route("/services/oauth2/token", post(oauth::token))
        .route(
            "/services/oauth2/authorize",
            get(oauth::authorize_form).post(oauth::authorize_submit),
        )
        .route("/services/oauth2/userinfo", get(oauth::userinfo).post(oauth::userinfo))
        .route("/services/oauth2/revoke", post(oauth::revoke).get(oauth::revoke))
        .route("/id/{org}/{user}", get(oauth::identity_url))
        .route("/services/Soap/u/{version}", post(soap::partner))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(org.clone(), observe))
        .layer(DefaultBodyLimit::disable())
        .with_state(org)
}
