//! Conflicts the upload settled by itself (by a server-wins or client-wins policy), noted
//! in the store in the transaction that settles them, so that the run's history lists
//! each as a conflict with how it was settled rather than as a plain upload.
//!
//! The notes live in the store's key-value table: [`note`] appends (at most
//! [`MAX_NOTES`], oldest dropped), [`super::begin`] clears what an earlier upload outside
//! a recorded run left, and [`super::SyncRun::finish`] takes them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{Store, StoreError, WriteTx};

use crate::profile::ConflictPolicy;
use crate::upload::{ConflictOutcome, ConflictSettlement};

/// The key-value key of the notes.
const KEY: &str = "history:settled_conflicts";

/// At most this many notes are kept between two recorded runs.
pub const MAX_NOTES: usize = 1000;

/// How one change's conflict was settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledNote {
    pub seq: i64,
    /// In words for the technician: what met what, and which side won each field.
    pub detail: String,
    /// Whether the edit was dropped (the server deleted the record, and server-wins).
    pub edit_dropped: bool,
}

/// Notes a conflict the upload settled, inside the transaction that settles it. Parked
/// conflicts are not noted: their change stays queued in state `conflict`.
pub fn note(tx: &mut WriteTx<'_>, conflict: &ConflictOutcome) -> Result<(), StoreError> {
    let Some(detail) = describe(conflict) else { return Ok(()) };
    let mut notes = read(tx.read().kv_get(KEY)?);
    let edit_dropped = conflict.settlement == ConflictSettlement::EditDropped;
    notes.push(SettledNote { seq: conflict.seq, detail, edit_dropped });
    if notes.len() > MAX_NOTES {
        notes.drain(..notes.len() - MAX_NOTES);
    }
    tx.kv_set(KEY, &serde_json::to_value(&notes)?)
}

/// Removes the notes and returns them by change.
pub(super) fn take(store: &Store) -> Result<HashMap<i64, SettledNote>, StoreError> {
    let notes = store.write(|tx| {
        let notes = read(tx.read().kv_get(KEY)?);
        tx.kv_delete(KEY)?;
        Ok(notes)
    })?;
    Ok(notes.into_iter().map(|n| (n.seq, n)).collect())
}

/// Drops the notes an upload outside a recorded run left.
pub(super) fn clear(store: &Store) -> Result<(), StoreError> {
    store.write(|tx| tx.kv_delete(KEY).map(|_| ()))
}

fn read(value: Option<Value>) -> Vec<SettledNote> {
    value.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
}

/// The history detail of a settled conflict; `None` for one parked for the user.
pub fn describe(conflict: &ConflictOutcome) -> Option<String> {
    match conflict.settlement {
        ConflictSettlement::Parked => None,
        ConflictSettlement::EditDropped => {
            Some("deleted on the server; the local edit was dropped (server wins)".into())
        }
        ConflictSettlement::Recreated => Some(
            "deleted on the server; created again with this device's values (client wins)".into(),
        ),
        ConflictSettlement::Merged => {
            let sides: Vec<String> = conflict
                .fields
                .iter()
                .map(|f| match f.policy {
                    ConflictPolicy::ServerWins => format!("{}: the server's value kept", f.field),
                    _ => format!("{}: this device's value sent", f.field),
                })
                .collect();
            Some(format!("changed on the server too; settled by policy ({})", sides.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::FieldConflict;
    use serde_json::json;

    fn conflict(settlement: ConflictSettlement, fields: Vec<FieldConflict>) -> ConflictOutcome {
        ConflictOutcome {
            seq: 1,
            object: "Account".into(),
            record_id: "001000000000001AAA".into(),
            deleted_on_server: false,
            fields,
            settlement,
            recreated_as: None,
        }
    }

    fn field(name: &str, policy: ConflictPolicy) -> FieldConflict {
        FieldConflict {
            field: name.into(),
            local: json!("l"),
            base: json!("b"),
            server: json!("s"),
            policy,
        }
    }

    #[test]
    fn a_merge_names_the_side_each_field_took() {
        let merged = conflict(
            ConflictSettlement::Merged,
            vec![
                field("Phone", ConflictPolicy::ServerWins),
                field("Name", ConflictPolicy::ClientWins),
            ],
        );
        assert_eq!(
            describe(&merged).unwrap(),
            "changed on the server too; settled by policy (Phone: the server's value kept, \
             Name: this device's value sent)"
        );
        assert_eq!(describe(&conflict(ConflictSettlement::Parked, vec![])), None);
        assert!(
            describe(&conflict(ConflictSettlement::Recreated, vec![]))
                .unwrap()
                .contains("created again")
        );
    }
}
