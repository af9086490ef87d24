//! Records the server deleted while they were edited locally, and the conflict's two ways
//! out: [`recreate`] creates the record again with the device's values (it gets a new
//! server id, and every local reference follows as for an offline create); [`drop_edit`]
//! drops the edit, and the record with it. Under a client-wins policy the upload takes
//! the first way by itself.

use chrono::{DateTime, Utc};
use salesforce::wire::SObjectDescribe;
use store::{Record, Store, StoreError, WriteTx};

use crate::edit::{EditError, Edits};

/// The values a record is created again with: every createable field the device's copy
/// holds a value for.
pub fn recreate_values(row: &Record, describe: &SObjectDescribe) -> Record {
    describe
        .fields
        .iter()
        .filter(|f| f.createable && !f.name.eq_ignore_ascii_case("Id"))
        .filter_map(|f| {
            let value = row.get(&f.name).filter(|v| !v.is_null())?;
            Some((f.name.clone(), value.clone()))
        })
        .collect()
}

/// Queues the record of the conflict `seq` (deleted on the server) to be created again,
/// inside `tx`. Returns the record's new local id.
pub(crate) fn recreate_in(
    tx: &mut WriteTx<'_>,
    describe: &SObjectDescribe,
    seq: i64,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let change = tx.read().pending_change(seq)?;
    let row = tx.read().get_record(&change.object, &change.record_id)?.ok_or_else(|| {
        StoreError::NoSuchRecord { object: change.object.clone(), id: change.record_id.clone() }
    })?;
    tx.recreate(seq, &recreate_values(&row, describe), now)
}

/// The user's choice to create again a record the server deleted while it was edited
/// here: the next upload creates it with the device's values. Returns its new local id.
pub fn recreate(store: &Store, seq: i64, now: DateTime<Utc>) -> Result<String, EditError> {
    let change = store.read(|r| r.pending_change(seq))?;
    let describe = Edits::new(store).describe(&change.object)?;
    if !describe.createable {
        return Err(EditError::NotAllowed { object: describe.name, action: "created" });
    }
    let local_id = store.write(|tx| recreate_in(tx, &describe, seq, now))?;
    tracing::debug!(object = %describe.name, seq, "record deleted on the server to be created again");
    Ok(local_id)
}

/// The user's choice to drop the edit of a record the server deleted: the change goes,
/// and so does the device's copy of the record.
pub fn drop_edit(store: &Store, seq: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    store.write(|tx| tx.discard(seq, now))
}
