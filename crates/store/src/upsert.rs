//! Storing downloaded records. A new record is inserted whole. A stored one gets only the
//! columns whose values differ from what is stored, so the indexes over its unchanged
//! columns are not rewritten, and a record downloaded again unchanged (an overlap window,
//! a resumed page) costs no write at all. The pages a delta dirties then follow the
//! number of changes, not the size of the table.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use soql::schema::{FieldSchema, ObjectSchema};

use crate::objects::ObjectCatalog;
use crate::records::{
    FieldNames, IDS_PER_STATEMENT, MergedRecord, Record, UpsertOutcome, columns_with, server_id,
    set_columns,
};
use crate::{StoreError, pending};

/// Stores `records` (each with its `Id`) in `object`'s table, merging around pending local
/// changes: a field with a pending change keeps its local value, and the server's goes to
/// the change. A record listed twice in one batch is stored, then updated.
pub(crate) fn upsert_records(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    records: &[Record],
) -> Result<UpsertOutcome, StoreError> {
    let schema = catalog.require(object)?;
    let table = &schema.name;
    let mut outcome = UpsertOutcome::default();
    let has_pending = pending::any_for_object(conn, table)?;
    let fields = FieldNames::new(schema);
    let ids: Vec<String> =
        records.iter().map(|record| server_id(table, record)).collect::<Result<_, _>>()?;
    let mut stored = stored_rows(conn, schema, &ids)?;
    let mut insert: Option<(Vec<&str>, String)> = None;
    let mut inserted: HashSet<String> = HashSet::new();
    for (record, id) in records.iter().zip(ids) {
        let mut cols = columns_with(schema, record, |name| fields.get(name))?;

        // A pending change protects its fields: their server values go to the change.
        if has_pending && let Some(merge) = pending::merge_download(conn, table, &id, &cols)? {
            cols.retain(|(field, _)| !merge.protected.contains(&field.name));
            if !merge.kept.is_empty() || !merge.settled.is_empty() {
                tracing::debug!(object = %table, kept = merge.kept.len(), settled = merge.settled.len(), "download merged around pending fields");
                outcome.merged.push(MergedRecord {
                    id: id.clone(),
                    fields: merge.kept,
                    settled: merge.settled,
                });
            }
        }

        if let Some(row) = stored.get_mut(&id) {
            cols.retain(|(field, value)| {
                row.values.get(&field.name).unwrap_or(&SqlValue::Null) != value
            });
            let rejoins = row.scope_left;
            if cols.is_empty() && !rejoins {
                tracing::trace!(object = %table, "stored record unchanged");
                outcome.unchanged.push(id);
                continue;
            }
            let changed = cols.len();
            row.remember(&cols);
            row.scope_left = false;
            set_columns(conn, table, &id, cols, if rejoins { "\"_scope_left\" = 0" } else { "" })?;
            tracing::trace!(object = %table, changed, "stored record updated");
            outcome.updated.push(id);
        } else if inserted.contains(&id) {
            // Listed again in the same batch: its columns are written again.
            set_columns(conn, table, &id, cols, "")?;
            outcome.updated.push(id);
        } else {
            let columns: Vec<&str> = cols.iter().map(|(f, _)| f.name.as_str()).collect();
            if insert.as_ref().is_none_or(|(c, _)| *c != columns) {
                let sql = insert_sql(table, &columns);
                insert = Some((columns, sql));
            }
            let sql = insert.as_ref().map_or("", |(_, sql)| sql.as_str());
            let values =
                std::iter::once(SqlValue::Text(id.clone())).chain(cols.into_iter().map(|c| c.1));
            conn.prepare_cached(sql)?.execute(params_from_iter(values))?;
            tracing::trace!(object = %table, "record stored");
            inserted.insert(id.clone());
            outcome.inserted.push(id);
        }
    }
    Ok(outcome)
}

/// The insert statement for one set of columns: `?1` is the id, then one parameter per
/// column.
fn insert_sql(table: &str, columns: &[&str]) -> String {
    let names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let placeholders: Vec<String> = (0..=columns.len()).map(|i| format!("?{}", i + 1)).collect();
    format!(
        "INSERT INTO \"{table}\" (\"Id\"{}{}) VALUES ({})",
        if names.is_empty() { "" } else { ", " },
        names.join(", "),
        placeholders.join(", ")
    )
}

/// What a stored row holds, as far as a download compares it.
#[derive(Debug, Default)]
struct StoredRow {
    /// Field name to stored value; a field absent here is NULL.
    values: HashMap<String, SqlValue>,
    scope_left: bool,
}

impl StoredRow {
    fn remember(&mut self, cols: &[(&FieldSchema, SqlValue)]) {
        for (field, value) in cols {
            self.values.insert(field.name.clone(), value.clone());
        }
    }
}

/// The stored rows among `ids`, with every field of the schema, a few statements for the
/// whole batch.
fn stored_rows(
    conn: &Connection,
    schema: &ObjectSchema,
    ids: &[String],
) -> Result<HashMap<String, StoredRow>, StoreError> {
    let mut rows = HashMap::new();
    let names: Vec<String> = schema.fields.iter().map(|f| format!(", \"{}\"", f.name)).collect();
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT \"Id\", \"_scope_left\"{} FROM \"{}\" WHERE \"Id\" IN ({marks})",
            names.concat(),
            schema.name
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut found = stmt.query(params_from_iter(chunk))?;
        while let Some(r) = found.next()? {
            let mut row =
                StoredRow { values: HashMap::new(), scope_left: r.get::<_, i64>(1)? != 0 };
            for (i, field) in schema.fields.iter().enumerate() {
                row.values.insert(field.name.clone(), r.get(i + 2)?);
            }
            rows.insert(r.get(0)?, row);
        }
    }
    Ok(rows)
}
