//! The durable, ordered queue of local changes waiting for upload, and the edits that feed it.
//!
//! Every local edit goes through [`record_edit`], which changes the record's row and
//! coalesces into the record's single queue entry in the same transaction:
//!
//! | queued  | new edit | result |
//! | ------- | -------- | ------ |
//! | none    | create   | create with the given values, on a new local id |
//! | none    | update   | update of the fields that changed; `base` keeps their old values |
//! | none    | delete   | delete; the row stays hidden (`_deleted = 1`) until uploaded |
//! | create  | update   | one create with the final values |
//! | create  | delete   | nothing: entry and row go (unless the create is uploading) |
//! | update  | update   | one update; each field keeps the base of its first edit |
//! | update  | delete   | delete (base kept, so discarding restores the record) |
//! | delete  | any      | refused: the record is deleted |
//!
//! A change counter (`change_count`) rises with every edit. Starting an upload copies the
//! fields (`inflight`) and the counter (`uploaded_count`); completing it removes the entry
//! only if no edit came in meanwhile, otherwise the entry goes back to waiting with the
//! uploaded values as its new base.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::Value;
use soql::schema::{FieldSchema, ObjectSchema};

use crate::StoreError;
use crate::objects::ObjectCatalog;
use crate::records::{
    Record, norm_id, read_fields, record_columns, reference_columns, set_columns,
};
use crate::values::{canonical, format_datetime, json_to_sql, parse_datetime};

/// Every id created on this device starts with this prefix, followed by 12 random ASCII
/// alphanumerics (`local-Ab3dE6gH9jK2`). The `-` means it can never parse as a 15- or
/// 18-character server id.
pub const LOCAL_ID_PREFIX: &str = "local-";

/// A new local id.
pub fn new_local_id() -> String {
    let suffix: String = rand::rng().sample_iter(Alphanumeric).take(12).map(char::from).collect();
    format!("{LOCAL_ID_PREFIX}{suffix}")
}

/// Whether an id was made on this device by [`new_local_id`].
pub fn is_local_id(id: &str) -> bool {
    id.starts_with(LOCAL_ID_PREFIX)
}

/// What a pending change does to its record on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeOp {
    Create,
    Update,
    Delete,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Create => "create",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
        }
    }

    fn parse(s: &str) -> ChangeOp {
        match s {
            "create" => ChangeOp::Create,
            "delete" => ChangeOp::Delete,
            _ => ChangeOp::Update,
        }
    }
}

/// Where a pending change is in its upload life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeState {
    /// Ready to upload.
    Waiting,
    /// Sent to the server; the answer is not in yet.
    Uploading,
    /// The server refused it permanently; waits for [`crate::WriteTx::retry`] or discard.
    Failed,
    /// The server copy changed the same fields; waits for [`crate::WriteTx::resolve`].
    Conflict,
    /// Refers to a record created offline that has no server id yet.
    Blocked,
}

impl ChangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeState::Waiting => "waiting",
            ChangeState::Uploading => "uploading",
            ChangeState::Failed => "failed",
            ChangeState::Conflict => "conflict",
            ChangeState::Blocked => "blocked",
        }
    }

    fn parse(s: &str) -> ChangeState {
        match s {
            "uploading" => ChangeState::Uploading,
            "failed" => ChangeState::Failed,
            "conflict" => ChangeState::Conflict,
            "blocked" => ChangeState::Blocked,
            _ => ChangeState::Waiting,
        }
    }
}

/// One entry of the upload queue.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingChange {
    /// Queue order: upload in ascending `seq`.
    pub seq: i64,
    pub object: String,
    pub record_id: String,
    pub op: ChangeOp,
    /// The new values (for a create, every value given).
    pub fields: Record,
    /// For each changed field, the value it had before its first local edit.
    pub base: Record,
    pub state: ChangeState,
    /// The server's error, for failed changes.
    pub error: Option<Value>,
    pub attempts: u32,
    /// For creates: a value unique to this change (the local id), for idempotent upserts.
    pub external_id_value: Option<String>,
    /// Rises with every edit coalesced into this change.
    pub change_count: i64,
    /// The latest server values of the changed fields that downloads or a conflict brought.
    pub server_values: Record,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    uploaded_count: Option<i64>,
    inflight: Option<Record>,
}

/// The result of a local edit.
#[derive(Debug, Clone, PartialEq)]
pub struct EditOutcome {
    /// The record's id (a new local id for a create without one).
    pub record_id: String,
    /// The queue entry now holding the edit, or `None` when the edits cancelled out.
    pub seq: Option<i64>,
}

/// How to settle one conflicting field.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Keep the local value and upload it over the server's.
    KeepLocal,
    /// Take the server's value and drop the local edit of this field.
    TakeServer,
    /// Use this value instead of both.
    Value(Value),
}

/// Which pending changes to list.
#[derive(Debug, Clone, Default)]
pub struct PendingFilter {
    pub object: Option<String>,
    /// Empty means every state.
    pub states: Vec<ChangeState>,
    pub record_id: Option<String>,
    pub limit: Option<usize>,
}

const COLUMNS: &str = "seq, object, record_id, op, fields, base, state, error, attempts, \
    external_id_value, change_count, uploaded_count, inflight, server_values, created_at, updated_at";

fn json_map(text: Option<String>) -> rusqlite::Result<Record> {
    match text {
        None => Ok(Record::new()),
        Some(t) => serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        }),
    }
}

fn time(text: String) -> DateTime<Utc> {
    parse_datetime(&text).unwrap_or_default()
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<PendingChange> {
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
        .query_row(
            &format!("SELECT {COLUMNS} FROM _pending_changes WHERE object = ?1 AND record_id = ?2"),
            [object, record_id],
            from_row,
        )
        .optional()?)
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

/// The fields a download must not overwrite for this record, or `None` if nothing is pending.
pub(crate) fn protected_fields(
    conn: &Connection,
    object: &str,
    record_id: &str,
) -> Result<Option<HashSet<String>>, StoreError> {
    let row: Option<(String, Option<String>)> = conn
        .prepare_cached(
            "SELECT fields, inflight FROM _pending_changes WHERE object = ?1 AND record_id = ?2",
        )?
        .query_row([object, record_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((fields, inflight)) = row else { return Ok(None) };
    let mut names: HashSet<String> = json_map(Some(fields))?.into_iter().map(|(k, _)| k).collect();
    if let Some(inflight) = inflight {
        names.extend(json_map(Some(inflight))?.into_iter().map(|(k, _)| k));
    }
    Ok(Some(names))
}

/// Remembers the latest server values of a pending record's changed fields.
pub(crate) fn note_server_values(
    conn: &Connection,
    object: &str,
    record_id: &str,
    values: &Record,
) -> Result<(), StoreError> {
    if let Some(mut change) = for_record(conn, object, record_id)? {
        for (k, v) in values {
            change.server_values.insert(k.clone(), v.clone());
        }
        conn.execute(
            "UPDATE _pending_changes SET server_values = ?1 WHERE seq = ?2",
            params![Value::Object(change.server_values).to_string(), change.seq],
        )?;
    }
    Ok(())
}

fn save(conn: &Connection, c: &PendingChange) -> Result<(), StoreError> {
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
fn insert(
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

fn remove(conn: &Connection, seq: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM _pending_changes WHERE seq = ?1", [seq])?;
    Ok(())
}

/// Whether the values refer to a record created offline (other than `own_id`).
fn refers_to_local(fields: &Record, own_id: &str) -> bool {
    fields.values().any(|v| v.as_str().is_some_and(|s| is_local_id(s) && s != own_id))
}

fn waiting_or_blocked(fields: &Record, own_id: &str) -> ChangeState {
    if refers_to_local(fields, own_id) { ChangeState::Blocked } else { ChangeState::Waiting }
}

fn flags(conn: &Connection, table: &str, id: &str, assignments: &str) -> Result<(), StoreError> {
    conn.execute(&format!("UPDATE \"{table}\" SET {assignments} WHERE \"Id\" = ?1"), [id])?;
    Ok(())
}

fn delete_row(conn: &Connection, table: &str, id: &str) -> Result<(), StoreError> {
    conn.execute(&format!("DELETE FROM \"{table}\" WHERE \"Id\" = ?1"), [id])?;
    Ok(())
}

fn row_state(conn: &Connection, table: &str, id: &str) -> Result<Option<(bool, bool)>, StoreError> {
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
fn canonical_fields<'s>(
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
fn write_values(
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

/// Applies a local edit to the record's row and coalesces it into the upload queue.
pub(crate) fn record_edit(
    conn: &Connection,
    catalog: &ObjectCatalog,
    object: &str,
    record_id: Option<&str>,
    op: ChangeOp,
    fields: &Record,
    now: DateTime<Utc>,
) -> Result<EditOutcome, StoreError> {
    let schema = catalog.require(object)?;
    let table = schema.name.as_str();
    let refuse = |id: &str, reason: &str| StoreError::InvalidEdit {
        object: table.to_owned(),
        id: id.to_owned(),
        reason: reason.to_owned(),
    };

    if op == ChangeOp::Create {
        let id = record_id.map(norm_id).unwrap_or_else(new_local_id);
        if row_state(conn, table, &id)?.is_some() {
            return Err(refuse(&id, "a record with this id exists"));
        }
        let values = canonical_fields(schema, &id, fields)?;
        let new_fields: Record = values.iter().map(|(f, v)| (f.name.clone(), v.clone())).collect();
        let mut names = vec!["\"Id\"".to_owned()];
        let mut args = vec![SqlValue::Text(id.clone())];
        for (f, v) in &values {
            names.push(format!("\"{}\"", f.name));
            args.push(json_to_sql(f, v).map_err(|r| refuse(&id, &r))?);
        }
        let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("?{i}")).collect();
        conn.execute(
            &format!(
                "INSERT INTO \"{table}\" ({}, _local_only, _pending) VALUES ({}, 1, 1)",
                names.join(", "),
                placeholders.join(", ")
            ),
            params_from_iter(args),
        )?;
        let state = waiting_or_blocked(&new_fields, &id);
        let seq = insert(conn, table, &id, op, &new_fields, &Record::new(), state, Some(&id), now)?;
        tracing::debug!(object = table, seq, "local create queued");
        return Ok(EditOutcome { record_id: id, seq: Some(seq) });
    }

    let id = norm_id(record_id.ok_or_else(|| refuse("", "an update or delete needs an id"))?);
    match row_state(conn, table, &id)? {
        None => return Err(StoreError::NoSuchRecord { object: table.to_owned(), id }),
        Some((true, _)) => return Err(refuse(&id, "the record is deleted")),
        Some(_) => {}
    }
    let existing = for_record(conn, table, &id)?;

    if op == ChangeOp::Delete {
        let Some(mut change) = existing else {
            flags(conn, table, &id, "_deleted = 1, _pending = 1")?;
            let seq = insert(
                conn,
                table,
                &id,
                op,
                &Record::new(),
                &Record::new(),
                ChangeState::Waiting,
                None,
                now,
            )?;
            tracing::debug!(object = table, seq, "local delete queued");
            return Ok(EditOutcome { record_id: id, seq: Some(seq) });
        };
        if change.op == ChangeOp::Create && change.state != ChangeState::Uploading {
            remove(conn, change.seq)?;
            delete_row(conn, table, &id)?;
            tracing::debug!(object = table, seq = change.seq, "create and delete cancelled out");
            return Ok(EditOutcome { record_id: id, seq: None });
        }
        change.op = ChangeOp::Delete;
        change.fields = Record::new();
        change.change_count += 1;
        change.updated_at = now;
        if change.state != ChangeState::Uploading {
            change.state = ChangeState::Waiting;
            change.error = None;
        }
        flags(conn, table, &id, "_deleted = 1, _pending = 1")?;
        save(conn, &change)?;
        return Ok(EditOutcome { record_id: id, seq: Some(change.seq) });
    }

    // Update: only fields whose value changes count.
    let values = canonical_fields(schema, &id, fields)?;
    let field_refs: Vec<&FieldSchema> = values.iter().map(|(f, _)| *f).collect();
    let current = read_fields(conn, schema, &id, &field_refs)?.unwrap_or_default();
    let changed: Record = values
        .into_iter()
        .filter(|(f, v)| current.get(&f.name) != Some(v))
        .map(|(f, v)| (f.name.clone(), v))
        .collect();
    if changed.is_empty() {
        return Ok(EditOutcome { record_id: id, seq: existing.map(|c| c.seq) });
    }
    write_values(conn, schema, &id, &changed, "_pending = 1")?;

    let Some(mut change) = existing else {
        let base: Record = changed
            .keys()
            .map(|k| (k.clone(), current.get(k).cloned().unwrap_or(Value::Null)))
            .collect();
        let state = waiting_or_blocked(&changed, &id);
        let seq = insert(conn, table, &id, op, &changed, &base, state, None, now)?;
        tracing::debug!(object = table, seq, fields = changed.len(), "local update queued");
        return Ok(EditOutcome { record_id: id, seq: Some(seq) });
    };
    for (name, value) in changed {
        if change.op == ChangeOp::Update && !change.base.contains_key(&name) {
            change.base.insert(name.clone(), current.get(&name).cloned().unwrap_or(Value::Null));
        }
        change.fields.insert(name, value);
    }
    change.change_count += 1;
    change.updated_at = now;
    change.state = match change.state {
        ChangeState::Uploading | ChangeState::Conflict => change.state,
        _ => waiting_or_blocked(&change.fields, &id),
    };
    if change.state != ChangeState::Failed {
        change.error = None;
    }

    // Fields edited back to their base value are no longer changes.
    if change.op == ChangeOp::Update && change.state != ChangeState::Uploading {
        let reverted: Vec<String> = change
            .fields
            .iter()
            .filter(|(k, v)| change.base.get(*k) == Some(*v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in reverted {
            change.fields.remove(&k);
            change.base.remove(&k);
        }
        if change.fields.is_empty() {
            remove(conn, change.seq)?;
            flags(conn, table, &id, "_pending = 0")?;
            tracing::debug!(object = table, seq = change.seq, "edits reverted; change dropped");
            return Ok(EditOutcome { record_id: id, seq: None });
        }
    }
    save(conn, &change)?;
    tracing::debug!(object = table, seq = change.seq, "local edit coalesced");
    Ok(EditOutcome { record_id: id, seq: Some(change.seq) })
}

fn require_state(
    c: &PendingChange,
    allowed: &[ChangeState],
    action: &str,
) -> Result<(), StoreError> {
    if allowed.contains(&c.state) {
        Ok(())
    } else {
        Err(StoreError::InvalidTransition {
            seq: c.seq,
            reason: format!("cannot {action} a change in state {}", c.state.as_str()),
        })
    }
}

/// Marks a waiting change as sent and returns what to send.
pub(crate) fn mark_uploading(
    conn: &Connection,
    seq: i64,
    now: DateTime<Utc>,
) -> Result<PendingChange, StoreError> {
    let mut c = get(conn, seq)?;
    require_state(&c, &[ChangeState::Waiting], "upload")?;
    c.state = ChangeState::Uploading;
    c.inflight = Some(c.fields.clone());
    c.uploaded_count = Some(c.change_count);
    c.attempts += 1;
    c.updated_at = now;
    save(conn, &c)?;
    Ok(c)
}

/// Parks an uploading change as failed with the server's error.
pub(crate) fn mark_failed(
    conn: &Connection,
    seq: i64,
    error: Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut c = get(conn, seq)?;
    require_state(&c, &[ChangeState::Uploading], "fail")?;
    c.state = ChangeState::Failed;
    c.error = Some(error);
    c.inflight = None;
    c.uploaded_count = None;
    c.updated_at = now;
    save(conn, &c)
}

/// Returns an uploading change to the queue without counting it as failed (a transient
/// error: the upload will be tried again).
pub(crate) fn mark_waiting(
    conn: &Connection,
    seq: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut c = get(conn, seq)?;
    require_state(&c, &[ChangeState::Uploading], "requeue")?;
    c.state = waiting_or_blocked(&c.fields, &c.record_id);
    c.inflight = None;
    c.uploaded_count = None;
    c.updated_at = now;
    save(conn, &c)
}

/// Parks an uploading change as a conflict, keeping the server's current values.
pub(crate) fn mark_conflict(
    conn: &Connection,
    seq: i64,
    server_values: &Record,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut c = get(conn, seq)?;
    require_state(&c, &[ChangeState::Uploading], "mark as conflict")?;
    c.state = ChangeState::Conflict;
    for (k, v) in server_values {
        if k != "attributes" {
            c.server_values.insert(k.clone(), v.clone());
        }
    }
    c.inflight = None;
    c.uploaded_count = None;
    c.updated_at = now;
    save(conn, &c)
}

/// Settles a conflict field by field; fields not named keep their local values.
/// Server values of fields without local changes are applied to the row as well.
pub(crate) fn resolve(
    conn: &Connection,
    catalog: &ObjectCatalog,
    seq: i64,
    choices: &BTreeMap<String, Resolution>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let mut c = get(conn, seq)?;
    require_state(&c, &[ChangeState::Conflict], "resolve")?;
    let schema = catalog.require(&c.object)?;
    let choice_for = |field: &str| {
        choices.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)).map(|(_, v)| v.clone())
    };

    let mut row_values = Record::new();
    for (name, server) in c.server_values.clone() {
        if schema.field(&name).is_some() && !c.fields.contains_key(&name) {
            row_values.insert(name, server);
        }
    }
    for name in c.fields.keys().cloned().collect::<Vec<_>>() {
        let server = c.server_values.get(&name).cloned();
        match choice_for(&name).unwrap_or(Resolution::KeepLocal) {
            Resolution::KeepLocal => {
                if let Some(server) = server {
                    c.base.insert(name, server);
                }
            }
            Resolution::TakeServer => {
                let value = server.or_else(|| c.base.get(&name).cloned()).unwrap_or(Value::Null);
                row_values.insert(name.clone(), value);
                c.fields.remove(&name);
                c.base.remove(&name);
            }
            Resolution::Value(v) => {
                row_values.insert(name.clone(), v.clone());
                c.fields.insert(name.clone(), v);
                if let Some(server) = server {
                    c.base.insert(name, server);
                }
            }
        }
    }
    write_values(conn, schema, &c.record_id, &row_values, "")?;
    c.server_values = Record::new();
    c.updated_at = now;
    c.error = None;
    if c.op == ChangeOp::Update && c.fields.is_empty() {
        remove(conn, seq)?;
        flags(conn, &schema.name, &c.record_id, "_pending = 0")?;
        return Ok(None);
    }
    c.state = waiting_or_blocked(&c.fields, &c.record_id);
    save(conn, &c)?;
    Ok(Some(seq))
}

/// Drops a change and undoes it locally: a create's row goes; an update's or delete's
/// fields get back their base values (or the latest server values, when a download
/// brought newer ones).
pub(crate) fn discard(
    conn: &Connection,
    catalog: &ObjectCatalog,
    seq: i64,
    _now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let c = get(conn, seq)?;
    require_state(
        &c,
        &[ChangeState::Waiting, ChangeState::Failed, ChangeState::Conflict, ChangeState::Blocked],
        "discard",
    )?;
    let schema = catalog.require(&c.object)?;
    let table = schema.name.as_str();
    remove(conn, seq)?;
    if c.op == ChangeOp::Create {
        delete_row(conn, table, &c.record_id)?;
        return Ok(());
    }
    let mut restore = Record::new();
    for (name, base) in &c.base {
        let value = c.server_values.get(name).unwrap_or(base);
        restore.insert(name.clone(), value.clone());
    }
    write_values(conn, schema, &c.record_id, &restore, "_pending = 0, _deleted = 0")?;
    if let Some((_, true)) = row_state(conn, table, &c.record_id)? {
        // Only the change kept this record after the server removed it.
        delete_row(conn, table, &c.record_id)?;
    }
    tracing::debug!(object = table, seq, "pending change discarded");
    Ok(())
}

/// Puts a failed or blocked change back in the queue.
pub(crate) fn retry(conn: &Connection, seq: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    let mut c = get(conn, seq)?;
    require_state(&c, &[ChangeState::Failed, ChangeState::Blocked], "retry")?;
    c.state = ChangeState::Waiting;
    c.error = None;
    c.updated_at = now;
    save(conn, &c)
}

/// Records that the server accepted an uploading change. If the record was edited while
/// the upload was in flight, the change stays queued with what is still unsent.
pub(crate) fn complete(
    conn: &Connection,
    catalog: &ObjectCatalog,
    seq: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut c = get(conn, seq)?;
    require_state(&c, &[ChangeState::Uploading], "complete")?;
    if c.op != ChangeOp::Delete && is_local_id(&c.record_id) {
        return Err(StoreError::InvalidTransition {
            seq,
            reason: "the record still has a local id; remap it to its server id first".into(),
        });
    }
    let schema = catalog.require(&c.object)?;
    let table = schema.name.as_str();
    let scope_left = matches!(row_state(conn, table, &c.record_id)?, Some((_, true)));

    if c.uploaded_count == Some(c.change_count) {
        remove(conn, seq)?;
        if c.op == ChangeOp::Delete || scope_left {
            delete_row(conn, table, &c.record_id)?;
        } else {
            flags(conn, table, &c.record_id, "_pending = 0, _local_only = 0")?;
        }
        tracing::debug!(object = table, seq, "upload completed");
        return Ok(());
    }

    // Edited during the upload: what was sent is now the server's value.
    let inflight = c.inflight.take().unwrap_or_default();
    for (name, sent) in inflight {
        if c.fields.get(&name) == Some(&sent) {
            c.fields.remove(&name);
            c.base.remove(&name);
        } else {
            c.base.insert(name, sent);
        }
    }
    if c.op == ChangeOp::Create {
        c.op = ChangeOp::Update;
    }
    flags(conn, table, &c.record_id, "_local_only = 0")?;
    if c.op == ChangeOp::Update && c.fields.is_empty() {
        remove(conn, seq)?;
        flags(conn, table, &c.record_id, "_pending = 0")?;
        return Ok(());
    }
    c.uploaded_count = None;
    c.state = waiting_or_blocked(&c.fields, &c.record_id);
    c.updated_at = now;
    save(conn, &c)?;
    tracing::debug!(object = table, seq, "upload completed; later edits stay queued");
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

fn replace_id(map: &mut Record, from: &str, to: &str) -> bool {
    let mut hit = false;
    for v in map.values_mut() {
        if v.as_str() == Some(from) {
            *v = Value::String(to.to_owned());
            hit = true;
        }
    }
    hit
}

/// Gives a record created offline its server id: the row's `Id`, every reference to it in
/// every object table, the queue's record ids and values, and history rows.
pub(crate) fn remap_id(
    conn: &Connection,
    catalog: &ObjectCatalog,
    local_id: &str,
    server_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let server = salesforce::SfId::parse(server_id)
        .map_err(|e| StoreError::InvalidRecord {
            object: String::new(),
            reason: format!("server id: {e}"),
        })?
        .to_string();

    // The record's own row, in whichever table holds it.
    let mut found = false;
    for schema in catalog.objects() {
        let n = conn.execute(
            &format!(
                "UPDATE \"{}\" SET \"Id\" = ?2, _local_only = 0 WHERE \"Id\" = ?1",
                schema.name
            ),
            [local_id, &server],
        )?;
        found |= n > 0;
    }
    if !found {
        return Err(StoreError::NoSuchRecord { object: String::new(), id: local_id.to_owned() });
    }

    // References from other rows.
    for (table, column) in reference_columns(catalog) {
        conn.execute(
            &format!("UPDATE \"{table}\" SET \"{column}\" = ?2 WHERE \"{column}\" = ?1"),
            [local_id, &server],
        )?;
    }

    // The queue: the record's own change, and values that point at it.
    conn.execute(
        "UPDATE _pending_changes SET record_id = ?2 WHERE record_id = ?1",
        [local_id, &server],
    )?;
    let pattern = format!("%{local_id}%");
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM _pending_changes WHERE fields LIKE ?1 OR base LIKE ?1 OR inflight LIKE ?1
         OR server_values LIKE ?1 OR state = 'blocked'"
    ))?;
    let changes: Vec<PendingChange> =
        stmt.query_map([&pattern], from_row)?.collect::<Result<_, _>>()?;
    for mut c in changes {
        replace_id(&mut c.fields, local_id, &server);
        replace_id(&mut c.base, local_id, &server);
        replace_id(&mut c.server_values, local_id, &server);
        if let Some(inflight) = c.inflight.as_mut() {
            replace_id(inflight, local_id, &server);
        }
        if c.state == ChangeState::Blocked {
            c.state = waiting_or_blocked(&c.fields, &c.record_id);
        }
        c.updated_at = now;
        save(conn, &c)?;
    }

    conn.execute(
        "UPDATE _sync_event_records SET record_id = ?2 WHERE record_id = ?1",
        [local_id, &server],
    )?;
    tracing::debug!("local id remapped to server id");
    Ok(())
}
