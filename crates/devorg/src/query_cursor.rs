//! Query execution and the open cursors behind `nextRecordsUrl` locators.
//!
//! A query runs once: its rows are read in full when the first page is asked for and kept
//! in a cursor, so later pages cost only their own assembly (and their child subqueries),
//! never a re-run of the query. Like Salesforce, a user keeps at most
//! [`MAX_CURSORS_PER_USER`] cursors (the oldest goes first), and a cursor idle for
//! [`CURSOR_IDLE`] expires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use serde_json::{Map, Value, json};
use soql::schema::SqlValue;
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

/// The rows a query returned, shared between a cursor and the page being built.
type Rows = Arc<Vec<Vec<SqlValue>>>;

#[derive(Debug)]
struct Cursor {
    user_id: String,
    compiled: Arc<Compiled>,
    rows: Rows,
    batch: usize,
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

    fn get(&self, id: &str, user_id: &str) -> Option<(Arc<Compiled>, Rows, usize)> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let c = open
            .get_mut(id)
            .filter(|c| c.user_id == user_id && c.last_used.elapsed() < CURSOR_IDLE)?;
        c.last_used = Instant::now();
        Some((c.compiled.clone(), c.rows.clone(), c.batch))
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

fn read_rows(
    conn: &Connection,
    sql: &str,
    params: Vec<SqlValue>,
) -> Result<Vec<Vec<SqlValue>>, ApiError> {
    let mut stmt = conn.prepare(sql)?;
    let n = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.into_iter().map(to_sqlite)))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(match r.get_ref(i)? {
                ValueRef::Null | ValueRef::Blob(_) => SqlValue::Null,
                ValueRef::Integer(v) => SqlValue::Integer(v),
                ValueRef::Real(v) => SqlValue::Real(v),
                ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
            });
        }
        out.push(row);
    }
    Ok(out)
}

/// Builds the records of one page, filling in child subqueries.
fn assemble_page(
    conn: &Connection,
    compiled: &Compiled,
    rows: &[Vec<SqlValue>],
) -> Result<Vec<Value>, ApiError> {
    let mut records: Vec<Map<String, Value>> = rows.iter().map(|r| compiled.assemble(r)).collect();
    if compiled.children().is_empty() {
        return Ok(records.into_iter().map(Value::Object).collect());
    }
    let ids: Vec<String> =
        rows.iter().filter_map(|r| compiled.row_id(r).map(str::to_string)).collect();
    let index: HashMap<&str, usize> =
        rows.iter().enumerate().filter_map(|(i, r)| compiled.row_id(r).map(|id| (id, i))).collect();
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
            if let Some(rec) = records.get_mut(i) {
                rec.insert(child.relationship.clone(), child_result(kids));
            }
        }
    }
    Ok(records.into_iter().map(Value::Object).collect())
}

fn page_body(
    ctx: &Ctx<'_>,
    compiled: &Compiled,
    rows: &[Vec<SqlValue>],
    start: usize,
    batch: usize,
    cursor_id: Option<&str>,
) -> Result<Value, ApiError> {
    let end = (start + batch).min(rows.len());
    let records = assemble_page(ctx.conn, compiled, rows.get(start..end).unwrap_or(&[]))?;
    let mut body = json!({"totalSize": rows.len(), "done": end >= rows.len()});
    if end < rows.len()
        && let Some(id) = cursor_id
    {
        body["nextRecordsUrl"] = json!(format!("/services/data/v{}/query/{id}-{end}", ctx.version));
    }
    body["records"] = Value::Array(records);
    Ok(body)
}

/// Runs a SOQL query as the context's user and returns its first page.
pub fn run_query(
    ctx: &Ctx<'_>,
    text: &str,
    include_deleted: bool,
    batch: usize,
) -> Result<Value, ApiError> {
    let soql_error =
        |e: soql::SoqlError| ApiError::bad_request(e.error_code(), e.salesforce_message(text));
    let query = soql::parse(text).map_err(soql_error)?;
    let catalog = SharedCatalog { org: ctx.org, access: ctx.access };
    let opts =
        CompileOptions { now: ctx.now, api_version: ctx.version.to_string(), include_deleted };
    let compiled = soql::compile(&query, &catalog, &opts).map_err(soql_error)?;
    let rows = read_rows(ctx.conn, &compiled.sql, compiled.params.clone())?;
    tracing::debug!(object = compiled.object(), rows = rows.len(), "query ran");

    if compiled.is_count() {
        let n = match rows.first().and_then(|r| r.first()) {
            Some(SqlValue::Integer(n)) => *n,
            _ => 0,
        };
        return Ok(json!({"totalSize": n, "done": true, "records": []}));
    }
    if rows.len() <= batch {
        return page_body(ctx, &compiled, &rows, 0, batch, None);
    }
    let compiled = Arc::new(compiled);
    let rows = Arc::new(rows);
    let id = ctx.org.cursors.insert(Cursor {
        user_id: ctx.access.user.user_id.clone(),
        compiled: compiled.clone(),
        rows: rows.clone(),
        batch,
        last_used: Instant::now(),
    });
    page_body(ctx, &compiled, &rows, 0, batch, Some(&id))
}

/// Returns the page a locator (`01g...-2000`) points at.
pub fn next_page(ctx: &Ctx<'_>, locator: &str) -> Result<Value, ApiError> {
    let (id, start) = locator.rsplit_once('-').ok_or_else(invalid_locator)?;
    let start: usize = start.parse().map_err(|_| invalid_locator())?;
    let (compiled, rows, batch) =
        ctx.org.cursors.get(id, &ctx.access.user.user_id).ok_or_else(invalid_locator)?;
    if start >= rows.len() {
        return Err(invalid_locator());
    }
    let body = page_body(ctx, &compiled, &rows, start, batch, Some(id))?;
    if start + batch >= rows.len() {
        ctx.org.cursors.close(id);
    }
    Ok(body)
}
