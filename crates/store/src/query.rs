//! Offline SOQL: parses a query, compiles it with the shared compiler against the store's
//! catalog, runs it on a read connection and shapes the answer like the REST query
//! resource (`{"totalSize", "done", "records"}`), child subqueries included.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::types::Value as RowValue;
use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, Value, json};
use soql::schema::SqlValue;
use soql::{CompileOptions, compile, parse};

use crate::StoreError;
use crate::objects::ObjectCatalog;

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

/// Runs `soql` against the stored records, with relative dates resolved against `now`.
/// Every matching record is returned in one answer (`done` is always true).
// FIXME: no paging: a query without LIMIT returns every matching row in one answer, so a
// huge table costs memory in proportion; an opaque locator with `nextRecordsUrl` paging,
// as the REST resource does, would bound it.
pub(crate) fn query(
    conn: &Connection,
    catalog: &ObjectCatalog,
    soql: &str,
    now: DateTime<Utc>,
) -> Result<Value, StoreError> {
    let parsed = parse(soql)?;
    let compiled = compile(&parsed, catalog, &CompileOptions::new(now))?;
    tracing::debug!(
        object = compiled.object(),
        children = compiled.children().len(),
        "offline query"
    );

    if compiled.is_count() {
        let n = single_count(conn, &compiled.sql, &compiled.params)?;
        return Ok(json!({"totalSize": n, "done": true, "records": []}));
    }

    let page = rows(conn, &compiled.sql, &compiled.params)?;
    let (count_sql, count_params) = compiled.count_sql();
    let total = single_count(conn, &count_sql, &count_params)?;
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

    Ok(json!({"totalSize": total, "done": true, "records": records}))
}
