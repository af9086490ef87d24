//! Local edits: the row changes and the record's queue entry coalesces, in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use serde_json::Value;
use soql::schema::FieldSchema;

use super::queue::{for_record, insert, remove, save};
use super::rows::{
    canonical_fields, delete_row, flags, row_state, waiting_or_blocked, write_values,
};
use super::{ChangeOp, ChangeState, EditOutcome, new_local_id};
use crate::StoreError;
use crate::objects::ObjectCatalog;
use crate::records::{Record, norm_id, read_fields};
use crate::values::json_to_sql;

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
        // A record made here is not deleted; offline queries filter on `IsDeleted = 0`, so
        // the row says so even though the server sets the field itself.
        if let Some(is_deleted) = schema.field("IsDeleted")
            && !values.iter().any(|(f, _)| f.name == is_deleted.name)
        {
            names.push(format!("\"{}\"", is_deleted.name));
            args.push(SqlValue::Integer(0));
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
    // A new edit may fix what the server refused, so a failed change goes back to the queue.
    if !matches!(change.state, ChangeState::Uploading | ChangeState::Conflict) {
        change.state = waiting_or_blocked(&change.fields, &id);
        change.error = None;
    }

    // Fields set back to the server's value (the latest one a download or conflict
    // brought, else the base) are no longer changes.
    if change.op == ChangeOp::Update && change.state != ChangeState::Uploading {
        let reverted: Vec<String> = change
            .fields
            .iter()
            .filter(|(k, v)| {
                change.server_values.get(*k).or_else(|| change.base.get(*k)) == Some(*v)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in reverted {
            change.fields.remove(&k);
            change.base.remove(&k);
            change.server_values.remove(&k);
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
