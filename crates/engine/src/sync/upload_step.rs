//! The upload step every sync runs before downloading, so that local edits reach the
//! server before its answers could overwrite them.

use salesforce::client::Client;
use serde::{Deserialize, Serialize};
use store::Store;

use super::{SyncError, SyncEvent};
use crate::clock::Clock;
use crate::profile::Profile;
use crate::upload::{UploadOptions, UploadReport, upload_with_progress};

/// What an upload did, as kept in sync history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadCounts {
    /// Changes the server accepted.
    pub uploaded: u64,
    /// Changes the server refused; they wait for a retry or a person.
    pub failed: u64,
    /// Changes that met a server change; merged by policy or parked for a person.
    pub conflicts: u64,
    /// Changes not sent this time: waiting for a parent's id, or after transient failures.
    pub waiting: u64,
}

impl From<&UploadReport> for UploadCounts {
    fn from(report: &UploadReport) -> UploadCounts {
        UploadCounts {
            uploaded: u64::from(report.succeeded),
            failed: report.failed.len() as u64,
            conflicts: report.conflicts.len() as u64,
            waiting: (report.blocked.len() + report.deferred.len()) as u64,
        }
    }
}

/// Uploads the store's pending changes under `profile`'s conflict policies, reporting
/// [`SyncEvent::Uploaded`] after each batch when changes were waiting.
pub async fn upload_pending(
    client: &Client,
    store: &Store,
    profile: &Profile,
    clock: &dyn Clock,
    options: &UploadOptions,
    progress: &mut (dyn FnMut(SyncEvent) + Send),
) -> Result<UploadCounts, SyncError> {
    let total: u64 = store.read(|r| r.pending_counts())?.iter().map(|(_, n)| n).sum();
    let mut on_batch = |done: u64| {
        progress(SyncEvent::Uploaded { done: done.min(total), total });
    };
    let report =
        upload_with_progress(client, store, profile, clock, options, &mut on_batch).await?;
    Ok(UploadCounts::from(&report))
}
