//! Why an upload run stopped before it went through the queue.

use store::StoreError;

/// An upload that could not go on. Failures of single records are not errors: they are
/// recorded on their changes and listed in the [`crate::upload::UploadReport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// Occurs when the local store cannot be read or written. Changes already marked
    /// `uploading` stay so and are checked against the server by the next run; a retry
    /// helps when [`StoreError::is_transient`] says so.
    #[error("upload: local store: {0}")]
    Store(#[from] StoreError),
    /// Occurs when the org refuses the session (expired and not refreshable, login
    /// refused) or the client is misconfigured: every further request would fail the same
    /// way. The batch in flight went back to waiting; log in again, then retry.
    #[error("upload: the org refused the session: {0}")]
    Session(#[source] salesforce::Error),
}

impl UploadError {
    /// Whether running the upload again later, unchanged, can succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            UploadError::Store(e) => e.is_transient(),
            UploadError::Session(_) => false,
        }
    }
}
