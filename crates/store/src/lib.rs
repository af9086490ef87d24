//! The device's local store: one encrypted SQLite file (SQLCipher) that is the single
//! source of truth for records, local changes, sync cursors, history, schedule and session.
//!
//! # Using it
//!
//! [`Store::open`] with a [`StoreKey`]; [`Store::ensure_object`] for each synced object;
//! then all writes go through [`Store::write`], whose closure gets a [`WriteTx`] over one
//! SQLite transaction, and reads through [`Store::read`] (a [`Reader`] on its own
//! connection, so reads never wait for a sync's write).
//!
//! # Tables
//!
//! - One table per object, laid out by the storage convention in `soql::schema` (named like
//!   the object, one column per field, `Id` the primary key), plus the bookkeeping columns
//!   in [`objects::BOOKKEEPING_COLUMNS`]: `_local_only`, `_pending`, `_deleted`,
//!   `_scope_left`, `_scope_flags`.
//! - `_objects(name, schema, indexed_fields)`: each object's schema as describe-shaped JSON;
//!   the catalog offline queries use is loaded from it at open.
//! - `_pending_changes`: the upload queue (see [`pending`]).
//! - `_sync_cursors(object, modstamp, last_id, replication_latest, prime_state, last_sync_at)`.
//! - `_sync_events`, `_sync_event_records`: sync history.
//! - `_sync_schedule(object, interval_secs, last_sync_at, next_due_at)`.
//! - `_kv(key, value)`: settings and the session, as JSON.
//!
//! # Invariants
//!
//! - A record's row holds what the user sees: the server's values with local edits applied.
//! - A record has at most one queue entry (unique on `object, record_id`), and `_pending = 1`
//!   exactly while it has one.
//! - A download never overwrites a pending field and never removes a pending record: the
//!   field keeps its local value (the server value is kept with the change), and a removed
//!   record is flagged `_scope_left = 1`.
//! - A locally deleted record keeps its row with `_deleted = 1` until the delete is
//!   uploaded; the catalog's row filter hides such rows from offline queries.
//! - Local ids start with [`pending::LOCAL_ID_PREFIX`] and can never parse as server ids.
//! - A cursor is written only inside a write transaction, with the rows it covers.
//! - Times are always passed in by the caller; the store never reads the clock. Datetimes
//!   are stored as `YYYY-MM-DDTHH:MM:SS.sss+0000` (UTC), so text order is time order.
//! - The schema version is `PRAGMA user_version`; [`migrate`] steps bring older files up.

pub mod cursor;
mod db;
mod error;
mod key;
pub mod kv;
mod lock;
pub mod migrate;
pub mod objects;
pub mod pending;
pub mod records;
mod tx;
pub mod values;

pub use cursor::SyncCursor;
pub use db::{BUSY_TIMEOUT, Store};
pub use error::StoreError;
pub use key::StoreKey;
pub use lock::{InstanceLock, LOCK_FILE_NAME};
pub use objects::ObjectCatalog;
pub use pending::{ChangeOp, ChangeState, EditOutcome, PendingChange, PendingFilter, Resolution};
pub use records::{
    IdRangeChecksum, MergedRecord, Record, RecordFlags, RemoveOutcome, UpsertOutcome,
};
pub use tx::{Reader, WriteTx};
