//! Schema migrations of the store's own tables, numbered and driven by `PRAGMA user_version`.
//!
//! Step `n` (1-based) moves a database from version `n - 1` to `n`; each step runs in its own
//! transaction together with the version bump, so a crash leaves a whole version behind.
//! Object tables are not migrated here: [`crate::Store::ensure_object`] adds their columns.

use rusqlite::Connection;

use crate::StoreError;

/// The migration steps, oldest first. Never edit a released step; add a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: object catalog, pending changes, sync cursors, key-value settings.
    r#"
    CREATE TABLE _objects (
        name TEXT PRIMARY KEY NOT NULL,
        schema TEXT NOT NULL,
        indexed_fields TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE _pending_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        object TEXT NOT NULL,
        record_id TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
        fields TEXT NOT NULL DEFAULT '{}',
        base TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL DEFAULT 'waiting'
            CHECK (state IN ('waiting', 'uploading', 'failed', 'conflict', 'blocked')),
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        external_id_value TEXT,
        change_count INTEGER NOT NULL DEFAULT 1,
        uploaded_count INTEGER,
        inflight TEXT,
        server_values TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX _pending_changes_record ON _pending_changes (object, record_id);
    CREATE INDEX _pending_changes_state ON _pending_changes (state, seq);
    CREATE TABLE _sync_cursors (
        object TEXT PRIMARY KEY NOT NULL,
        modstamp TEXT,
        last_id TEXT,
        replication_latest TEXT,
        prime_state TEXT,
        last_sync_at TEXT
    );
    CREATE TABLE _kv (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    );
    "#,
    // 2: sync history.
    r#"
    CREATE TABLE _sync_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('initial', 'user', 'scheduled', 'automatic')),
        started_at TEXT NOT NULL,
        ended_at TEXT,
        outcome TEXT CHECK (outcome IN ('succeeded', 'partial', 'failed')),
        reason TEXT,
        counts TEXT NOT NULL DEFAULT '{}',
        upload_counts TEXT NOT NULL DEFAULT '{}',
        detail_rows INTEGER NOT NULL DEFAULT 0,
        truncated INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX _sync_events_started ON _sync_events (started_at);
    CREATE TABLE _sync_event_records (
        event_id INTEGER NOT NULL REFERENCES _sync_events (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        object TEXT NOT NULL,
        record_id TEXT NOT NULL,
        display_name TEXT,
        action TEXT NOT NULL,
        detail TEXT,
        PRIMARY KEY (event_id, seq)
    );
    "#,
    // 3: per-object sync schedule.
    r#"
    CREATE TABLE _sync_schedule (
        object TEXT PRIMARY KEY NOT NULL,
        interval_secs INTEGER NOT NULL,
        last_sync_at TEXT,
        next_due_at TEXT
    );
    "#,
];

/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to version `target`, running the missing steps in order.
pub(crate) fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found: current, supported: SCHEMA_VERSION });
    }
    for version in current + 1..=target.min(SCHEMA_VERSION) {
        let step = MIGRATIONS[(version - 1) as usize];
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(step)?;
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
        tx.commit()?;
        tracing::info!(version, "store schema migrated");
    }
    Ok(())
}
