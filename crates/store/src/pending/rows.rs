//! What a pending change does to its record's row: flags, values and existence.

use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;
use soql::schema::{FieldSchema, ObjectSchema};

use super::{ChangeState, is_local_id};
use crate::StoreError;
use crate::records::{Record, record_columns, set_columns};
use crate::values::canonical;

/// Whether the values refer to a record created offline (other than `own_id`).
pub(super) fn refers_to_local(fields: &Record, own_id: &str) -> bool {
    fields.values().any(|v| v.as_str().is_some_and(|s| is_local_id(s) && s != own_id))
}

pub(super) fn waiting_or_blocked(fields: &Record, own_id: &str) -> ChangeState {
    if refers_to_local(fields, own_id) { ChangeState::Blocked } else { ChangeState::Waiting }
}

pub(super) fn flags(
    conn: &Connection,
    table: &str,
    id: &str,
    assignments: &str,
) -> Result<(), StoreError> {
    conn.execute(&format!("UPDATE \"{table}\" SET {assignments} WHERE \"Id\" = ?1"), [id])?;
    Ok(())
}

pub(super) fn delete_row(conn: &Connection, table: &str, id: &str) -> Result<(), StoreError> {
    conn.execute(&format!("DELETE FROM \"{table}\" WHERE \"Id\" = ?1"), [id])?;
    Ok(())
}

pub(super) fn row_state(
    conn: &Connection,
    table: &str,
    id: &str,
) -> Result<Option<(bool, bool)>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT _deleted, _scope_left FROM \"{table}\" WHERE \"Id\" = ?1"),
            [id],
            |r| Ok((r.get::<_, i64>(0)? != 0, r.get::<_, i64>(1)? != 0)),
        )
        .optional()?)
}

/// The edit's fields in schema spelling and canonical JSON form, skipping `Id` and
/// `attributes`; unknown fields and values that do not fit are refused.
pub(super) fn canonical_fields<'s>(
    schema: &'s ObjectSchema,
    id: &str,
    fields: &Record,
) -> Result<Vec<(&'s FieldSchema, Value)>, StoreError> {
    let bad = |reason: String| StoreError::InvalidEdit {
        object: schema.name.clone(),
        id: id.to_owned(),
        reason,
    };
    let mut out = Vec::new();
    for (name, value) in fields {
        if name == "attributes" || name.eq_ignore_ascii_case("Id") {
            continue;
        }
        let field = schema.field(name).ok_or_else(|| bad(format!("unknown field '{name}'")))?;
        out.push((field, canonical(field, value).map_err(bad)?));
    }
    Ok(out)
}

/// Writes JSON values into a row's columns.
pub(super) fn write_values(
    conn: &Connection,
    schema: &ObjectSchema,
    id: &str,
    values: &Record,
    extra: &str,
) -> Result<(), StoreError> {
    let cols = record_columns(schema, values)?;
    set_columns(conn, &schema.name, id, cols, extra)?;
    Ok(())
}
