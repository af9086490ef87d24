//! Offline SOQL: parses a query, compiles it with the shared compiler against the store's
//! catalog, runs it on a read connection and shapes the answer like the REST query
//! resource (`{"totalSize", "done", "nextRecordsUrl", "records"}`), child subqueries
//! included. Results come in pages read by keyset (see [`locator`]), as the REST
//! resource's do.

mod locator;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::types::Value as RowValue;
use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, Value, json};
use soql::schema::SqlValue;
use soql::{CompileOptions, compile, parse};

use crate::StoreError;
use crate::objects::ObjectCatalog;
use locator::{Locator, NEXT_RECORDS_PATH};

/// Parent ids bound per child-query statement (each id is one SQL parameter).
const CHILD_BATCH: usize = 500;

fn to_row_value(v: &SqlValue) -> RowValue {
    match v {
        SqlValue::Null => RowValue::Null,
        SqlValue::Integer(i) => RowValue::Integer(*i),
        SqlValue::Real(f) => RowValue::Real(*f),
        SqlValue::Text(s) => RowValue::Text(s.clone()),
    }
}

fn from_row_value(v: RowValue) -> SqlValue {
    match v {
        RowValue::Null | RowValue::Blob(_) => SqlValue::Null,
        RowValue::Integer(i) => SqlValue::Integer(i),
        RowValue::Real(f) => SqlValue::Real(f),
        RowValue::Text(s) => SqlValue::Text(s),
    }
}

/// Runs one statement and returns every row as compiler values.
fn rows(
    conn: &Connection,
    sql: &str,
    params: &[SqlValue],
) -> Result<Vec<Vec<SqlValue>>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let width = stmt.column_count();
    let mut out = Vec::new();
    let mut result = stmt.query(params_from_iter(params.iter().map(to_row_value)))?;
    while let Some(row) = result.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(from_row_value(row.get(i)?));
        }
        out.push(values);
    }
    Ok(out)
}

fn single_count(conn: &Connection, sql: &str, params: &[SqlValue]) -> Result<i64, StoreError> {
    let rows = rows(conn, sql, params)?;
    Ok(match rows.first().and_then(|r| r.first()) {
        Some(SqlValue::Integer(n)) => *n,
        _ => 0,
    })
}

/// The `EXPLAIN QUERY PLAN` details of the main statement `soql` compiles to.
pub(crate) fn plan(
    conn: &Connection,
    catalog: &ObjectCatalog,
    soql: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let compiled = compile(&parse(soql)?, catalog, &CompileOptions::new(now))?;
    let explain = format!("EXPLAIN QUERY PLAN {}", compiled.sql);
    Ok(rows(conn, &explain, &compiled.params)?
        .into_iter()
        .filter_map(|row| match row.into_iter().nth(3) {
            Some(SqlValue::Text(detail)) => Some(detail),
            _ => None,
        })
        .collect())
}

/// Rows in a query's page when the caller does not say, as the REST resource's default.
pub const DEFAULT_BATCH_SIZE: u32 = 2000;

/// The fewest and most rows a page holds (a batch size outside is brought within), as
/// the REST resource's `Sforce-Query-Options: batchSize` allows.
pub const BATCH_SIZES: std::ops::RangeInclusive<u32> = 200..=2000;

/// Runs `soql` against the stored records, with relative dates resolved against `now`,
/// and returns its first page of at most `batch_size` records (brought within
/// [`BATCH_SIZES`]). `totalSize` is exact; with more records, `done` is false and
/// `nextRecordsUrl` ends with the locator [`query_more`] takes.
pub(crate) fn query(
    conn: &Connection,
    catalog: &ObjectCatalog,
    soql: &str,
    now: DateTime<Utc>,
    batch_size: u32,
) -> Result<Value, StoreError> {
    let batch_size = batch_size.clamp(*BATCH_SIZES.start(), *BATCH_SIZES.end());
    page(conn, catalog, soql, now, batch_size, None)
}

/// The page after the one whose `nextRecordsUrl` (or its last segment) is `locator`,
/// read afresh: rows committed since the page before are seen, and `totalSize` stays
/// the one counted with the first page.
pub(crate) fn query_more(
    conn: &Connection,
    catalog: &ObjectCatalog,
    locator: &str,
) -> Result<Value, StoreError> {
    let locator = Locator::decode(locator)?;
    let batch_size = locator.batch_size.clamp(*BATCH_SIZES.start(), *BATCH_SIZES.end());
    let (soql, now) = (locator.soql.clone(), locator.now);
    page(conn, catalog, &soql, now, batch_size, Some(locator))
}

/// One page: the first (with `from` unset) or the one `from` points at.
fn page(
    conn: &Connection,
    catalog: &ObjectCatalog,
    soql: &str,
    now: DateTime<Utc>,
    batch_size: u32,
    from: Option<Locator>,
) -> Result<Value, StoreError> {
    let parsed = parse(soql)?;
    let compiled = compile(&parsed, catalog, &CompileOptions::new(now))?;
    tracing::debug!(
        object = compiled.object(),
        children = compiled.children().len(),
        later_page = from.is_some(),
        "offline query"
    );

    // Counts and aggregates are one answer.
    if !compiled.pages() {
        if from.is_some() {
            return Err(StoreError::BadLocator("its query has no further pages".into()));
        }
        if compiled.is_count() {
            let n = single_count(conn, &compiled.sql, &compiled.params)?;
            return Ok(json!({"totalSize": n, "done": true, "records": []}));
        }
        let rows = rows(conn, &compiled.sql, &compiled.params)?;
        let records: Vec<Value> =
            rows.iter().map(|r| Value::Object(compiled.assemble(r))).collect();
        return Ok(json!({"totalSize": records.len(), "done": true, "records": records}));
    }

    // This page's rows, one more than it holds to learn whether another follows; the
    // query's LIMIT bounds all pages together.
    let (seen, total) = match &from {
        Some(l) => (l.seen, l.total),
        None => {
            let (count_sql, count_params) = compiled.count_sql();
            (0, single_count(conn, &count_sql, &count_params)?)
        }
    };
    let left = compiled.limit().map_or(u64::MAX, |limit| limit.saturating_sub(seen));
    let take = left.min(u64::from(batch_size));
    let read = if left > take { take + 1 } else { take };
    let (sql, params) = compiled
        .page_sql(from.as_ref().map(|l| &l.after), read)
        .ok_or_else(|| StoreError::BadLocator("it does not fit its query's ORDER BY".into()))?;
    let mut page = rows(conn, &sql, &params)?;
    let more = page.len() as u64 > take;
    page.truncate(usize::try_from(take).unwrap_or(usize::MAX));
    let mut records: Vec<Map<String, Value>> = page.iter().map(|r| compiled.assemble(r)).collect();

    // Child subqueries: run per batch of parents, group by parent id.
    let parent_ids: Vec<String> =
        page.iter().filter_map(|r| compiled.row_id(r).map(str::to_owned)).collect();
    for child in compiled.children() {
        let mut groups: HashMap<String, Vec<Map<String, Value>>> = HashMap::new();
        for batch in parent_ids.chunks(CHILD_BATCH) {
            let (sql, params) = child.sql_for_parents(batch);
            for row in rows(conn, &sql, &params)? {
                if let Some(parent) = child.parent_id(&row) {
                    groups.entry(parent.to_owned()).or_default().push(child.assemble(&row));
                }
            }
        }
        for (record, id) in records.iter_mut().zip(&parent_ids) {
            let children = groups.remove(id).unwrap_or_default();
            record.insert(child.relationship.clone(), soql::child_result(children));
        }
    }

    let next = match page.last().and_then(|row| compiled.page_after(row)) {
        Some(after) if more => Some(Locator {
            soql: soql.to_owned(),
            now,
            batch_size,
            seen: seen + page.len() as u64,
            total,
            after,
        }),
        _ => None,
    };
    let mut answer = Map::new();
    answer.insert("totalSize".into(), Value::from(total));
    answer.insert("done".into(), Value::Bool(next.is_none()));
    if let Some(next) = next {
        answer.insert(
            "nextRecordsUrl".into(),
            Value::String(format!("{NEXT_RECORDS_PATH}{}", next.encode())),
        );
    }
    answer.insert("records".into(), Value::Array(records.into_iter().map(Value::Object).collect()));
    Ok(Value::Object(answer))
}
