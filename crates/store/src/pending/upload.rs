//! The upload life of a change: uploading, failed, conflict, resolved, discarded, completed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::Value;

use super::queue::{get, remove, save};
use super::recreate::is_deleted_on_server;
use super::rows::{
    delete_row, flags, refers_to_local, row_state, waiting_or_blocked, write_values,
};
use super::{ChangeOp, ChangeState, PendingChange, Resolution, is_local_id};
use crate::StoreError;
use crate::objects::ObjectCatalog;
use crate::records::Record;
use crate::values::canonical;

pub(super) fn require_state(
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

/// Marks a waiting change as sent and returns what to send: its fields but those named in
/// `held_back`, which stay queued when the upload completes.
pub(crate) fn mark_uploading(
    conn: &Connection,
    seq: i64,
    held_back: &[String],
    now: DateTime<Utc>,
) -> Result<PendingChange, StoreError> {
    let mut c = get(conn, seq)?;
    let sent: Record = c
        .fields
        .iter()
        .filter(|(k, _)| !held_back.iter().any(|h| h.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // A blocked change can go once what it waits for is held back.
    if c.state != ChangeState::Blocked || refers_to_local(&sent, &c.record_id) {
        require_state(&c, &[ChangeState::Waiting], "upload")?;
    }
    c.state = ChangeState::Uploading;
    c.inflight = Some(sent);
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
    if c.op == ChangeOp::Delete && is_local_id(&c.record_id) {
        // A create the user deleted while it was in flight, and the server refused it:
        // the record never existed there, so nothing is left to do.
        remove(conn, seq)?;
        delete_row(conn, &c.object, &c.record_id)?;
        tracing::debug!(seq, "refused create of a record deleted meanwhile dropped");
        return Ok(());
    }
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
    catalog: &ObjectCatalog,
    seq: i64,
    server_values: &Record,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut c = get(conn, seq)?;
    require_state(&c, &[ChangeState::Uploading], "mark as conflict")?;
    let schema = catalog.require(&c.object)?;
    c.state = ChangeState::Conflict;
    for (k, v) in server_values {
        if k == "attributes" || v.is_object() {
            continue;
        }
        // Known fields in the stored form, so they compare equal to local values.
        let (name, value) = match schema.field(k) {
            Some(f) => (f.name.clone(), canonical(f, v).unwrap_or_else(|_| v.clone())),
            None => (k.clone(), v.clone()),
        };
        c.server_values.insert(name, value);
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
        // `IsDeleted` is how the uploader marks a record the server deleted; keeping the
        // local edit must not hide the row.
        if schema.field(&name).is_some()
            && !c.fields.contains_key(&name)
            && !name.eq_ignore_ascii_case("IsDeleted")
        {
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
                let v = match schema.field(&name) {
                    Some(f) => canonical(f, &v).map_err(|reason| StoreError::InvalidEdit {
                        object: schema.name.clone(),
                        id: c.record_id.clone(),
                        reason,
                    })?,
                    None => v,
                };
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
    if c.op == ChangeOp::Create
        || (c.state == ChangeState::Conflict && is_deleted_on_server(&c.server_values))
    {
        // A record the server deleted leaves with its edit.
        delete_row(conn, table, &c.record_id)?;
        tracing::debug!(object = table, seq, "pending change discarded with its record");
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

    let all_sent =
        c.inflight.as_ref().is_none_or(|sent| c.fields.keys().all(|k| sent.contains_key(k)));
    if c.uploaded_count == Some(c.change_count) && all_sent {
        remove(conn, seq)?;
        if c.op == ChangeOp::Delete || scope_left {
            delete_row(conn, table, &c.record_id)?;
        } else {
            flags(conn, table, &c.record_id, "_pending = 0, _local_only = 0")?;
        }
        tracing::debug!(object = table, seq, "upload completed");
        return Ok(());
    }

    // Edited during the upload, or sent without some fields: what was sent is now the
    // server's value, and the rest stays queued.
    let inflight = c.inflight.take().unwrap_or_default();
    for (name, sent) in inflight {
        c.server_values.remove(&name);
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
    if c.op == ChangeOp::Update {
        // Fields edited during the upload and then back to the server's value.
        let settled: Vec<String> = c
            .fields
            .iter()
            .filter(|(k, v)| c.server_values.get(*k).or_else(|| c.base.get(*k)) == Some(*v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in settled {
            c.fields.remove(&k);
            c.base.remove(&k);
            c.server_values.remove(&k);
        }
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
