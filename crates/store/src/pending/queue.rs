//! The queue table itself: reading, listing, inserting and saving pending changes.

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::Value;

use super::{ChangeOp, ChangeState, PendingChange, PendingFilter};
use crate::StoreError;
use crate::records::{Record, norm_id};
use crate::values::{format_datetime, parse_datetime};

pub(super) const COLUMNS: &str = "seq, object, record_id, op, fields, base, state, error, attempts, \
    external_id_value, change_count, uploaded_count, inflight, server_values, created_at, updated_at";

pub(super) fn json_map(text: Option<String>) -> rusqlite::Result<Record> {
    match text {
        None => Ok(Record::new()),
        Some(t) => serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        }),
    }
}

pub(super) fn time(text: String) -> DateTime<Utc> {
    parse_datetime(&text).unwrap_or_default()
}

pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<PendingChange> {
    let error: Option<String> = r.get(7)?;
    let inflight: Option<String> = r.get(12)?;
    Ok(PendingChange {
        seq: r.get(0)?,
        object: r.get(1)?,
        record_id: r.get(2)?,
        op: ChangeOp::parse(&r.get::<_, String>(3)?),
        fields: json_map(r.get(4)?)?,
        base: json_map(r.get(5)?)?,
        state: ChangeState::parse(&r.get::<_, String>(6)?),
        error: error.and_then(|e| serde_json::from_str(&e).ok()),
        attempts: r.get(8)?,
        external_id_value: r.get(9)?,
        change_count: r.get(10)?,
        uploaded_count: r.get(11)?,
        inflight: match inflight {
            Some(t) => Some(json_map(Some(t))?),
            None => None,
        },
        server_values: json_map(r.get(13)?)?,
        created_at: time(r.get(14)?),
        updated_at: time(r.get(15)?),
    })
}

/// The change with this sequence number.
pub(crate) fn get(conn: &Connection, seq: i64) -> Result<PendingChange, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM _pending_changes WHERE seq = ?1"),
        [seq],
        from_row,
    )
    .optional()?
    .ok_or(StoreError::NoSuchChange(seq))
}

/// The change queued for a record, if any.
pub(crate) fn for_record(
    conn: &Connection,
    object: &str,
    record_id: &str,
) -> Result<Option<PendingChange>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM _pending_changes WHERE object = ?1 AND record_id = ?2"
        ))?
        .query_row([object, record_id], from_row)
        .optional()?)
}

/// Whether any change is queued for a record of `object`.
pub(crate) fn any_for_object(conn: &Connection, object: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM _pending_changes WHERE object = ?1)")?
        .query_row([object], |r| r.get(0))?)
}

/// Pending changes in queue order.
pub(crate) fn list(
    conn: &Connection,
    filter: &PendingFilter,
) -> Result<Vec<PendingChange>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM _pending_changes WHERE 1 = 1");
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(object) = &filter.object {
        args.push(SqlValue::Text(object.clone()));
        sql.push_str(&format!(" AND object = ?{} COLLATE NOCASE", args.len()));
    }
    if let Some(id) = &filter.record_id {
        args.push(SqlValue::Text(norm_id(id)));
        sql.push_str(&format!(" AND record_id = ?{}", args.len()));
    }
    if !filter.states.is_empty() {
        let list: Vec<String> = filter.states.iter().map(|s| format!("'{}'", s.as_str())).collect();
        sql.push_str(&format!(" AND state IN ({})", list.join(", ")));
    }
    sql.push_str(" ORDER BY seq");
    if let Some(limit) = filter.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The number of pending changes in each state that has any.
pub(crate) fn counts(conn: &Connection) -> Result<Vec<(ChangeState, u64)>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT state, count(*) FROM _pending_changes GROUP BY state ORDER BY state")?;
    let rows = stmt.query_map([], |r| {
        Ok((ChangeState::parse(&r.get::<_, String>(0)?), r.get::<_, i64>(1)?.max(0) as u64))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn save(conn: &Connection, c: &PendingChange) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE _pending_changes SET record_id = ?2, op = ?3, fields = ?4, base = ?5, state = ?6,
             error = ?7, attempts = ?8, external_id_value = ?9, change_count = ?10,
             uploaded_count = ?11, inflight = ?12, server_values = ?13, updated_at = ?14
         WHERE seq = ?1",
        params![
            c.seq,
            c.record_id,
            c.op.as_str(),
            Value::Object(c.fields.clone()).to_string(),
            Value::Object(c.base.clone()).to_string(),
            c.state.as_str(),
            c.error.as_ref().map(Value::to_string),
            c.attempts,
            c.external_id_value,
            c.change_count,
            c.uploaded_count,
            c.inflight.as_ref().map(|m| Value::Object(m.clone()).to_string()),
            Value::Object(c.server_values.clone()).to_string(),
            format_datetime(c.updated_at),
        ],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn insert(
    conn: &Connection,
    object: &str,
    record_id: &str,
    op: ChangeOp,
    fields: &Record,
    base: &Record,
    state: ChangeState,
    external_id_value: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let at = format_datetime(now);
    conn.execute(
        "INSERT INTO _pending_changes (object, record_id, op, fields, base, state,
             external_id_value, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            object,
            record_id,
            op.as_str(),
            Value::Object(fields.clone()).to_string(),
            Value::Object(base.clone()).to_string(),
            state.as_str(),
            external_id_value,
            at
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn remove(conn: &Connection, seq: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM _pending_changes WHERE seq = ?1", [seq])?;
    Ok(())
}

/// Sets the value used for an idempotent upsert of a create.
pub(crate) fn set_external_id_value(
    conn: &Connection,
    seq: i64,
    value: &str,
) -> Result<(), StoreError> {
    if conn.execute(
        "UPDATE _pending_changes SET external_id_value = ?2 WHERE seq = ?1",
        params![seq, value],
    )? == 0
    {
        return Err(StoreError::NoSuchChange(seq));
    }
    Ok(())
}
