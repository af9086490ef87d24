//! Download: priming (the first full read of each object), delta sync (what changed since
//! the last one), and reconciliation (comparing id sets when the change log cannot be
//! trusted). Decisions live in [`decide`] and [`batch`] as pure functions; the other
//! modules fetch and store. A delta run sends every due object's first reads ahead in
//! Composite calls ([`prefetch`]), so an idle delta costs one round trip, not three per
//! object.

pub mod batch;
mod cap;
pub mod decide;
pub(crate) mod delta;
pub(crate) mod evaluate;
mod lookahead;
pub(crate) mod prefetch;
pub(crate) mod prime;
mod reconcile;
pub(crate) mod remote;
pub mod upload_step;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub(crate) use delta::delta_object;
pub(crate) use evaluate::LinkNotes;
pub(crate) use prime::prime_object;
pub(crate) use reconcile::{ReconcileMode, reconcile_object};

/// Tuning of download runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOptions {
    /// How far back each delta re-reads before its cursor.
    pub overlap: Duration,
    /// Records per query page (the server keeps it within 200..=2000).
    pub page_size: u32,
    /// Use the replication API (`updated`, `deleted`) where the org offers it. Off, every
    /// object syncs as one without a log does: changes by `SystemModstamp`, deletions by
    /// id reconciliation. For servers that do not serve the replication resources.
    pub replication_log: bool,
}

impl Default for SyncOptions {
    fn default() -> SyncOptions {
        SyncOptions {
            overlap: decide::DEFAULT_OVERLAP,
            page_size: decide::PAGE_SIZE,
            replication_log: true,
        }
    }
}

/// What every download step works with.
pub(crate) struct Ctx<'a> {
    pub client: &'a salesforce::client::Client,
    pub store: &'a store::Store,
    pub plan: &'a crate::scope::ScopePlan,
    pub clock: &'a dyn crate::clock::Clock,
    pub options: SyncOptions,
    /// Objects the org keeps no replication log for: `replicateable: false` in describe,
    /// or whose replication resources answered `NOT_FOUND`.
    pub without_log: &'a std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Set once the org answered a Composite call as a resource it does not serve: reads
    /// then go directly.
    pub composite_off: &'a std::sync::atomic::AtomicBool,
}

impl Ctx<'_> {
    fn without_log(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<String>> {
        // The set is only ever extended, so a poisoned lock still holds a usable set.
        self.without_log.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the replication API (`updated`, `deleted`) serves `object`.
    pub fn has_log(&self, object: &str) -> bool {
        self.options.replication_log && !self.without_log().contains(object)
    }

    /// Handles a replication API failure: `NOT_FOUND` means the server keeps no log for
    /// `object`, which from now on syncs without one (`Ok(())`); anything else is an error.
    pub fn no_log_or(&self, object: &str, e: salesforce::client::Error) -> Result<(), SyncError> {
        if e.error_code() == Some("NOT_FOUND") {
            tracing::info!(object, "no replication log; syncing by stamps");
            self.without_log().insert(object.to_string());
            Ok(())
        } else {
            Err(e.into())
        }
    }
}

/// What a sync run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SyncKind {
    /// Prime the objects not primed yet (resuming an interrupted priming); nothing else.
    Prime,
    /// Upload pending changes, then download what changed since the last run.
    Delta,
    /// Upload, then compare every object's id set with the server's: catches records that
    /// left scope without changing (relative date filters moving on) and anything the
    /// change log missed. Costs in proportion to the store, not to the changes.
    Full,
}

/// Progress of a sync or priming run, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEvent {
    /// The upload step answered another batch: `done` of the `total` changes that were
    /// waiting when it started have been sent (or settled).
    Uploaded {
        /// Changes sent so far.
        done: u64,
        /// Changes waiting when the upload started.
        total: u64,
    },
    /// Work on an object started; `total` is the exact count when known.
    ObjectStarted {
        /// The object.
        object: String,
        /// Records to read, when known beforehand.
        total: Option<u64>,
    },
    /// Records of an object were stored.
    Progress {
        /// The object.
        object: String,
        /// Records stored so far in this run.
        done: u64,
        /// Records to read, when known.
        total: Option<u64>,
    },
    /// Work on an object finished.
    ObjectFinished {
        /// The object.
        object: String,
        /// What changed.
        counts: ObjectCounts,
    },
}

/// What a run changed in one object's local copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCounts {
    /// Records stored for the first time because they were created or changed into scope.
    pub new: u64,
    /// Stored records that changed on the server.
    pub updated: u64,
    /// Stored records deleted on the server.
    pub deleted: u64,
    /// Stored records removed because no scope rule brings them in any more.
    pub left_scope: u64,
    /// Records stored because a related record brought them into scope.
    pub entered_scope: u64,
    /// Records that should have left but have pending local changes, so stay flagged.
    pub kept_pending: u64,
    /// Records in scope that were not stored because the object held its profile's
    /// `max_records` already (see [`crate::profile`] for when they are fetched later).
    #[serde(default)]
    pub over_limit: u64,
}

impl ObjectCounts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &ObjectCounts) {
        self.new += other.new;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.left_scope += other.left_scope;
        self.entered_scope += other.entered_scope;
        self.kept_pending += other.kept_pending;
        self.over_limit += other.over_limit;
    }
}

/// The outcome of a run, kept for history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// What ran.
    pub kind: SyncKind,
    /// When it started, by the engine's clock.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// What the upload step did.
    pub upload: upload_step::UploadCounts,
    /// Per object, what the download did.
    pub objects: BTreeMap<String, ObjectCounts>,
    /// The records the download stored or removed, at most [`MAX_REPORT_RECORDS`] per
    /// object (the counts stay exact beyond that).
    #[serde(default)]
    pub records: Vec<RecordChange>,
}

/// Records listed per object in a [`SyncReport`].
pub const MAX_REPORT_RECORDS: usize = 5000;

/// What a run did to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecordChangeKind {
    /// Stored for the first time.
    New,
    /// Stored again with the server's changes.
    Updated,
    /// Removed because the server deleted it.
    Deleted,
    /// Removed because no scope rule brings it in any more.
    LeftScope,
    /// Stored because a related record brought it into scope.
    EnteredScope,
    /// Should have left, but stays flagged for its pending changes.
    KeptPending,
}

/// One record a run stored or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordChange {
    /// The object.
    pub object: String,
    /// The record id.
    pub id: String,
    /// Its display name as the run saw it (see [`crate::history::display_name`]).
    pub name: Option<String>,
    /// What happened to it.
    pub action: RecordChangeKind,
}

/// Why a sync step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// Occurs when the org refuses or fails a call; see
    /// [`salesforce::client::Error::is_transient`] for whether a retry can help.
    #[error("salesforce: {0}")]
    Remote(#[from] salesforce::client::Error),
    /// Occurs when the local store fails; transient when SQLite was busy.
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    /// Occurs when the upload step could not go on (store failure, session refused).
    #[error("{0}")]
    Upload(#[from] crate::upload::UploadError),
    /// Occurs when the profile does not validate against the org's objects.
    #[error("{0}")]
    Profile(#[from] crate::profile::ProfileErrors),
    /// Occurs when the profile cannot be planned.
    #[error("{0}")]
    Scope(#[from] crate::scope::ScopeError),
    /// Occurs when the server sends a record without a readable `Id` or `SystemModstamp`.
    #[error("{object}: record from the server {reason}")]
    BadRecord {
        /// The object.
        object: String,
        /// What is missing or malformed.
        reason: String,
    },
    /// Occurs when the task reading query pages ahead stopped before the last page (it
    /// panicked, or the runtime is shutting down); a later run resumes from what the store
    /// committed.
    #[error("the query page reader stopped before the last page")]
    PageReaderStopped,
    /// Occurs when the session has no user id, so `:user` cannot be bound.
    #[error("the session does not say which user is logged in")]
    NoUser,
}

impl SyncError {
    /// Whether running the same step again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Remote(e) => e.is_transient(),
            SyncError::Store(e) => e.is_transient(),
            SyncError::Upload(e) => e.is_transient(),
            SyncError::PageReaderStopped => true,
            _ => false,
        }
    }
}
