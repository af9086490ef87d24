//! How a download meets a record's pending change: the fields the change covers keep their
//! local values and the server's values are remembered with the change; a field the
//! server now holds at the local value is settled and leaves the change.

use std::collections::HashSet;

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use soql::schema::FieldSchema;

use super::queue::{for_record, remove, save};
use super::rows::flags;
use super::{ChangeOp, ChangeState};
use crate::StoreError;
use crate::values::sql_to_json;

/// What a download did to a pending change.
#[derive(Debug, Default)]
pub(crate) struct DownloadMerge {
    /// Fields the download must not write to the row.
    pub protected: HashSet<String>,
    /// Downloaded fields that kept their local values.
    pub kept: Vec<String>,
    /// Downloaded fields whose server value now equals the local one: no longer changes.
    pub settled: Vec<String>,
}

/// Meets the downloaded columns of one record with its pending change, if it has one.
pub(crate) fn merge_download(
    conn: &Connection,
    table: &str,
    record_id: &str,
    incoming: &[(&FieldSchema, SqlValue)],
) -> Result<Option<DownloadMerge>, StoreError> {
    let Some(mut change) = for_record(conn, table, record_id)? else {
        return Ok(None);
    };
    let mut merge = DownloadMerge::default();
    merge.protected.extend(change.fields.keys().cloned());
    merge.protected.extend(change.base.keys().cloned());
    if let Some(inflight) = &change.inflight {
        merge.protected.extend(inflight.keys().cloned());
    }
    let can_settle = change.op == ChangeOp::Update && change.state != ChangeState::Uploading;
    for (field, value) in incoming {
        if !merge.protected.contains(&field.name) {
            continue;
        }
        let server = sql_to_json(field.field_type, value.clone());
        if can_settle && change.fields.get(&field.name) == Some(&server) {
            change.fields.remove(&field.name);
            change.base.remove(&field.name);
            change.server_values.remove(&field.name);
            merge.settled.push(field.name.clone());
        } else {
            change.server_values.insert(field.name.clone(), server);
            merge.kept.push(field.name.clone());
        }
    }
    if merge.kept.is_empty() && merge.settled.is_empty() {
        return Ok(Some(merge));
    }

    if can_settle && change.fields.is_empty() {
        remove(conn, change.seq)?;
        flags(conn, table, record_id, "_pending = 0")?;
        tracing::debug!(object = table, seq = change.seq, "download settled every pending field");
    } else {
        save(conn, &change)?;
    }
    Ok(Some(merge))
}
