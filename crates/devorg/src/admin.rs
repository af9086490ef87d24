//! Server-side handles on a running org: edit data as any user, change org-wide sharing
//! defaults, purge the recycle bin, expire tokens, add users.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use salesforce::SfId;
use serde_json::Value;

use crate::clock::format_datetime;
use crate::db::{self, DELETED_DATE, Principal};
use crate::error::ApiError;
use crate::http::LATEST_VERSION;
use crate::org::Org;
use crate::records::{self, Ctx};
use crate::schema::Sharing;

/// Administrative access to a running org.
#[derive(Debug, Clone)]
pub struct Admin {
    pub(crate) org: Arc<Org>,
}

fn api_failure(e: rusqlite::Error) -> ApiError {
    ApiError::internal(&e)
}

impl Admin {
    pub(crate) fn new(org: Arc<Org>) -> Admin {
        Admin { org }
    }

    /// The id of the user with this username.
    pub fn user_id(&self, username: &str) -> Option<String> {
        db::find_user(&self.org.db(), username).ok().flatten().map(|(id, _)| id)
    }

    /// Refreshes the query planner's statistics after a bulk load, so that a query with a
    /// selective `SystemModstamp` range (every delta sync's) reads the stamp index instead
    /// of a lookup index that matches a whole technician's records.
    pub fn analyze(&self) -> Result<(), ApiError> {
        crate::db::analyze(&self.org.db()).map_err(|e| ApiError::internal(&e))
    }

    /// How many times the planner's statistics were refreshed (`PRAGMA optimize`) since
    /// the org started ([`crate::planner_stats`]).
    pub fn planner_stats_refreshes(&self) -> u64 {
        self.org.planner_stats.runs()
    }

    /// Runs `f` on the database (for tools that seed or inspect data directly).
    pub fn with_db<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.org.db())
    }

    fn as_user<T>(
        &self,
        username: &str,
        f: impl FnOnce(&Ctx<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let conn = self.org.db();
        let user_id = db::find_user(&conn, username)
            .map_err(api_failure)?
            .map(|(id, _)| id)
            .ok_or_else(ApiError::invalid_session)?;
        let principal: Principal = db::load_principal(&conn, &user_id)
            .map_err(api_failure)?
            .ok_or_else(ApiError::invalid_session)?;
        let tx = conn.unchecked_transaction()?;
        let version = format!("{LATEST_VERSION}.0");
        let ctx = Ctx {
            conn: &tx,
            org: &self.org,
            access: self.org.access(&principal),
            now: self.org.clock.now(),
            version: &version,
        };
        let out = f(&ctx)?;
        tx.commit()?;
        Ok(out)
    }

    fn object_map(body: Value) -> Result<serde_json::Map<String, Value>, ApiError> {
        match body {
            Value::Object(m) => Ok(m),
            _ => Err(ApiError::bad_request("JSON_PARSER_ERROR", "record must be a JSON object")),
        }
    }

    /// Creates a record as `username`, with that user's sharing; returns the id.
    pub fn create(&self, username: &str, object: &str, record: Value) -> Result<String, ApiError> {
        let body = Self::object_map(record)?;
        self.as_user(username, |ctx| {
            let obj = ctx.object(object)?;
            records::create(ctx, obj, &body).map(|id| id.to_string())
        })
    }

    /// Updates a record as `username`.
    pub fn update(
        &self,
        username: &str,
        object: &str,
        id: &str,
        record: Value,
    ) -> Result<(), ApiError> {
        let body = Self::object_map(record)?;
        self.as_user(username, |ctx| {
            let obj = ctx.object(object)?;
            let id = records::parse_id(obj, id)?;
            records::update(ctx, obj, &id, &body)
        })
    }

    /// Deletes a record as `username`.
    pub fn delete(&self, username: &str, object: &str, id: &str) -> Result<(), ApiError> {
        self.as_user(username, |ctx| {
            let obj = ctx.object(object)?;
            let id = records::parse_id(obj, id)?;
            records::delete(ctx, obj, &id)
        })
    }

    /// Reads a record as `username` (all fields).
    pub fn retrieve(&self, username: &str, object: &str, id: &str) -> Result<Value, ApiError> {
        self.as_user(username, |ctx| {
            let obj = ctx.object(object)?;
            let id = records::parse_id(obj, id)?;
            records::retrieve(ctx, obj, &id, None).map(|(_, json)| Value::Object(json))
        })
    }

    /// Changes an object's org-wide default (kept across restarts of a persistent org).
    pub fn set_sharing(&self, object: &str, sharing: Sharing) -> Result<(), ApiError> {
        Ok(self.org.set_sharing(object, sharing)?)
    }

    /// Permanently removes deleted records that left the recycle bin before `cutoff`
    /// (all deleted records when `None`); returns how many rows went.
    pub fn purge_recycle_bin(&self, cutoff: Option<DateTime<Utc>>) -> Result<usize, ApiError> {
        let conn = self.org.db();
        let cutoff = cutoff.map(format_datetime).unwrap_or_else(|| "9999".to_string());
        let mut n = 0;
        for obj in self.org.schema.objects() {
            n += conn.execute(
                &format!(
                    "DELETE FROM \"{}\" WHERE \"IsDeleted\" = 1 AND \"{DELETED_DATE}\" < ?1",
                    obj.name
                ),
                [&cutoff],
            )?;
        }
        let up_to = cutoff.min(format_datetime(self.org.clock.now()));
        crate::routes::replication::record_purge(&conn, &up_to)?;
        tracing::info!(rows = n, "recycle bin purged");
        Ok(n)
    }

    /// Purges what is older than the configured recycle-bin retention.
    pub fn purge_expired(&self) -> Result<usize, ApiError> {
        let days = i64::from(self.org.config.recycle_bin_days);
        self.purge_recycle_bin(Some(self.org.clock.now() - chrono::Duration::days(days)))
    }

    /// Expires every access token (of one user when `username` is given).
    pub fn expire_tokens(&self, username: Option<&str>) -> Result<usize, ApiError> {
        let conn = self.org.db();
        let n = match username {
            Some(u) => {
                let Some((id, _)) = db::find_user(&conn, u)? else { return Ok(0) };
                conn.execute(
                    "UPDATE _tokens SET expires_at = 0 WHERE kind = 'access' AND user_id = ?1",
                    [id],
                )?
            }
            None => conn.execute("UPDATE _tokens SET expires_at = 0 WHERE kind = 'access'", [])?,
        };
        Ok(n)
    }

    /// Adds an active user; returns the id.
    pub fn create_user(
        &self,
        username: &str,
        last_name: &str,
        password: &str,
        admin: bool,
    ) -> Result<String, ApiError> {
        let conn = self.org.db();
        let id = db::new_id(&conn, "005")?.to_string();
        let stamp = format_datetime(self.org.clock.now());
        conn.execute(
            "INSERT INTO \"User\" (\"Id\", \"Username\", \"LastName\", \"Name\", \"Email\", \"Alias\",
                \"IsActive\", \"TimeZoneSidKey\", \"UserType\", \"IsDeleted\", \"CreatedDate\",
                \"CreatedById\", \"LastModifiedDate\", \"LastModifiedById\", \"SystemModstamp\",
                \"_PasswordHash\", \"_Admin\")
             VALUES (?1, ?2, ?3, ?3, ?2, substr(?3, 1, 8), 1, 'GMT', 'Standard', 0, ?4, ?1, ?4, ?1, ?4, ?5, ?6)",
            rusqlite::params![id, username, last_name, stamp, crate::auth::hash_password(&id, password), admin],
        )?;
        Ok(id)
    }

    /// Whether a string is a well-formed id of this org's objects.
    pub fn is_record_id(&self, id: &str) -> bool {
        SfId::parse(id)
            .ok()
            .is_some_and(|i| self.org.schema.object_by_prefix(i.key_prefix()).is_some())
    }
}
