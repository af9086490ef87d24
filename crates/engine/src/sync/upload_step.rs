//! The upload step every sync runs before downloading, so that local edits reach the
//! server before its answers could overwrite them.

use salesforce::client::Client;
use serde::{Deserialize, Serialize};
use store::Store;

use super::SyncError;
use crate::clock::Clock;
use crate::profile::Profile;

/// What an upload did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadCounts {
    /// Changes the server accepted.
    pub uploaded: u64,
    /// Changes that failed and wait for a retry or a person.
    pub failed: u64,
    /// Changes that met a server change and became conflicts.
    pub conflicts: u64,
}

/// Uploads the store's pending changes under `profile`'s conflict policies.
pub async fn upload_pending(
    _client: &Client,
    _store: &Store,
    _profile: &Profile,
    _clock: &dyn Clock,
) -> Result<UploadCounts, SyncError> {
    // FIXME: upload not wired yet; pending changes stay queued in the store (and protected
    // from downloads) until the upload module fills this step.
    Ok(UploadCounts::default())
}
