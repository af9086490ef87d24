//! Membership checks for a handful of candidate ids or lookup values, run as batched
//! `IN (...)` lookups on the primary key or an indexed reference column, so that a delta
//! sync pays for its candidates rather than for every row of a table.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, params_from_iter};

use crate::StoreError;
use crate::objects::ObjectCatalog;
use crate::records::norm_id;

/// Values bound in one `IN (...)` list, well under SQLite's variable limit.
const VALUES_PER_STATEMENT: usize = 500;

/// The rows that stand for server records as the server last sent them round: neither
/// created on this device nor deleted on it.
const SERVER_ROWS: &str = "\"_deleted\" = 0 AND \"_local_only\" = 0";

/// The canonical table and column names of `object.field`.
fn column<'c>(
    catalog: &'c ObjectCatalog,
    object: &str,
    field: &str,
) -> Result<(&'c str, &'c str), StoreError> {
    let schema = catalog.require(object)?;
    let field = schema.field(field).ok_or_else(|| {
        StoreError::InvalidSchema(format!("no field '{field}' on {}", schema.name))
    })?;
    Ok((&schema.name, &field.name))
}

/// Runs `{sql_head} (?, ?, ...)` over `values` (normalized, without duplicates) in
/// chunks and collects the first two result columns.
fn select_in(
    conn: &Connection,
    sql_head: &str,
    values: &[String],
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let values: BTreeSet<String> = values.iter().map(|v| norm_id(v)).collect();
    let values: Vec<String> = values.into_iter().collect();
    let mut out = Vec::new();
    for chunk in values.chunks(VALUES_PER_STATEMENT) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut stmt = conn.prepare_cached(&format!("{sql_head} ({marks})"))?;
        let rows =
            stmt.query_map(params_from_iter(chunk.iter()), |r| Ok((r.get(0)?, r.get(1)?)))?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// Which of `ids` have a row in `object`'s table, rows deleted locally included (as
/// [`crate::Reader::record_ids`] lists them), in their 18-character form.
pub(crate) fn stored_among(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    ids: &[String],
) -> Result<BTreeSet<String>, StoreError> {
    let table = &catalog.require(object)?.name;
    let head = format!("SELECT \"Id\", NULL FROM \"{table}\" WHERE \"Id\" IN");
    Ok(select_in(conn, &head, ids)?.into_iter().map(|(id, _)| id).collect())
}

/// Which of `values` the `field` column of `object`'s server rows (not created or deleted
/// locally) holds: of a set of candidate parents, the ones some stored record points to.
pub(crate) fn values_among(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    field: &str,
    values: &[String],
) -> Result<BTreeSet<String>, StoreError> {
    server_rows_where_in(conn, catalog, object, field, values, |column| {
        format!("DISTINCT \"{column}\"")
    })
}

/// The ids of `object`'s server rows (not created or deleted locally) whose `field` holds
/// one of `values`: the stored children of a set of parents.
pub(crate) fn ids_referencing(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    field: &str,
    values: &[String],
) -> Result<BTreeSet<String>, StoreError> {
    server_rows_where_in(conn, catalog, object, field, values, |_| "\"Id\"".to_string())
}

/// One column (`select`, given the filtered column's name) of `object`'s server rows whose
/// `field` holds one of `values`.
fn server_rows_where_in(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    field: &str,
    values: &[String],
    select: impl FnOnce(&str) -> String,
) -> Result<BTreeSet<String>, StoreError> {
    let (table, column) = column(catalog, object, field)?;
    let head = format!(
        "SELECT {}, NULL FROM \"{table}\" WHERE {SERVER_ROWS} AND \"{column}\" IN",
        select(column)
    );
    Ok(select_in(conn, &head, values)?.into_iter().map(|(v, _)| v).collect())
}

/// For each of `ids` with a visible row, the text of its `field` (`None` when empty).
pub(crate) fn field_of(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    field: &str,
    ids: &[String],
) -> Result<BTreeMap<String, Option<String>>, StoreError> {
    let (table, column) = column(catalog, object, field)?;
    let head = format!(
        "SELECT \"Id\", CAST(\"{column}\" AS TEXT) FROM \"{table}\" WHERE \"_deleted\" = 0 AND \"Id\" IN"
    );
    Ok(select_in(conn, &head, ids)?.into_iter().collect())
}

/// Every server row of `object` (not created or deleted locally) with a value in its
/// reference `field`: `(id, value)` pairs, in one indexed scan.
pub(crate) fn references(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    field: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let (table, column) = column(catalog, object, field)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT \"Id\", CAST(\"{column}\" AS TEXT) FROM \"{table}\"
         WHERE {SERVER_ROWS} AND \"{column}\" IS NOT NULL"
    ))?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
