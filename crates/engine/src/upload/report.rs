//! What an upload run did: counts, failures, conflicts and id remaps, for the caller and
//! the sync history.

use serde_json::Value;

use crate::profile::ConflictPolicy;

/// A record created offline that got its server id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdRemap {
    pub object: String,
    pub local_id: String,
    pub server_id: String,
}

/// One field changed both locally and on the server since the local edit's base.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldConflict {
    pub field: String,
    /// The value the user set.
    pub local: Value,
    /// The value the user's edit started from.
    pub base: Value,
    /// The server's value now.
    pub server: Value,
    /// The policy the profile gives this field.
    pub policy: ConflictPolicy,
}

/// How a conflict was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictSettlement {
    /// Each field went by its policy (server-wins or client-wins); what was left was sent.
    Merged,
    /// At least one field's policy is manual: the change is parked in state `conflict`
    /// with local, base and server values until the user resolves it.
    Parked,
    /// The server deleted the record and the object's policy is server-wins: the local
    /// edit was dropped and the record removed locally.
    EditDropped,
    /// The server deleted the record and the object's policy is client-wins: the record
    /// was queued to be created again with the local values, under a new id.
    Recreated,
}

/// A conflict found before an update was sent, and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictOutcome {
    pub seq: i64,
    pub object: String,
    pub record_id: String,
    /// True when the server no longer has the record (no field list then).
    pub deleted_on_server: bool,
    pub fields: Vec<FieldConflict>,
    pub settlement: ConflictSettlement,
    /// For a record created again: its new local id (`id_remaps` gives its server id once
    /// the create landed).
    pub recreated_as: Option<String>,
}

/// The outcome of one upload run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UploadReport {
    /// Changes sent to the org (each counted once however often it was retried).
    pub sent: u32,
    /// Changes the org accepted, plus deletes of records it had already deleted and
    /// creates found already on the server.
    pub succeeded: u32,
    /// Changes the org refused: `(seq, statusCode, message)`; they are in state `failed`.
    pub failed: Vec<(i64, String, String)>,
    pub conflicts: Vec<ConflictOutcome>,
    /// HTTP requests made to the org, retries and checks included.
    pub requests: u32,
    pub id_remaps: Vec<IdRemap>,
    /// Changes that were not sent because they wait for another change: `(seq, reason)`.
    pub blocked: Vec<(i64, String)>,
    /// Changes left waiting after transient failures used up their attempts.
    pub deferred: Vec<i64>,
    /// Creates whose earlier outcome was unknown and that were found on the server.
    pub adopted: u32,
    /// Why the run stopped before the end of the queue, when it did.
    pub interrupted: Option<String>,
}
