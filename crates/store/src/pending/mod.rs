//! The durable, ordered queue of local changes waiting for upload, and the edits that feed it.
//!
//! Every local edit goes through [`crate::WriteTx::record_edit`], which changes the record's row and
//! coalesces into the record's single queue entry in the same transaction:
//!
//! | queued  | new edit | result |
//! | ------- | -------- | ------ |
//! | none    | create   | create with the given values, on a new local id |
//! | none    | update   | update of the fields that changed; `base` keeps their old values |
//! | none    | delete   | delete; the row stays hidden (`_deleted = 1`) until uploaded |
//! | create  | update   | one create with the final values |
//! | create  | delete   | nothing: entry and row go; if the create is uploading, the |
//! |         |          | entry becomes a delete, sent once the create lands (or      |
//! |         |          | dropped if the server refuses the create)                   |
//! | update  | update   | one update; each field keeps the base of its first edit, and |
//! |         |          | a field set back to the server's value drops out            |
//! | update  | delete   | delete (base kept, so discarding restores the record) |
//! | delete  | any      | refused: the record is deleted |
//!
//! A change counter (`change_count`) rises with every edit. Starting an upload copies the
//! fields (`inflight`, read as [`PendingChange::sent_values`]; fields held back from the
//! request are left out) and the counter (`uploaded_count`); completing it removes the
//! entry only if no edit came in meanwhile and nothing was held back, otherwise the entry
//! goes back to waiting (as an update) with the uploaded values as its new base.
//!
//! States: `waiting` → `uploading` ([`crate::WriteTx::mark_uploading`]); from there
//! `complete` removes it (or requeues what was edited meanwhile), `mark_waiting` requeues
//! it after a transient error, `mark_failed` parks it with the server's error and
//! `mark_conflict` parks it with the server's values. `failed` goes back to `waiting` on
//! `retry` or on a new edit; `conflict` on `resolve`, or on `recreate` when the server
//! deleted the record (the change becomes a create on a new local id). `blocked` means the values refer to
//! a record created offline; `remap_id` unblocks it once that record has its server id.
//! `discard` works in every state but `uploading`.

mod download;
mod edit;
mod queue;
mod recreate;
mod remap;
mod rows;
mod upload;

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::Value;

use crate::records::Record;

pub(crate) use download::merge_download;
pub(crate) use edit::record_edit;
pub(crate) use queue::{any_for_object, counts, for_record, get, list, set_external_id_value};
pub(crate) use recreate::recreate;
pub(crate) use remap::remap_id;
pub(crate) use upload::{
    complete, discard, mark_conflict, mark_failed, mark_uploading, mark_waiting, resolve, retry,
};

/// Every id created on this device starts with this prefix, followed by 12 random ASCII
/// alphanumerics (`local-Ab3dE6gH9jK2`). The `-` means it can never parse as a 15- or
/// 18-character server id.
pub const LOCAL_ID_PREFIX: &str = "local-";

/// A new local id.
pub fn new_local_id() -> String {
    let suffix: String = rand::rng().sample_iter(Alphanumeric).take(12).map(char::from).collect();
    format!("{LOCAL_ID_PREFIX}{suffix}")
}

/// The key a conflict's `server_values` carries (as `true`) when the server deleted the
/// record while it was edited locally.
pub const DELETED_ON_SERVER: &str = "IsDeleted";

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

impl PendingChange {
    /// While the change is `uploading`: the values its request carried, as they were when
    /// it was marked uploading (edits made since are in `fields` only). A create whose
    /// outcome is unknown is looked for on the server by these values.
    pub fn sent_values(&self) -> Option<&Record> {
        self.inflight.as_ref()
    }
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
