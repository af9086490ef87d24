//! Giving a record created offline its server id, everywhere the local id appears.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::Value;
use soql::schema::FieldSchema;

use super::queue::{COLUMNS, from_row, save};
use super::rows::{delete_row, row_state, waiting_or_blocked};
use super::{ChangeState, PendingChange};
use crate::StoreError;
use crate::objects::ObjectCatalog;
use crate::records::{Record, read_fields, reference_columns};

pub(super) fn replace_id(map: &mut Record, from: &str, to: &str) -> bool {
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
    let mut holder = None;
    for schema in catalog.objects() {
        if row_state(conn, &schema.name, local_id)?.is_some() {
            holder = Some(schema);
            break;
        }
    }
    let Some(schema) = holder else {
        return Err(StoreError::NoSuchRecord { object: String::new(), id: local_id.to_owned() });
    };

    // A download may have brought the new record already: its row gives way to the local
    // one, and its values are applied back afterwards like any download.
    let fields: Vec<&FieldSchema> = schema.fields.iter().collect();
    let downloaded = read_fields(conn, schema, &server, &fields)?;
    if downloaded.is_some() {
        delete_row(conn, &schema.name, &server)?;
        tracing::debug!(object = %schema.name, "downloaded copy of a local create merged on remap");
    }
    conn.execute(
        &format!("UPDATE \"{}\" SET \"Id\" = ?2, _local_only = 0 WHERE \"Id\" = ?1", schema.name),
        [local_id, &server],
    )?;

    rewrite_references(conn, catalog, local_id, &server, now)?;

    if let Some(mut record) = downloaded {
        record.insert("Id".into(), Value::String(server.clone()));
        crate::upsert::upsert_records(conn, catalog, &schema.name, &[record])?;
    }

    conn.execute(
        "UPDATE _sync_event_records SET record_id = ?2 WHERE record_id = ?1",
        [local_id, &server],
    )?;
    tracing::debug!("local id remapped to server id");
    Ok(())
}

/// Rewrites every reference to the record `from` into `to`: reference columns of every
/// object table, the queue's record ids and values. Changes waiting or blocked are
/// blocked afterwards exactly when their values still refer to a record created offline.
pub(super) fn rewrite_references(
    conn: &Connection,
    catalog: &ObjectCatalog,
    from: &str,
    to: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (table, column) in reference_columns(catalog) {
        conn.execute(
            &format!("UPDATE \"{table}\" SET \"{column}\" = ?2 WHERE \"{column}\" = ?1"),
            [from, to],
        )?;
    }

    // The queue: the record's own change, and values that point at it.
    conn.execute("UPDATE _pending_changes SET record_id = ?2 WHERE record_id = ?1", [from, to])?;
    let pattern = format!("%{from}%");
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM _pending_changes WHERE fields LIKE ?1 OR base LIKE ?1 OR inflight LIKE ?1
         OR server_values LIKE ?1 OR state = 'blocked'"
    ))?;
    let changes: Vec<PendingChange> =
        stmt.query_map([&pattern], from_row)?.collect::<Result<_, _>>()?;
    for mut c in changes {
        replace_id(&mut c.fields, from, to);
        replace_id(&mut c.base, from, to);
        replace_id(&mut c.server_values, from, to);
        if let Some(inflight) = c.inflight.as_mut() {
            replace_id(inflight, from, to);
        }
        if matches!(c.state, ChangeState::Blocked | ChangeState::Waiting) {
            c.state = waiting_or_blocked(&c.fields, &c.record_id);
        }
        c.updated_at = now;
        save(conn, &c)?;
    }
    Ok(())
}
