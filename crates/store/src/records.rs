//! Records in object tables: removal of downloaded records that respects local pending
//! changes, reads, and the id-range checksum used to reconcile deletions. Storing
//! downloads is in [`crate::upsert`].

use std::collections::HashMap;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use salesforce::SfId;
use serde_json::Value;
use soql::schema::{FieldSchema, ObjectSchema};

use crate::objects::ObjectCatalog;
use crate::values::{json_to_sql, sql_to_json};
use crate::{StoreError, pending};

/// Ids bound in one `IN (...)` list; well under SQLite's variable limit.
pub(crate) const IDS_PER_STATEMENT: usize = 500;

/// A record in the REST shape: field name to JSON value. `attributes` and nested parent
/// objects are ignored when writing.
pub type Record = serde_json::Map<String, Value>;

/// What [`crate::WriteTx::upsert_records`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpsertOutcome {
    /// Ids of records that were not in the store before.
    pub inserted: Vec<String>,
    /// Ids of records that were already stored and got at least one new value (including
    /// ones that re-entered scope).
    pub updated: Vec<String>,
    /// Ids of stored records whose downloaded values all matched what is stored: nothing
    /// was written for them.
    pub unchanged: Vec<String>,
    /// Records with pending local changes: the listed fields kept their local values.
    pub merged: Vec<MergedRecord>,
}

/// A downloaded record whose pending fields kept their local values.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedRecord {
    pub id: String,
    /// The fields whose downloaded values were not applied (their server values are kept
    /// with the pending change).
    pub fields: Vec<String>,
    /// Pending fields whose downloaded value equals the local one: they left the change
    /// (and the change went, if nothing was left).
    pub settled: Vec<String>,
}

/// What [`crate::WriteTx::delete_records`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemoveOutcome {
    /// Ids whose rows were deleted.
    pub removed: Vec<String>,
    /// Ids kept because they have pending changes; they are flagged `_scope_left = 1`.
    pub kept: Vec<String>,
}

/// The bookkeeping state of one stored row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordFlags {
    pub local_only: bool,
    pub pending: bool,
    pub deleted: bool,
    pub scope_left: bool,
    pub scope_flags: i64,
}

/// A count and an order-independent hash of the server ids in a range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdRangeChecksum {
    pub count: u64,
    pub hash: u64,
}

/// The checksum of a set of 18-character ids, computed the same way as
/// [`crate::Reader::id_range_checksum`] does over stored rows: the count, and the wrapping
/// sum of each id's 64-bit FNV-1a hash. Compute it over the server's ids to compare.
pub fn id_checksum<'a>(ids: impl IntoIterator<Item = &'a str>) -> IdRangeChecksum {
    let mut sum = IdRangeChecksum::default();
    for id in ids {
        sum.count += 1;
        sum.hash = sum.hash.wrapping_add(fnv1a(id.as_bytes()));
    }
    sum
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The record's `Id` as a validated 18-character server id.
pub(crate) fn server_id(object: &str, record: &Record) -> Result<String, StoreError> {
    let bad = |reason: String| StoreError::InvalidRecord { object: object.to_owned(), reason };
    let text = record
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Id"))
        .and_then(|(_, v)| v.as_str())
        .ok_or_else(|| bad("no Id".into()))?;
    SfId::parse(text).map(|id| id.to_string()).map_err(|e| bad(format!("Id: {e}")))
}

/// Normalizes an id argument: a valid record id to 18 characters, anything else unchanged.
pub(crate) fn norm_id(id: &str) -> String {
    crate::values::normalize_id(id)
}

/// The record's stored fields (not `Id`, `attributes` or nested objects) as SQL values.
/// Unknown fields are skipped; a value that does not fit its field is an error.
pub(crate) fn record_columns<'s>(
    schema: &'s ObjectSchema,
    record: &Record,
) -> Result<Vec<(&'s FieldSchema, SqlValue)>, StoreError> {
    columns_with(schema, record, |name| schema.field(name))
}

/// An object's fields by exact name, for many records in a row: a hash look-up where
/// [`ObjectSchema::field`] compares names one by one (case-insensitively, which stays the
/// fallback).
pub(crate) struct FieldNames<'s> {
    schema: &'s ObjectSchema,
    exact: HashMap<&'s str, &'s FieldSchema>,
}

impl<'s> FieldNames<'s> {
    pub(crate) fn new(schema: &'s ObjectSchema) -> FieldNames<'s> {
        FieldNames { schema, exact: schema.fields.iter().map(|f| (f.name.as_str(), f)).collect() }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'s FieldSchema> {
        self.exact.get(name).copied().or_else(|| self.schema.field(name))
    }
}

/// [`record_columns`], finding each field with `field`.
pub(crate) fn columns_with<'s>(
    schema: &'s ObjectSchema,
    record: &Record,
    field: impl Fn(&str) -> Option<&'s FieldSchema>,
) -> Result<Vec<(&'s FieldSchema, SqlValue)>, StoreError> {
    let mut out = Vec::with_capacity(record.len());
    for (name, value) in record {
        if name == "attributes" || value.is_object() || name.eq_ignore_ascii_case("Id") {
            continue;
        }
        let Some(field) = field(name) else {
            tracing::trace!(object = %schema.name, field = %name, "unknown field skipped");
            continue;
        };
        let sql = json_to_sql(field, value)
            .map_err(|reason| StoreError::InvalidRecord { object: schema.name.clone(), reason })?;
        out.push((field, sql));
    }
    Ok(out)
}

/// Removes records the server no longer has in scope; records with pending changes are kept
/// and flagged `_scope_left = 1` instead.
pub(crate) fn delete_records(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    ids: &[&str],
) -> Result<RemoveOutcome, StoreError> {
    let table = &catalog.require(object)?.name;
    let mut outcome = RemoveOutcome::default();
    for raw in ids {
        let id = norm_id(raw);
        if pending::for_record(conn, table, &id)?.is_some() {
            conn.execute(
                &format!("UPDATE \"{table}\" SET \"_scope_left\" = 1 WHERE \"Id\" = ?1"),
                [&id],
            )?;
            tracing::debug!(object = %table, "record with pending change kept out of scope");
            outcome.kept.push(id);
        } else if conn.execute(&format!("DELETE FROM \"{table}\" WHERE \"Id\" = ?1"), [&id])? > 0 {
            outcome.removed.push(id);
        }
    }
    Ok(outcome)
}

/// The visible record (not locally deleted), with every stored field of the schema.
pub(crate) fn get_record(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    id: &str,
) -> Result<Option<Record>, StoreError> {
    let schema = catalog.require(object)?;
    let names: Vec<String> = schema.fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
    let sql = format!(
        "SELECT {} FROM \"{}\" WHERE \"Id\" = ?1 AND \"_deleted\" = 0",
        names.join(", "),
        schema.name
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let row = stmt
        .query_row([norm_id(id)], |row| {
            let mut record = Record::new();
            for (i, f) in schema.fields.iter().enumerate() {
                record.insert(f.name.clone(), sql_to_json(f.field_type, row.get(i)?));
            }
            Ok(record)
        })
        .optional()?;
    Ok(row)
}

/// The named fields' current values of a stored row (deleted or not); `None` if no row.
pub(crate) fn read_fields(
    conn: &Connection,
    schema: &ObjectSchema,
    id: &str,
    fields: &[&FieldSchema],
) -> Result<Option<Record>, StoreError> {
    if fields.is_empty() {
        let exists = conn
            .query_row(
                &format!("SELECT 1 FROM \"{}\" WHERE \"Id\" = ?1", schema.name),
                [id],
                |_| Ok(()),
            )
            .optional()?;
        return Ok(exists.map(|()| Record::new()));
    }
    let names: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.name)).collect();
    let sql = format!("SELECT {} FROM \"{}\" WHERE \"Id\" = ?1", names.join(", "), schema.name);
    let row = conn
        .query_row(&sql, [id], |row| {
            let mut record = Record::new();
            for (i, f) in fields.iter().enumerate() {
                record.insert(f.name.clone(), sql_to_json(f.field_type, row.get(i)?));
            }
            Ok(record)
        })
        .optional()?;
    Ok(row)
}

/// Sets columns of an existing row; `extra` is raw SQL assignments to bookkeeping columns.
pub(crate) fn set_columns(
    conn: &Connection,
    table: &str,
    id: &str,
    cols: Vec<(&FieldSchema, SqlValue)>,
    extra: &str,
) -> Result<usize, StoreError> {
    let mut sets: Vec<String> =
        cols.iter().enumerate().map(|(i, (f, _))| format!("\"{}\" = ?{}", f.name, i + 2)).collect();
    if !extra.is_empty() {
        sets.push(extra.to_owned());
    }
    if sets.is_empty() {
        return Ok(0);
    }
    let sql = format!("UPDATE \"{table}\" SET {} WHERE \"Id\" = ?1", sets.join(", "));
    let values =
        std::iter::once(SqlValue::Text(id.to_owned())).chain(cols.into_iter().map(|c| c.1));
    Ok(conn.prepare_cached(&sql)?.execute(params_from_iter(values))?)
}

/// The bookkeeping flags of a stored row.
pub(crate) fn record_flags(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    id: &str,
) -> Result<Option<RecordFlags>, StoreError> {
    let table = &catalog.require(object)?.name;
    let sql = format!(
        "SELECT _local_only, _pending, _deleted, _scope_left, _scope_flags FROM \"{table}\" WHERE \"Id\" = ?1"
    );
    Ok(conn
        .query_row(&sql, [norm_id(id)], |r| {
            Ok(RecordFlags {
                local_only: r.get::<_, i64>(0)? != 0,
                pending: r.get::<_, i64>(1)? != 0,
                deleted: r.get::<_, i64>(2)? != 0,
                scope_left: r.get::<_, i64>(3)? != 0,
                scope_flags: r.get(4)?,
            })
        })
        .optional()?)
}

/// Every stored id of the object (including locally deleted rows), in id order.
pub(crate) fn record_ids(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
) -> Result<Vec<String>, StoreError> {
    let table = &catalog.require(object)?.name;
    let mut stmt =
        conn.prepare_cached(&format!("SELECT \"Id\" FROM \"{table}\" ORDER BY \"Id\""))?;
    let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

/// The number of visible records (not locally deleted).
pub(crate) fn count(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
) -> Result<u64, StoreError> {
    let table = &catalog.require(object)?.name;
    let n: i64 = conn.query_row(
        &format!("SELECT count(*) FROM \"{table}\" WHERE \"_deleted\" = 0"),
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// The server ids stored in `from_id..=to_id`, in id order: rows the server knows about,
/// so local-only creates and rows that left scope are not listed.
pub(crate) fn server_ids_in_range(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    from_id: &str,
    to_id: &str,
) -> Result<Vec<String>, StoreError> {
    let table = &catalog.require(object)?.name;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT \"Id\" FROM \"{table}\" WHERE \"Id\" >= ?1 AND \"Id\" <= ?2
         AND \"_local_only\" = 0 AND \"_scope_left\" = 0 ORDER BY \"Id\""
    ))?;
    let ids = stmt
        .query_map([norm_id(from_id), norm_id(to_id)], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Count and hash of [`server_ids_in_range`].
pub(crate) fn id_range_checksum(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    from_id: &str,
    to_id: &str,
) -> Result<IdRangeChecksum, StoreError> {
    let ids = server_ids_in_range(conn, catalog, object, from_id, to_id)?;
    Ok(id_checksum(ids.iter().map(String::as_str)))
}

/// Every reference column in the catalog: `(table, column)`.
pub(crate) fn reference_columns(catalog: &ObjectCatalog) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for schema in catalog.objects() {
        for f in &schema.fields {
            if f.field_type == soql::schema::FieldType::Reference {
                out.push((schema.name.clone(), f.name.clone()));
            }
        }
    }
    out
}
