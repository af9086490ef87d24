//! Lookup values read in bulk: the distinct ids one lookup column holds across an object,
//! and the lookup values of a batch of rows, each in a single query instead of one read
//! per record.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use salesforce::SfId;

use crate::StoreError;
use crate::objects::ObjectCatalog;
use crate::pending::LOCAL_ID_PREFIX;
use crate::records::{IDS_PER_STATEMENT, norm_id};

/// The value as an 18-character id, or `None` for an empty or malformed one.
fn as_id(value: SqlValue) -> Option<String> {
    match value {
        SqlValue::Text(text) => SfId::parse(&text).ok().map(|id| id.to_string()),
        _ => None,
    }
}

/// The distinct ids lookup `field` holds over the visible rows of `object` that carry a
/// server id (records created on this device are left out). A field the object does not
/// have holds none.
pub(crate) fn lookup_values(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    field: &str,
) -> Result<BTreeSet<String>, StoreError> {
    let schema = catalog.require(object)?;
    let Some(field) = schema.field(field) else { return Ok(BTreeSet::new()) };
    // One pass over the table in row order, deduplicated here: through the column's index
    // every row would be a random read, far slower once the table outgrows the page cache.
    let sql = format!(
        "SELECT \"{column}\" FROM \"{table}\" NOT INDEXED
         WHERE \"{column}\" IS NOT NULL AND \"_deleted\" = 0 AND substr(\"Id\", 1, {len}) <> ?1",
        column = field.name,
        table = schema.name,
        len = LOCAL_ID_PREFIX.len(),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut values = BTreeSet::new();
    let mut rows = stmt.query([LOCAL_ID_PREFIX])?;
    while let Some(row) = rows.next()? {
        values.extend(as_id(row.get(0)?));
    }
    Ok(values)
}

/// For each of `ids` stored and visible (not deleted locally), the values of `fields`
/// that are ids; fields the object does not have are left out.
pub(crate) fn lookups_of(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    ids: &[&str],
    fields: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, StoreError> {
    let schema = catalog.require(object)?;
    let columns: Vec<(&String, &str)> = fields
        .iter()
        .filter_map(|f| schema.field(f).map(|column| (f, column.name.as_str())))
        .collect();
    let select: String = columns.iter().map(|(_, c)| format!(", \"{c}\"")).collect();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT \"Id\"{select} FROM \"{}\" WHERE \"_deleted\" = 0 AND \"Id\" IN ({marks})",
            schema.name
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(chunk.iter().map(|id| norm_id(id))))?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let mut values = BTreeMap::new();
            for (i, (field, _)) in columns.iter().enumerate() {
                if let Some(value) = as_id(row.get(i + 1)?) {
                    values.insert((*field).clone(), value);
                }
            }
            out.insert(id, values);
        }
    }
    Ok(out)
}
