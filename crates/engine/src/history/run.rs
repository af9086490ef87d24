//! One sync run in the store's history: [`begin`] opens the event and notes the changes
//! waiting to upload; [`SyncRun::finish`] adds the per-record detail and the outcome.
//!
//! What the upload did is read from the store, not from the engine's counts: a change
//! waiting before the run and gone after it was uploaded, unless the upload noted it as
//! a conflict it settled by policy ([`super::settled`]); one that became failed or a
//! conflict is listed as such. The store is the source of truth for the queue.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use store::{
    ChangeOp, ChangeState, EventRecord, PendingChange, PendingFilter, RecordAction, Store,
    StoreError, SyncKind, SyncOutcome,
};
use tracing::{debug, info};

use super::{display_name, settled};
use crate::sync::{ObjectCounts, RecordChange, RecordChangeKind, SyncReport};

/// Queued changes noted at the start of a run; a larger queue is noted in part (the
/// rest still uploads, but is neither counted nor listed in the run's history).
pub const MAX_NOTED_CHANGES: usize = 10_000;

/// The detail of an edit dropped because the server deleted its record.
const DROPPED: &str = "deleted on the server; the local edit was dropped";

/// Longest error text kept on a detail row.
const MAX_DETAIL_CHARS: usize = 300;

/// What the upload step did, as the store's queue shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UploadOutcome {
    /// Changes the server accepted.
    pub uploaded: u64,
    /// Changes the server refused, parked for a retry or a discard.
    pub failed: u64,
    /// Changes that met a server change and wait for a resolution, or whose edit was
    /// dropped because the server deleted the record.
    pub conflicts: u64,
    /// Changes that met a server change which the profile's policy settled; they count
    /// among `uploaded` too.
    pub settled: u64,
}

/// A change that could upload in this run.
#[derive(Debug, Clone)]
struct Noted {
    seq: i64,
    object: String,
    record_id: String,
    name: Option<String>,
    op: ChangeOp,
}

/// A sync run being recorded.
#[derive(Debug)]
pub struct SyncRun {
    event_id: i64,
    kind: SyncKind,
    noted: Vec<Noted>,
}

/// How a run ended, as its caller saw it.
#[derive(Debug, Clone, Copy)]
pub enum RunEnd<'a> {
    /// The engine returned its report.
    Completed(&'a SyncReport),
    /// The run stopped with an error (or was abandoned); `objects` holds what the objects
    /// that finished before it had done.
    Failed {
        /// Why, in words for the technician.
        reason: &'a str,
        /// The objects that finished downloading.
        objects: &'a BTreeMap<String, ObjectCounts>,
    },
}

/// What was written for a finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// The history event.
    pub event_id: i64,
    /// How it ended.
    pub outcome: SyncOutcome,
    /// Why it was partial or failed.
    pub reason: Option<String>,
    /// What the upload did.
    pub upload: UploadOutcome,
}

/// Opens a history event for a run of `kind` starting at `at`, noting the changes that
/// may upload in it.
pub fn begin(store: &Store, kind: SyncKind, at: DateTime<Utc>) -> Result<SyncRun, StoreError> {
    let filter = PendingFilter {
        states: vec![ChangeState::Waiting, ChangeState::Uploading, ChangeState::Blocked],
        limit: Some(MAX_NOTED_CHANGES),
        ..PendingFilter::default()
    };
    let noted = store.read(|r| {
        let mut noted = Vec::new();
        for change in r.pending_changes(&filter)? {
            let stored = r.get_record(&change.object, &change.record_id)?;
            let name = stored
                .as_ref()
                .and_then(display_name)
                .or_else(|| display_name(&change.fields))
                .or_else(|| display_name(&change.base));
            noted.push(Noted {
                seq: change.seq,
                object: change.object,
                record_id: change.record_id,
                name,
                op: change.op,
            });
        }
        Ok(noted)
    })?;
    settled::clear(store)?;
    let event_id = store.write(|tx| tx.begin_sync_event(kind, at))?;
    debug!(event_id, kind = kind.as_str(), queued = noted.len(), "sync event opened");
    Ok(SyncRun { event_id, kind, noted })
}

impl SyncRun {
    /// The history event's id.
    pub fn event_id(&self) -> i64 {
        self.event_id
    }

    /// The kind the event was opened with.
    pub fn kind(&self) -> SyncKind {
        self.kind
    }

    /// Writes the run's detail, counts and outcome at `at`, in one transaction.
    pub fn finish(
        self,
        store: &Store,
        end: RunEnd<'_>,
        at: DateTime<Utc>,
    ) -> Result<RunSummary, StoreError> {
        // The upload, as the queue shows it now, and the conflicts it settled.
        let settled = settled::take(store)?;
        let after: HashMap<i64, PendingChange> = store
            .read(|r| r.pending_changes(&PendingFilter::default()))?
            .into_iter()
            .map(|c| (c.seq, c))
            .collect();
        // An update whose change and record are both gone met a server delete and was
        // dropped by a server-wins policy.
        let dropped: Vec<bool> = store.read(|r| {
            let mut dropped = Vec::with_capacity(self.noted.len());
            for noted in &self.noted {
                let gone = !after.contains_key(&noted.seq)
                    && noted.op == ChangeOp::Update
                    && r.get_record(&noted.object, &noted.record_id)?.is_none();
                dropped.push(gone);
            }
            Ok(dropped)
        })?;
        let mut upload = UploadOutcome::default();
        let mut rows = Vec::new();
        for (noted, dropped) in self.noted.iter().zip(dropped) {
            let (action, detail) = match after.get(&noted.seq) {
                None if dropped && !settled.contains_key(&noted.seq) => {
                    upload.conflicts += 1;
                    (RecordAction::Conflict, Some(DROPPED.to_string()))
                }
                None => match settled.get(&noted.seq) {
                    Some(note) if note.edit_dropped => {
                        upload.conflicts += 1;
                        (RecordAction::Conflict, Some(note.detail.clone()))
                    }
                    Some(note) => {
                        upload.uploaded += 1;
                        upload.settled += 1;
                        (RecordAction::Conflict, Some(note.detail.clone()))
                    }
                    None => {
                        upload.uploaded += 1;
                        (RecordAction::Uploaded, None)
                    }
                },
                Some(c) if c.state == ChangeState::Failed => {
                    upload.failed += 1;
                    (RecordAction::Failed, c.error.as_ref().map(error_text))
                }
                Some(c) if c.state == ChangeState::Conflict => {
                    upload.conflicts += 1;
                    (RecordAction::Conflict, None)
                }
                Some(_) => continue,
            };
            rows.push(EventRecord {
                object: noted.object.clone(),
                record_id: noted.record_id.clone(),
                display_name: noted.name.clone(),
                action,
                detail,
            });
        }

        // The download, and how the run ended.
        let empty = BTreeMap::new();
        let (objects, outcome, reason) = match end {
            RunEnd::Completed(report) => {
                rows.extend(report.records.iter().map(download_row));
                let (outcome, reason) = if upload.failed + upload.conflicts > 0 {
                    (SyncOutcome::Partial, Some(partial_reason(&upload)))
                } else {
                    (SyncOutcome::Succeeded, None)
                };
                (&report.objects, outcome, reason)
            }
            RunEnd::Failed { reason, objects } => {
                (objects, SyncOutcome::Failed, Some(reason.to_string()))
            }
        };
        let objects = if objects.is_empty() { &empty } else { objects };
        let counts = serde_json::to_value(objects).unwrap_or(Value::Null);
        let upload_counts = serde_json::to_value(upload).unwrap_or(Value::Null);
        store.write(|tx| {
            tx.add_sync_event_records(self.event_id, &rows)?;
            tx.finish_sync_event(
                self.event_id,
                at,
                outcome,
                reason.as_deref(),
                &counts,
                &upload_counts,
            )
        })?;
        info!(
            event_id = self.event_id,
            kind = self.kind.as_str(),
            outcome = outcome.as_str(),
            uploaded = upload.uploaded,
            failed = upload.failed,
            conflicts = upload.conflicts,
            records = rows.len(),
            "sync recorded"
        );
        Ok(RunSummary { event_id: self.event_id, outcome, reason, upload })
    }
}

/// Closes events a previous run of the app left open (it stopped mid-sync) as failed.
pub fn close_unfinished(store: &Store, at: DateTime<Utc>) -> Result<usize, StoreError> {
    let open: Vec<i64> = store
        .read(|r| r.sync_events(20, None))?
        .into_iter()
        .filter(|e| e.ended_at.is_none())
        .map(|e| e.id)
        .collect();
    if open.is_empty() {
        return Ok(0);
    }
    store.write(|tx| {
        for id in &open {
            tx.finish_sync_event(
                *id,
                at,
                SyncOutcome::Failed,
                Some("the app stopped before this sync finished"),
                &Value::Object(Default::default()),
                &Value::Object(Default::default()),
            )?;
        }
        Ok(())
    })?;
    info!(events = open.len(), "unfinished sync events closed");
    Ok(open.len())
}

fn download_row(change: &RecordChange) -> EventRecord {
    let (action, detail) = match change.action {
        RecordChangeKind::New => (RecordAction::New, None),
        RecordChangeKind::Updated => (RecordAction::Updated, None),
        RecordChangeKind::Deleted => (RecordAction::Deleted, None),
        RecordChangeKind::LeftScope => (RecordAction::LeftScope, None),
        RecordChangeKind::EnteredScope => (RecordAction::EnteredScope, None),
        RecordChangeKind::KeptPending => (
            RecordAction::LeftScope,
            Some("kept on the device until its local changes are uploaded".to_string()),
        ),
    };
    EventRecord {
        object: change.object.clone(),
        record_id: change.id.clone(),
        display_name: change.name.clone(),
        action,
        detail,
    }
}

fn partial_reason(upload: &UploadOutcome) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if upload.failed > 0 {
        parts.push(plural(upload.failed, "change failed", "changes failed"));
    }
    if upload.conflicts > 0 {
        parts.push(plural(upload.conflicts, "conflict", "conflicts"));
    }
    parts.join(", ")
}

/// The server's error in a line: the first `message` (with its code) of an error array
/// or object, else the JSON text; cut to [`MAX_DETAIL_CHARS`].
fn error_text(error: &Value) -> String {
    let first = match error {
        Value::Array(items) => items.first().unwrap_or(error),
        _ => error,
    };
    let text = match (
        first.get("errorCode").and_then(Value::as_str),
        first.get("message").and_then(Value::as_str),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (None, Some(message)) => message.to_string(),
        _ => match first {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    };
    text.chars().take(MAX_DETAIL_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_text_reads_the_first_message() {
        let e = json!([{"errorCode": "REQUIRED_FIELD_MISSING", "message": "Subject missing"}]);
        assert_eq!(error_text(&e), "REQUIRED_FIELD_MISSING: Subject missing");
        assert_eq!(error_text(&json!({"message": "nope"})), "nope");
        assert_eq!(error_text(&json!("plain")), "plain");
        assert_eq!(error_text(&json!("x".repeat(1000))).len(), MAX_DETAIL_CHARS);
    }

    #[test]
    fn partial_reason_counts_failures_and_conflicts() {
        let u = UploadOutcome { uploaded: 3, failed: 1, conflicts: 2, settled: 0 };
        assert_eq!(partial_reason(&u), "1 change failed, 2 conflicts");
    }
}
