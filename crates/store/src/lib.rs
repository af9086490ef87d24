//! The device's local store: one encrypted SQLite file (SQLCipher) that is the single
//! source of truth for records, local changes, sync cursors, history, schedule and session.
//!
//! # Using it
//!
//! [`Store::open`] with a [`StoreKey`] (raw 32 bytes, given to SQLCipher as `x'..'`, so no
//! key derivation runs; [`StoreKey::load_or_create`] keeps it in a 0600 key file; pages
//! are authenticated with HMAC-SHA256, see `cipher.rs`). Take
//! [`Store::lock_exclusive`] on the data directory first so one app runs per store: it is
//! an OS file lock (`flock`/`LockFileEx` through `std::fs::File::try_lock`), released by
//! the OS when the process dies, so it never goes stale.
//!
//! [`Store::ensure_object`] registers each synced object. All writes go through
//! [`Store::write`], whose closure gets a [`WriteTx`] over one SQLite transaction: records,
//! pending changes, cursors and history written in it commit together or not at all.
//! Reads go through [`Store::read`] (a [`Reader`] on a pooled read-only connection: in WAL
//! mode it never waits for a sync's write and sees the last commit) or [`WriteTx::read`]
//! (inside the transaction). [`Store::query`] runs SOQL offline through `soql::compile`
//! and answers its first page; [`Store::query_more`] reads the next from the page's
//! `nextRecordsUrl`;
//! [`ObjectCatalog`] is the `soql::schema::Catalog` it compiles against. `Store` is
//! `Send + Sync`; do not call `write` from inside a `write` closure (it would wait forever).
//!
//! # Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use serde_json::json;
//! use soql::schema::{FieldSchema, FieldType, ObjectSchema};
//! use store::{ChangeOp, Store, StoreKey};
//!
//! let dir = tempfile::tempdir()?;
//! let key = StoreKey::load_or_create(&dir.path().join("store.key"))?;
//! let _lock = Store::lock_exclusive(dir.path())?;
//! let store = Store::open(&dir.path().join("store.db"), &key)?;
//!
//! let field = |name: &str, field_type| FieldSchema {
//!     name: name.into(),
//!     field_type,
//!     reference_to: vec![],
//!     relationship_name: None,
//! };
//! store.ensure_object(
//!     &ObjectSchema {
//!         name: "Account".into(),
//!         fields: vec![field("Id", FieldType::Id), field("Name", FieldType::String)],
//!         child_relationships: vec![],
//!         name_field: None,
//!     },
//!     &[],
//! )?;
//!
//! let now = Utc.with_ymd_and_hms(2024, 5, 8, 12, 0, 0).unwrap();
//! let record = json!({"Id": "001000000000001AAA", "Name": "Acme"});
//! store.write(|tx| tx.upsert_records("Account", &[record.as_object().unwrap().clone()]))?;
//! let edit = json!({"Name": "Acme Ltd"});
//! store.write(|tx| {
//!     tx.record_edit("Account", Some("001000000000001AAA"), ChangeOp::Update, edit.as_object().unwrap(), now)
//! })?;
//!
//! let result = store.query("SELECT Name FROM Account", now)?;
//! assert_eq!(result["records"][0]["Name"], "Acme Ltd");
//! let queued = store.read(|r| r.pending_changes(&Default::default()))?;
//! assert_eq!(queued[0].base["Name"], "Acme");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Tables
//!
//! - One table per object, laid out by the storage convention in `soql::schema` (named like
//!   the object, one column per field, `Id` the primary key), plus the bookkeeping columns
//!   in [`objects::BOOKKEEPING_COLUMNS`]: `_local_only`, `_pending`, `_deleted`,
//!   `_scope_left`, `_scope_flags`. Indexes: every reference field and the filter fields
//!   given to `ensure_object` (not `SystemModstamp` unless a filter names it: the device
//!   never reads by stamp, and each changed record would move its entry).
//! - `_objects(name, schema, indexed_fields)`: each object's schema as describe-shaped JSON;
//!   the catalog is loaded from it at open, so offline queries work after a restart.
//! - `_pending_changes(seq, object, record_id, op, fields, base, state, error, attempts,
//!   external_id_value, change_count, uploaded_count, inflight, server_values, created_at,
//!   updated_at)`: the upload queue (see [`pending`] for the coalescing rules).
//! - `_sync_cursors(object, modstamp, last_id, replication_latest, prime_state, last_sync_at)`.
//! - `_sync_events`, `_sync_event_records`: sync history (see [`history`] for retention).
//! - `_sync_schedule(object, interval_secs, last_sync_at, next_due_at)`.
//! - `_kv(key, value)`: settings and the session (tokens), as JSON; nowhere else on disk.
//!
//! # Invariants
//!
//! - A record's row holds what the user sees: the server's values with local edits applied.
//! - A record has at most one queue entry (unique on `object, record_id`), and `_pending = 1`
//!   exactly while it has one.
//! - A download never overwrites a pending field and never removes a pending record: the
//!   field keeps its local value (the server value is kept in the change's
//!   `server_values`), and a removed record is flagged `_scope_left = 1`; once its change
//!   completes or is discarded, the row goes. A downloaded value equal to the local one
//!   settles that field: a change holds only what the server does not have yet.
//! - A locally deleted record keeps its row with `_deleted = 1` until the delete is
//!   uploaded, so discarding the delete restores it; the catalog's row filter hides such
//!   rows from offline queries and `get_record` does not return them.
//! - Local ids are [`pending::LOCAL_ID_PREFIX`] (`local-`) plus 12 random ASCII
//!   alphanumerics; the `-` means they never parse as 15/18-character server ids.
//!   [`WriteTx::remap_id`] replaces one everywhere in one transaction.
//! - Completing an upload removes its change only if no edit arrived while it was in
//!   flight (`change_count` versus `uploaded_count`); otherwise the rest stays queued.
//! - A cursor is written only inside a write transaction, with the rows it covers.
//! - Times are always passed in by the caller; the store never reads the clock. Datetimes
//!   are stored as `YYYY-MM-DDTHH:MM:SS.sss+0000` (UTC), so text order is time order.
//! - The schema version is `PRAGMA user_version`; [`migrate`] steps bring older files up.
//!   Object tables only ever gain columns; a field whose type changes keeps its column's
//!   original affinity.
//! - Nothing here logs field values or tokens.

mod cipher;
pub mod cursor;
mod db;
mod error;
pub mod history;
mod key;
pub mod kv;
mod links;
mod lock;
mod membership;
pub mod migrate;
pub mod objects;
pub mod pending;
mod query;
pub mod records;
pub mod schedule;
mod tx;
mod upsert;
pub mod values;

pub use cipher::key_connection;
pub use cursor::SyncCursor;
pub use db::{BUSY_TIMEOUT, Store};
pub use error::StoreError;
pub use history::{EventRecord, RecordAction, SyncEvent, SyncKind, SyncOutcome};
pub use key::StoreKey;
pub use lock::{InstanceLock, LOCK_FILE_NAME};
pub use objects::ObjectCatalog;
pub use pending::{ChangeOp, ChangeState, EditOutcome, PendingChange, PendingFilter, Resolution};
pub use query::{BATCH_SIZES, DEFAULT_BATCH_SIZE};
pub use records::{
    IdRangeChecksum, MergedRecord, Record, RecordFlags, RemoveOutcome, UpsertOutcome,
};
pub use schedule::ScheduleEntry;
pub use tx::{Reader, WriteTx};
