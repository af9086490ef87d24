//! Runs compiled SQL on a test database: the compiler's parameters bound as SQLite values,
//! each row read back as the compiler's `SqlValue`s.

use rusqlite::Connection;
use rusqlite::types::{Value as DbValue, ValueRef};
use soql::schema::SqlValue;

/// Every row `sql` returns with `params` bound, in order.
pub fn rows(conn: &Connection, sql: &str, params: &[SqlValue]) -> Vec<Vec<SqlValue>> {
    let params: Vec<DbValue> = params
        .iter()
        .map(|p| match p {
            SqlValue::Null => DbValue::Null,
            SqlValue::Integer(i) => DbValue::Integer(*i),
            SqlValue::Real(r) => DbValue::Real(*r),
            SqlValue::Text(s) => DbValue::Text(s.clone()),
        })
        .collect();
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    let n = stmt.column_count();
    stmt.query_map(rusqlite::params_from_iter(params), |row| {
        (0..n)
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    ValueRef::Null => SqlValue::Null,
                    ValueRef::Integer(i) => SqlValue::Integer(i),
                    ValueRef::Real(r) => SqlValue::Real(r),
                    ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => SqlValue::Null,
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap()
    .collect::<Result<Vec<_>, _>>()
    .unwrap()
}
