//! Creating again a record the server deleted while it was edited locally: the record
//! takes a new local id and its change becomes a create, sent like any offline create.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::Value;

use super::queue::{get, save};
use super::remap::{replace_id, rewrite_references};
use super::rows::{canonical_fields, row_state, waiting_or_blocked};
use super::upload::require_state;
use super::{ChangeOp, ChangeState, DELETED_ON_SERVER, is_local_id, new_local_id};
use crate::StoreError;
use crate::objects::ObjectCatalog;
use crate::records::Record;

/// Turns a conflict whose record the server deleted into a create of `values` (the
/// record's values to create it with) on a new local id, which every local reference to
/// the record takes in the same transaction. Returns the new local id.
pub(crate) fn recreate(
    conn: &Connection,
    catalog: &ObjectCatalog,
    seq: i64,
    values: &Record,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let c = get(conn, seq)?;
    require_state(&c, &[ChangeState::Conflict], "re-create")?;
    if c.op != ChangeOp::Update
        || is_local_id(&c.record_id)
        || !is_deleted_on_server(&c.server_values)
    {
        return Err(StoreError::InvalidTransition {
            seq,
            reason: "only an edit of a record the server deleted can re-create it".into(),
        });
    }
    let schema = catalog.require(&c.object)?;
    let table = schema.name.as_str();
    if row_state(conn, table, &c.record_id)?.is_none() {
        return Err(StoreError::NoSuchRecord { object: table.to_owned(), id: c.record_id });
    }

    let local_id = new_local_id();
    let mut fields: Record = canonical_fields(schema, &local_id, values)?
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(f, v)| (f.name.clone(), v))
        .collect();
    replace_id(&mut fields, &c.record_id, &local_id);
    conn.execute(
        &format!(
            "UPDATE \"{table}\" SET \"Id\" = ?2, _local_only = 1, _pending = 1, _deleted = 0,
                 _scope_left = 0 WHERE \"Id\" = ?1"
        ),
        [c.record_id.as_str(), local_id.as_str()],
    )?;
    rewrite_references(conn, catalog, &c.record_id, &local_id, now)?;

    let mut c = get(conn, seq)?;
    c.op = ChangeOp::Create;
    c.state = waiting_or_blocked(&fields, &local_id);
    c.fields = fields;
    c.base = Record::new();
    c.server_values = Record::new();
    c.error = None;
    c.external_id_value = Some(local_id.clone());
    c.change_count += 1;
    c.updated_at = now;
    save(conn, &c)?;
    tracing::debug!(object = table, seq, "record deleted on the server queued to be created again");
    Ok(local_id)
}

/// Whether a conflict's server values say the server deleted the record.
pub(super) fn is_deleted_on_server(server_values: &Record) -> bool {
    server_values.get(DELETED_ON_SERVER) == Some(&Value::Bool(true))
}
