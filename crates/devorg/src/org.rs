//! The shared state of a running org: database, schema, sharing settings, clock, API usage.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};

use rusqlite::Connection;

use crate::Config;
use crate::clock::Clock;
use crate::db::Principal;
use crate::planner_stats::{OrgConnection, PlannerStats};
use crate::schema::{Schema, Sharing};

/// Daily API request accounting.
#[derive(Debug, Default)]
pub struct ApiUsage {
    pub day: Option<chrono::NaiveDate>,
    pub used: u64,
}

/// Everything a request handler needs.
#[derive(Debug)]
pub struct Org {
    db: Mutex<Connection>,
    pub schema: Schema,
    sharing: RwLock<HashMap<String, Sharing>>,
    pub clock: Clock,
    pub config: Config,
    /// The 18-character organization id.
    pub org_id: String,
    usage: Mutex<ApiUsage>,
    pub cursors: crate::query_cursor::CursorStore,
    /// Write transactions begun but not committed (late commits).
    pub open_transactions: crate::txn_hold::OpenTransactions,
    /// Faults injected into requests.
    pub faults: crate::faults::Faults,
    /// When the planner's statistics were last refreshed.
    pub planner_stats: PlannerStats,
}

impl Org {
    pub fn new(
        conn: Connection,
        schema: Schema,
        clock: Clock,
        config: Config,
        org_id: String,
    ) -> Org {
        // Defaults from the schema, then any the org was told to change.
        let sharing = schema
            .objects()
            .iter()
            .map(|o| {
                let key = o.name.to_ascii_lowercase();
                let saved = crate::db::meta(&conn, &format!("sharing:{key}"))
                    .ok()
                    .flatten()
                    .and_then(|s| Sharing::parse(&s));
                (key, saved.unwrap_or_else(|| o.sharing.clone()))
            })
            .collect();
        let planner_stats = PlannerStats::new(config.optimize_every_changes);
        Org {
            db: Mutex::new(conn),
            schema,
            sharing: RwLock::new(sharing),
            clock,
            config,
            org_id,
            usage: Mutex::new(ApiUsage::default()),
            cursors: crate::query_cursor::CursorStore::default(),
            open_transactions: Default::default(),
            faults: Default::default(),
            planner_stats,
        }
    }

    /// The database connection, locked for the caller. Every request holds it for the
    /// whole of its work, so a request's writes are one transaction; letting it go may
    /// refresh the planner's statistics ([`crate::planner_stats`]).
    pub fn db(&self) -> OrgConnection<'_> {
        OrgConnection::new(
            self.db.lock().unwrap_or_else(PoisonError::into_inner),
            &self.planner_stats,
        )
    }

    /// The 15-character org id that starts every access token.
    pub fn org_id15(&self) -> &str {
        &self.org_id[..15]
    }

    /// The sharing model currently in force for an object.
    pub fn sharing_of(&self, object: &str) -> Sharing {
        self.sharing
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&object.to_ascii_lowercase())
            .cloned()
            .unwrap_or(Sharing::ReadWrite)
    }

    /// Changes an object's org-wide default; persistent orgs keep it across restarts.
    pub fn set_sharing(&self, object: &str, sharing: Sharing) -> rusqlite::Result<()> {
        crate::db::set_meta(
            &self.db(),
            &format!("sharing:{}", object.to_ascii_lowercase()),
            &sharing.to_string(),
        )?;
        self.sharing
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(object.to_ascii_lowercase(), sharing);
        Ok(())
    }

    /// Counts one API request; `Err` when today's quota is already used up.
    pub fn count_request(&self) -> Result<u64, u64> {
        let today = self.clock.now().date_naive();
        let mut usage = self.usage.lock().unwrap_or_else(PoisonError::into_inner);
        if usage.day != Some(today) {
            usage.day = Some(today);
            usage.used = 0;
        }
        if usage.used >= self.config.api_daily_limit {
            return Err(usage.used);
        }
        usage.used += 1;
        Ok(usage.used)
    }

    /// Requests counted today.
    pub fn requests_used(&self) -> u64 {
        let today = self.clock.now().date_naive();
        let usage = self.usage.lock().unwrap_or_else(PoisonError::into_inner);
        if usage.day == Some(today) { usage.used } else { 0 }
    }

    /// Sharing checks for one user.
    pub fn access<'a>(&'a self, user: &'a Principal) -> crate::sharing::Access<'a> {
        crate::sharing::Access::new(self, user)
    }
}
