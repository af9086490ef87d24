//! Keeps the query planner's statistics current while an org runs.
//!
//! A seed ends with a full `ANALYZE` ([`crate::db::analyze`]), but records created over
//! HTTP afterwards are never counted again unless something asks. So the org asks SQLite
//! to refresh what has drifted (`PRAGMA optimize`, which analyzes only tables that were
//! never analyzed or whose size changed tenfold, each with a bounded sample): when it
//! opens (checking every table), after every [`crate::Config::optimize_every_changes`]
//! rows written, and when it shuts down.

use std::ops::Deref;
use std::sync::MutexGuard;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;

/// Rows written between two refreshes, by default.
pub const OPTIMIZE_EVERY_CHANGES: u64 = 1000;

/// When the statistics were last refreshed, and how often they have been.
#[derive(Debug)]
pub struct PlannerStats {
    every_changes: u64,
    /// The connection's `total_changes()` when the last refresh ran.
    changes_at_last: AtomicU64,
    runs: AtomicU64,
}

impl PlannerStats {
    pub fn new(every_changes: u64) -> PlannerStats {
        PlannerStats {
            every_changes: every_changes.max(1),
            changes_at_last: AtomicU64::new(0),
            runs: AtomicU64::new(0),
        }
    }

    /// Refreshes the statistics when enough rows were written since the last refresh and
    /// no transaction is open.
    fn after_use(&self, conn: &Connection) {
        let written =
            conn.total_changes().saturating_sub(self.changes_at_last.load(Ordering::Relaxed));
        if written >= self.every_changes && conn.is_autocommit() {
            self.optimize(conn, "PRAGMA optimize");
        }
    }

    /// Refreshes the statistics of every table whose size drifted, whether or not this
    /// connection has queried it (when the org opens a database).
    pub fn optimize_all(&self, conn: &Connection) {
        self.optimize(conn, "PRAGMA optimize = 0x10002");
    }

    /// Refreshes the statistics of the tables that need it.
    pub fn optimize_now(&self, conn: &Connection) {
        self.optimize(conn, "PRAGMA optimize");
    }

    fn optimize(&self, conn: &Connection, pragma: &str) {
        match conn.execute_batch(pragma) {
            Ok(()) => {
                self.runs.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("planner statistics refreshed");
            }
            // Stale statistics make plans slower, never answers wrong: serving goes on.
            Err(e) => tracing::warn!(error = %e, "refreshing planner statistics failed"),
        }
        self.changes_at_last.store(conn.total_changes(), Ordering::Relaxed);
    }

    /// How many times the statistics were refreshed since the org started.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }
}

/// The org's connection, locked for one caller; when the caller is done with it, the
/// statistics are refreshed if enough was written.
#[derive(Debug)]
pub struct OrgConnection<'a> {
    conn: MutexGuard<'a, Connection>,
    stats: &'a PlannerStats,
}

impl<'a> OrgConnection<'a> {
    pub fn new(conn: MutexGuard<'a, Connection>, stats: &'a PlannerStats) -> OrgConnection<'a> {
        OrgConnection { conn, stats }
    }
}

impl Deref for OrgConnection<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for OrgConnection<'_> {
    fn drop(&mut self) {
        self.stats.after_use(&self.conn);
    }
}
