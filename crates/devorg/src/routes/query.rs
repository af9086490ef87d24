//! query, queryAll and queryMore (`/query/{locator}`), paged by `Sforce-Query-Options`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::{version, with_ctx};
use crate::error::ApiError;
use crate::http::{AppState, Session};
use crate::query_cursor::{Page, more_page, query_page};

/// Default and bounds of the page size.
const DEFAULT_BATCH: usize = 2000;
const MIN_BATCH: usize = 200;

/// The page size from `Sforce-Query-Options: batchSize=N`, clamped to 200..2000.
fn batch_size(headers: &HeaderMap) -> usize {
    batch_option(headers.get("Sforce-Query-Options").and_then(|v| v.to_str().ok()))
}

/// The page size a `Sforce-Query-Options` value asks for (`batchSize=N`), clamped to
/// 200..2000; the default without one.
pub fn batch_option(options: Option<&str>) -> usize {
    options
        .and_then(|v| {
            v.split(',').find_map(|opt| {
                let (k, n) = opt.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("batchSize")
                    .then(|| n.trim().parse::<usize>().ok())?
            })
        })
        .map_or(DEFAULT_BATCH, |n| n.clamp(MIN_BATCH, DEFAULT_BATCH))
}

/// A page as the response: its JSON text, written once.
impl IntoResponse for Page {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.into_bytes()).into_response()
    }
}

async fn run(
    org: AppState,
    session: Session,
    p: HashMap<String, String>,
    q: HashMap<String, String>,
    headers: HeaderMap,
    include_deleted: bool,
) -> Result<Page, ApiError> {
    let v = version(&p)?;
    let text = q.get("q").map(String::as_str).unwrap_or("").trim();
    if text.is_empty() {
        return Err(ApiError::bad_request("MALFORMED_QUERY", "A query string has to be specified"));
    }
    let batch = batch_size(&headers);
    with_ctx(&org, &session, &v, |ctx| query_page(ctx, text, include_deleted, batch))
}

/// `GET .../query?q=`.
pub async fn query(
    State(org): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Page, ApiError> {
    run(org, session, p, q, headers, false).await
}

/// `GET .../queryAll?q=`: deleted rows included.
pub async fn query_all(
    State(org): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Page, ApiError> {
    run(org, session, p, q, headers, true).await
}

/// `GET .../query/{locator}` (and `queryAll/{locator}`).
pub async fn more(
    State(org): State<AppState>,
    session: Session,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Page, ApiError> {
    let v = version(&p)?;
    let locator = p.get("locator").map(String::as_str).unwrap_or("");
    with_ctx(&org, &session, &v, |ctx| more_page(ctx, locator))
}
