//! Query execution and the open cursors behind `nextRecordsUrl` locators.
//!
//! A query runs once, when the first page is asked for: the first page's rows are kept
//! whole, and of every other row only its Id, in order. A later page compiles the same
//! query restricted to that page's ids (an `Id IN (...)` condition on the root table), so
//! it costs an index lookup per row plus its child subqueries, never a re-run of the
//! whole query, and a cursor holds ids rather than rows. Like Salesforce, a user keeps at most
//! [`MAX_CURSORS_PER_USER`] cursors (the oldest goes first), and a cursor idle for
//! [`CURSOR_IDLE`] expires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use serde_json::{Map, Value, json};
use soql::ast::Query;
use soql::schema::{Catalog, ObjectSchema, RowFilter, SqlValue};
use soql::{CompileOptions, Compiled, child_result};

use crate::error::ApiError;
use crate::records::Ctx;
use crate::sharing::{SharedCatalog, to_sqlite};

/// Open cursors one user may hold.
pub const MAX_CURSORS_PER_USER: usize = 10;
/// How long an unused cursor lives.
pub const CURSOR_IDLE: Duration = Duration::from_secs(15 * 60);
/// Parent ids bound in one child-subquery statement.
const CHILD_BATCH: usize = 500;

/// The table alias the SOQL compiler gives the queried object's own table.
const ROOT_ALIAS: &str = "t0";

/// What a cursor needs to produce any page of its query again.
#[derive(Debug, Clone)]
struct Plan {
    /// The query without LIMIT and OFFSET (the ids already reflect them).
    query: Query,
    include_deleted: bool,
    now: DateTime<Utc>,
    /// The record ids of every row, in result order.
    ids: Arc<Vec<String>>,
    batch: usize,
}

#[derive(Debug)]
struct Cursor {
    user_id: String,
    plan: Plan,
    last_used: Instant,
}

/// The open cursors of a running org.
#[derive(Debug, Default)]
pub struct CursorStore {
    open: Mutex<HashMap<String, Cursor>>,
}

impl CursorStore {
    fn insert(&self, cursor: Cursor) -> String {
        let id: String = rand::rng().sample_iter(&Alphanumeric).take(15).map(char::from).collect();
        let id = format!("01g{id}");
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|_, c| c.last_used.elapsed() < CURSOR_IDLE);
        let mut mine: Vec<(String, Instant)> = open
            .iter()
            .filter(|(_, c)| c.user_id == cursor.user_id)
            .map(|(k, c)| (k.clone(), c.last_used))
            .collect();
        if mine.len() >= MAX_CURSORS_PER_USER {
            mine.sort_by_key(|(_, t)| *t);
            for (k, _) in mine.iter().take(mine.len() + 1 - MAX_CURSORS_PER_USER) {
                open.remove(k);
            }
        }
        open.insert(id.clone(), cursor);
        id
    }

    fn get(&self, id: &str, user_id: &str) -> Option<Plan> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let c = open
            .get_mut(id)
            .filter(|c| c.user_id == user_id && c.last_used.elapsed() < CURSOR_IDLE)?;
        c.last_used = Instant::now();
        Some(c.plan.clone())
    }

    fn close(&self, id: &str) {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    /// How many cursors are open.
    pub fn len(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no cursor is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn invalid_locator() -> ApiError {
    ApiError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator")
}

// FIXME: a 2,000-record page still copies every text column into its own `String` here
// before `Compiled::write_record` escapes it into the body (over a quarter of devorg's time
// per page); a `soql` writer that reads columns through a row accessor could escape
// straight from SQLite's buffers.
fn sql_row(r: &rusqlite::Row<'_>, n: usize) -> rusqlite::Result<Vec<SqlValue>> {
    let mut row = Vec::with_capacity(n);
    for i in 0..n {
        row.push(match r.get_ref(i)? {
            ValueRef::Null | ValueRef::Blob(_) => SqlValue::Null,
            ValueRef::Integer(v) => SqlValue::Integer(v),
            ValueRef::Real(v) => SqlValue::Real(v),
            ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        });
    }
    Ok(row)
}

fn read_rows(
    conn: &Connection,
    sql: &str,
    params: Vec<SqlValue>,
) -> Result<Vec<Vec<SqlValue>>, ApiError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let n = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.into_iter().map(to_sqlite)))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(sql_row(r, n)?);
    }
    Ok(out)
}

/// Reads a query's result keeping the first `keep` rows whole and the Id of every row.
fn read_first_rows_and_ids(
    conn: &Connection,
    compiled: &Compiled,
    keep: usize,
) -> Result<(Vec<Vec<SqlValue>>, Vec<String>), ApiError> {
    let mut stmt = conn.prepare_cached(&compiled.sql)?;
    let n = stmt.column_count();
    let params = compiled.params.iter().cloned().map(to_sqlite);
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let (mut first, mut ids) = (Vec::new(), Vec::new());
    while let Some(r) = rows.next()? {
        // Past the first page only the Id (the first column) is read.
        let row = sql_row(r, if first.len() < keep { n } else { n.min(1) })?;
        if let Some(id) = compiled.row_id(&row) {
            ids.push(id.to_string());
        }
        if first.len() < keep {
            first.push(row);
        }
    }
    Ok((first, ids))
}

/// Writes the `records` array of one page as JSON text, child subqueries filled in.
fn write_records(
    conn: &Connection,
    compiled: &Compiled,
    rows: &[Vec<SqlValue>],
    out: &mut Vec<u8>,
) -> Result<(), ApiError> {
    // The child relationships of each row that has children.
    let mut nested: Vec<Vec<(&str, Value)>> = vec![Vec::new(); rows.len()];
    if !compiled.children().is_empty() {
        let ids: Vec<String> =
            rows.iter().filter_map(|r| compiled.row_id(r).map(str::to_string)).collect();
        let index: HashMap<&str, usize> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| compiled.row_id(r).map(|id| (id, i)))
            .collect();
        for child in compiled.children() {
            let mut groups: HashMap<usize, Vec<Map<String, Value>>> = HashMap::new();
            for chunk in ids.chunks(CHILD_BATCH) {
                let (sql, params) = child.sql_for_parents(chunk);
                for row in read_rows(conn, &sql, params)? {
                    if let Some(&i) = child.parent_id(&row).and_then(|p| index.get(p)) {
                        groups.entry(i).or_default().push(child.assemble(&row));
                    }
                }
            }
            for (i, kids) in groups {
                if let Some(slot) = nested.get_mut(i) {
                    slot.push((child.relationship.as_str(), child_result(kids)));
                }
            }
        }
    }

    out.push(b'[');
    for (i, (row, kids)) in rows.iter().zip(&nested).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let kids: Vec<(&str, &Value)> = kids.iter().map(|(k, v)| (*k, v)).collect();
        compiled.write_record(row, &kids, out);
    }
    out.push(b']');
    Ok(())
}

/// The user's catalog, with the query's own table narrowed to one page of ids.
struct PageCatalog<'a> {
    shared: SharedCatalog<'a>,
    ids: &'a [String],
}

impl Catalog for PageCatalog<'_> {
    fn object(&self, name: &str) -> Option<&ObjectSchema> {
        self.shared.object(name)
    }

    fn row_filter(&self, object: &str, alias: &str) -> Option<RowFilter> {
        let base = self.shared.row_filter(object, alias);
        if alias != ROOT_ALIAS {
            return base;
        }
        let marks = vec!["?"; self.ids.len()].join(", ");
        let mut params: Vec<SqlValue> = Vec::new();
        let mut sql = format!("{alias}.\"Id\" IN ({marks})");
        params.extend(self.ids.iter().map(|id| SqlValue::Text(id.clone())));
        if let Some(b) = base {
            sql = format!("({}) AND {sql}", b.sql);
            params.splice(0..0, b.params);
        }
        Some(RowFilter { sql, params })
    }
}

fn soql_error(text: &str) -> impl Fn(soql::SoqlError) -> ApiError + '_ {
    move |e| ApiError::bad_request(e.error_code(), e.salesforce_message(text))
}

/// One page of a query's results, as the JSON text of its response body.
#[derive(Debug, Clone)]
pub struct Page(Vec<u8>);

impl Page {
    /// The response body.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The body as a JSON value (for composite subrequests, which nest it).
    pub fn to_value(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(&self.0).map_err(|e| ApiError::internal(&e))
    }
}

/// `{"totalSize","done"[,"nextRecordsUrl"],"records"}` for the page that ends at `end`.
fn write_page(
    ctx: &Ctx<'_>,
    compiled: &Compiled,
    rows: &[Vec<SqlValue>],
    total: usize,
    end: usize,
    cursor_id: Option<&str>,
) -> Result<Page, ApiError> {
    let mut out = Vec::with_capacity(256 + rows.len() * 1024);
    let done = end >= total;
    out.extend_from_slice(format!("{{\"totalSize\":{total},\"done\":{done}").as_bytes());
    if !done && let Some(id) = cursor_id {
        let url = format!("/services/data/v{}/query/{id}-{end}", ctx.version);
        out.extend_from_slice(b",\"nextRecordsUrl\":");
        out.extend_from_slice(&serde_json::to_vec(&url).map_err(|e| ApiError::internal(&e))?);
    }
    out.extend_from_slice(b",\"records\":");
    write_records(ctx.conn, compiled, rows, &mut out)?;
    out.push(b'}');
    Ok(Page(out))
}

/// Runs a SOQL query as the context's user and returns its first page as JSON.
pub fn run_query(
    ctx: &Ctx<'_>,
    text: &str,
    include_deleted: bool,
    batch: usize,
) -> Result<Value, ApiError> {
    query_page(ctx, text, include_deleted, batch)?.to_value()
}

/// Returns the page a locator (`01g...-2000`) points at, as JSON.
pub fn next_page(ctx: &Ctx<'_>, locator: &str) -> Result<Value, ApiError> {
    more_page(ctx, locator)?.to_value()
}

/// Runs a SOQL query as the context's user and returns its first page.
pub fn query_page(
    ctx: &Ctx<'_>,
    text: &str,
    include_deleted: bool,
    batch: usize,
) -> Result<Page, ApiError> {
    let query = soql::parse(text).map_err(soql_error(text))?;
    let catalog = SharedCatalog { org: ctx.org, access: ctx.access };
    let opts =
        CompileOptions { now: ctx.now, api_version: ctx.version.to_string(), include_deleted };
    let compiled = soql::compile(&query, &catalog, &opts).map_err(soql_error(text))?;

    if compiled.is_count() {
        let rows = read_rows(ctx.conn, &compiled.sql, compiled.params.clone())?;
        let n = match rows.first().and_then(|r| r.first()) {
            Some(SqlValue::Integer(n)) => *n,
            _ => 0,
        };
        let body = json!({"totalSize": n, "done": true, "records": []});
        return serde_json::to_vec(&body).map(Page).map_err(|e| ApiError::internal(&e));
    }
    let (first, ids) = read_first_rows_and_ids(ctx.conn, &compiled, batch)?;
    let total = ids.len().max(first.len());
    tracing::debug!(object = compiled.object(), rows = total, "query ran");
    if total <= batch {
        return write_page(ctx, &compiled, &first, total, total, None);
    }

    let mut query = query;
    query.limit = None;
    query.offset = None;
    let id = ctx.org.cursors.insert(Cursor {
        user_id: ctx.access.user.user_id.clone(),
        plan: Plan { query, include_deleted, now: ctx.now, ids: Arc::new(ids), batch },
        last_used: Instant::now(),
    });
    write_page(ctx, &compiled, &first, total, batch, Some(&id))
}

/// Returns the page a locator (`01g...-2000`) points at.
pub fn more_page(ctx: &Ctx<'_>, locator: &str) -> Result<Page, ApiError> {
    let (id, start) = locator.rsplit_once('-').ok_or_else(invalid_locator)?;
    let start: usize = start.parse().map_err(|_| invalid_locator())?;
    let plan = ctx.org.cursors.get(id, &ctx.access.user.user_id).ok_or_else(invalid_locator)?;
    let total = plan.ids.len();
    if start >= total {
        return Err(invalid_locator());
    }
    let end = (start + plan.batch).min(total);
    let page_ids = plan.ids.get(start..end).unwrap_or(&[]);

    // The same query, narrowed to this page's ids; rows come back in the query's order.
    let catalog =
        PageCatalog { shared: SharedCatalog { org: ctx.org, access: ctx.access }, ids: page_ids };
    let opts = CompileOptions {
        now: plan.now,
        api_version: ctx.version.to_string(),
        include_deleted: plan.include_deleted,
    };
    // The page's ids met the query's filter when it ran (a cursor is a snapshot of the
    // result), so the filter is not evaluated again: a semi-join would otherwise be run
    // once per page, making a long result cost the square of its length.
    let mut page_query = plan.query.clone();
    page_query.where_clause = None;
    let text = page_query.to_string();
    let compiled = soql::compile(&page_query, &catalog, &opts).map_err(soql_error(&text))?;
    let rows = read_rows(ctx.conn, &compiled.sql, compiled.params.clone())?;
    let page = write_page(ctx, &compiled, &rows, total, end, Some(id))?;
    if end >= total {
        ctx.org.cursors.close(id);
    }
    Ok(page)
}
