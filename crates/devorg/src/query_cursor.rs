//! Query execution and the open cursors behind `nextRecordsUrl` locators.
//!
//! A query runs once, when the first page is asked for, and reads only the Ids of the
//! rows it matches, in order. Every page, the first included, compiles the same query
//! without its filter and restricted to that page's ids (`Id IN` the ids, bound as one
//! JSON array), so it costs an index lookup per row plus its child subqueries, never a
//! re-run of the whole query, and a cursor holds ids rather than rows. Rows are written
//! to the response as JSON straight from SQLite's buffers. Like Salesforce, a user keeps
//! at most [`MAX_CURSORS_PER_USER`] cursors (the oldest goes first), and a cursor idle for
//! [`CURSOR_IDLE`] expires.
//!
//! A query whose own text bounds it to one page (a `LIMIT`, or an `Id IN (...)` list its
//! filter requires, within the batch size) and that has no child subquery needs no
//! cursor: it runs once, filter and all, and its rows are the page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Statement};
use serde_json::{Map, Value, json};
use soql::ast::{CompareOp, Condition, FieldPath, InList, Query, SelectItem, Span};
use soql::schema::{Catalog, ObjectSchema, RowFilter, RowValues, SqlValue, SqlValueRef};
use soql::{CompileOptions, Compiled, child_result};

use crate::error::ApiError;
use crate::records::Ctx;
use crate::sharing::SharedCatalog;

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
    /// The query without WHERE, LIMIT and OFFSET (the ids already reflect them).
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

fn soql_error(text: &str) -> impl Fn(soql::SoqlError) -> ApiError + '_ {
    move |e| ApiError::bad_request(e.error_code(), e.salesforce_message(text))
}

/// A statement's current row, read in place: text is handed out as SQLite holds it.
struct StatementRow<'a, 's>(&'a rusqlite::Row<'s>);

impl RowValues for StatementRow<'_, '_> {
    fn value(&self, i: usize) -> Option<SqlValueRef<'_>> {
        Some(match self.0.get_ref(i).ok()? {
            ValueRef::Null | ValueRef::Blob(_) => SqlValueRef::Null,
            ValueRef::Integer(v) => SqlValueRef::Integer(v),
            ValueRef::Real(v) => SqlValueRef::Real(v),
            // Every value devorg stores arrived as JSON text, so it is valid UTF-8.
            ValueRef::Text(t) => {
                std::str::from_utf8(t).map_or(SqlValueRef::Null, SqlValueRef::Text)
            }
        })
    }
}

/// Prepares `sql` (from the statement cache) with `params` bound in order.
fn bound<'c>(
    conn: &'c Connection,
    sql: &str,
    params: &[SqlValue],
) -> Result<rusqlite::CachedStatement<'c>, ApiError> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    Ok(stmt)
}

fn bind(stmt: &mut Statement<'_>, params: &[SqlValue]) -> Result<(), ApiError> {
    for (i, p) in params.iter().enumerate() {
        match p {
            SqlValue::Null => stmt.raw_bind_parameter(i + 1, rusqlite::types::Null)?,
            SqlValue::Integer(v) => stmt.raw_bind_parameter(i + 1, v)?,
            SqlValue::Real(v) => stmt.raw_bind_parameter(i + 1, v)?,
            SqlValue::Text(v) => stmt.raw_bind_parameter(i + 1, v.as_str())?,
        }
    }
    Ok(())
}

/// Every row of a statement, copied out (child subqueries and aggregate results).
fn read_rows(
    conn: &Connection,
    sql: &str,
    params: &[SqlValue],
) -> Result<Vec<Vec<SqlValue>>, ApiError> {
    let mut stmt = bound(conn, sql, params)?;
    let n = stmt.column_count();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let row = StatementRow(r);
        out.push((0..n).map(|i| copied(row.value(i))).collect());
    }
    Ok(out)
}

fn copied(v: Option<SqlValueRef<'_>>) -> SqlValue {
    match v {
        None | Some(SqlValueRef::Null) => SqlValue::Null,
        Some(SqlValueRef::Integer(v)) => SqlValue::Integer(v),
        Some(SqlValueRef::Real(v)) => SqlValue::Real(v),
        Some(SqlValueRef::Text(t)) => SqlValue::Text(t.to_string()),
    }
}

/// The query reduced to the Id of each record it returns, in its order.
fn id_query(query: &Query) -> Query {
    let id = FieldPath { parts: vec!["Id".to_string()], span: Span::default() };
    Query { select: vec![SelectItem::Field(id)], ..query.clone() }
}

/// Runs the query for the Ids of the records it returns, in order.
fn read_ids(ctx: &Ctx<'_>, query: &Query, opts: &CompileOptions) -> Result<Vec<String>, ApiError> {
    let catalog = SharedCatalog { org: ctx.org, access: ctx.access };
    let ids_query = id_query(query);
    let compiled = soql::compile(&ids_query, &catalog, opts)
        .map_err(|e| soql_error(&ids_query.to_string())(e))?;
    let mut stmt = bound(ctx.conn, &compiled.sql, &compiled.params)?;
    let mut rows = stmt.raw_query();
    let mut ids = Vec::new();
    while let Some(r) = rows.next()? {
        if let Some(id) = compiled.row_id(&StatementRow(r)) {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// The values of a record's child relationships, by relationship name.
type Children<'q> = Vec<(&'q str, Value)>;

/// The child relationships of a page's records, by the parent's id.
fn child_results<'q>(
    conn: &Connection,
    compiled: &'q Compiled,
    ids: &[String],
) -> Result<HashMap<String, Children<'q>>, ApiError> {
    let mut nested: HashMap<String, Children<'q>> = HashMap::new();
    for child in compiled.children() {
        let mut groups: HashMap<String, Vec<Map<String, Value>>> = HashMap::new();
        for chunk in ids.chunks(CHILD_BATCH) {
            let (sql, params) = child.sql_for_parents(chunk);
            for row in read_rows(conn, &sql, &params)? {
                if let Some(parent) = child.parent_id(&row) {
                    groups.entry(parent.to_string()).or_default().push(child.assemble(&row));
                }
            }
        }
        for (parent, kids) in groups {
            nested
                .entry(parent)
                .or_default()
                .push((child.relationship.as_str(), child_result(kids)));
        }
    }
    Ok(nested)
}

/// Writes the `records` array of one page as JSON text, child subqueries filled in,
/// each record straight from the statement's row.
fn write_records(
    conn: &Connection,
    compiled: &Compiled,
    ids: &[String],
    out: &mut Vec<u8>,
) -> Result<(), ApiError> {
    let nested = child_results(conn, compiled, ids)?;
    let mut stmt = bound(conn, &compiled.sql, &compiled.params)?;
    let mut rows = stmt.raw_query();
    out.push(b'[');
    let mut first = true;
    while let Some(r) = rows.next()? {
        let row = StatementRow(r);
        if !first {
            out.push(b',');
        }
        first = false;
        let kids: Vec<(&str, &Value)> = compiled
            .row_id(&row)
            .and_then(|id| nested.get(id))
            .map(|kids| kids.iter().map(|(k, v)| (*k, v)).collect())
            .unwrap_or_default();
        compiled.write_record(&row, &kids, out);
    }
    out.push(b']');
    Ok(())
}

/// The user's catalog, with the query's own table narrowed to one page of ids.
struct PageCatalog<'a> {
    shared: SharedCatalog<'a>,
    /// The page's ids as one JSON array, bound as a single parameter: the statement's text
    /// is the same for every page, and no bound value steers the plan, so SQLite neither
    /// parses a long `IN (?, ?, ...)` list nor plans the statement again for each page.
    ids_json: String,
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
        let mut sql = format!("{alias}.\"Id\" IN (SELECT value FROM json_each(?))");
        let mut params = vec![SqlValue::Text(self.ids_json.clone())];
        if let Some(b) = base {
            sql = format!("({}) AND {sql}", b.sql);
            params.splice(0..0, b.params);
        }
        Some(RowFilter { sql, params })
    }
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

/// `{"totalSize","done"[,"nextRecordsUrl"],"records":` for the page that ends at `end`.
fn page_head(
    ctx: &Ctx<'_>,
    total: usize,
    end: usize,
    cursor_id: Option<&str>,
    out: &mut Vec<u8>,
) -> Result<(), ApiError> {
    let done = end >= total;
    out.extend_from_slice(format!("{{\"totalSize\":{total},\"done\":{done}").as_bytes());
    if !done && let Some(id) = cursor_id {
        let url = format!("/services/data/v{}/query/{id}-{end}", ctx.version);
        out.extend_from_slice(b",\"nextRecordsUrl\":");
        out.extend_from_slice(&serde_json::to_vec(&url).map_err(|e| ApiError::internal(&e))?);
    }
    out.extend_from_slice(b",\"records\":");
    Ok(())
}

/// Room for one record of a page in the response body, so a page is rarely copied as it
/// grows.
const RECORD_BYTES: usize = 1024;

/// The page of `plan`'s ids that starts at `start`: the query without its filter,
/// restricted to those ids.
///
/// Cost: a 2,000-record page of 20 fields takes about 5 ms to the client (the bench's
/// one-client p50 at a million records on a 2-core machine: 5.4 ms). About 40% of the
/// handler is SQLite's own work per row (a seek in the Id index, then in the table, and a
/// copy of every text column), a fifth rusqlite's calls per value, the rest JSON text;
/// the body then crosses loopback. A cursor holding rowids would drop the index seek.
/// Sending the body in 256 KiB pieces while rows were read was tried: the p50 stayed, and
/// first pages' p99 rose.
fn plan_page(
    ctx: &Ctx<'_>,
    plan: &Plan,
    start: usize,
    cursor_id: Option<&str>,
) -> Result<Page, ApiError> {
    let total = plan.ids.len();
    let end = (start + plan.batch).min(total);
    let page_ids = plan.ids.get(start..end).unwrap_or(&[]);
    let mut out = Vec::with_capacity(256 + page_ids.len() * RECORD_BYTES);
    page_head(ctx, total, end, cursor_id, &mut out)?;
    if page_ids.is_empty() {
        out.extend_from_slice(b"[]}");
        return Ok(Page(out));
    }

    let ids_json = serde_json::to_string(page_ids).map_err(|e| ApiError::internal(&e))?;
    let catalog =
        PageCatalog { shared: SharedCatalog { org: ctx.org, access: ctx.access }, ids_json };
    let opts = CompileOptions {
        now: plan.now,
        api_version: ctx.version.to_string(),
        include_deleted: plan.include_deleted,
    };
    let compiled = soql::compile(&plan.query, &catalog, &opts)
        .map_err(|e| soql_error(&plan.query.to_string())(e))?;
    write_records(ctx.conn, &compiled, page_ids, &mut out)?;
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
        let rows = read_rows(ctx.conn, &compiled.sql, &compiled.params)?;
        let n = match rows.first().and_then(|r| r.first()) {
            Some(SqlValue::Integer(n)) => *n,
            _ => 0,
        };
        let body = json!({"totalSize": n, "done": true, "records": []});
        return serde_json::to_vec(&body).map(Page).map_err(|e| ApiError::internal(&e));
    }
    if !compiled.returns_records() {
        // Aggregate results: one row, no ids.
        let rows = read_rows(ctx.conn, &compiled.sql, &compiled.params)?;
        let mut out = Vec::new();
        page_head(ctx, rows.len(), rows.len(), None, &mut out)?;
        out.push(b'[');
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            compiled.write_record(row, &[], &mut out);
        }
        out.extend_from_slice(b"]}");
        return Ok(Page(out));
    }

    if compiled.children().is_empty() && row_bound(&query).is_some_and(|n| n <= batch as u64) {
        return single_page(ctx, &compiled);
    }

    let ids = read_ids(ctx, &query, &opts)?;
    let total = ids.len();
    tracing::debug!(object = compiled.object(), rows = total, "query ran");
    // The ids met the filter and reflect LIMIT and OFFSET: pages read them as they are.
    let query = Query { where_clause: None, limit: None, offset: None, ..query };
    let plan = Plan { query, include_deleted, now: ctx.now, ids: Arc::new(ids), batch };
    if total <= batch {
        return plan_page(ctx, &plan, 0, None);
    }
    let id = ctx.org.cursors.insert(Cursor {
        user_id: ctx.access.user.user_id.clone(),
        plan: plan.clone(),
        last_used: Instant::now(),
    });
    plan_page(ctx, &plan, 0, Some(&id))
}

/// At most how many rows `query` can return, where its text says: its `LIMIT`, or the
/// length of an `Id IN (...)` list (or one `Id =`) that its filter requires.
fn row_bound(query: &Query) -> Option<u64> {
    let by_ids = query.where_clause.as_ref().and_then(ids_required);
    match (query.limit, by_ids) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn ids_required(condition: &Condition) -> Option<u64> {
    let is_id =
        |field: &FieldPath| field.parts.len() == 1 && field.parts[0].eq_ignore_ascii_case("Id");
    match condition {
        Condition::In { field, negated: false, list: InList::Values(values) } if is_id(field) => {
            Some(values.len() as u64)
        }
        Condition::Compare { field, op: CompareOp::Eq, .. } if is_id(field) => Some(1),
        Condition::And(all) => all.iter().filter_map(ids_required).min(),
        _ => None,
    }
}

/// The whole answer of a query that fits one page, read in one pass.
fn single_page(ctx: &Ctx<'_>, compiled: &Compiled) -> Result<Page, ApiError> {
    let mut records = vec![b'['];
    let mut stmt = bound(ctx.conn, &compiled.sql, &compiled.params)?;
    let mut rows = stmt.raw_query();
    let mut total = 0;
    while let Some(r) = rows.next()? {
        if total > 0 {
            records.push(b',');
        }
        compiled.write_record(&StatementRow(r), &[], &mut records);
        total += 1;
    }
    records.push(b']');
    tracing::debug!(object = compiled.object(), rows = total, "query ran");
    let mut out = Vec::with_capacity(64 + records.len());
    page_head(ctx, total, total, None, &mut out)?;
    out.extend_from_slice(&records);
    out.push(b'}');
    Ok(Page(out))
}

/// Returns the page a locator (`01g...-2000`) points at.
pub fn more_page(ctx: &Ctx<'_>, locator: &str) -> Result<Page, ApiError> {
    let (id, start) = locator.rsplit_once('-').ok_or_else(invalid_locator)?;
    let start: usize = start.parse().map_err(|_| invalid_locator())?;
    let plan = ctx.org.cursors.get(id, &ctx.access.user.user_id).ok_or_else(invalid_locator)?;
    if start >= plan.ids.len() {
        return Err(invalid_locator());
    }
    // The page's ids met the query's filter when it ran (a cursor is a snapshot of the
    // result), so the filter is not evaluated again: a semi-join would otherwise be run
    // once per page, making a long result cost the square of its length.
    let page = plan_page(ctx, &plan, start, Some(id))?;
    if start + plan.batch >= plan.ids.len() {
        ctx.org.cursors.close(id);
    }
    Ok(page)
}
