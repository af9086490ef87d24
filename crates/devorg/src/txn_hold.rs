//! Write transactions that stay open, the way a real org's long-running work does.
//!
//! A record's `SystemModstamp` is taken when its write transaction starts, yet the record
//! becomes visible only when the transaction commits. A client that remembers the newest
//! stamp it has read can therefore miss a record that commits later with an older stamp.
//! This module lets tests reproduce that on purpose:
//!
//! - [`Admin::begin_held_write`] stamps records now and writes them only when
//!   [`HeldWrite::commit`] is called;
//! - [`Admin::hold_writes`] makes every write request over HTTP take its stamp on arrival
//!   and commit only after a delay (a Composite call whose subrequests only read is not a
//!   write, so it is neither delayed nor counted as open);
//! - [`OpenTransactions`] tracks the start of every such open transaction, so the
//!   replication endpoints never report `latestDateCovered` past it.
//!
//! [`Admin::create_many`] writes many records in one transaction, all with one stamp.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::admin::Admin;
use crate::db::{self, Principal};
use crate::error::ApiError;
use crate::http::{AppState, LATEST_VERSION};
use crate::org::Org;
use crate::records::{self, Ctx};

tokio::task_local! {
    /// The stamp of the HTTP write being served, when it was taken on arrival.
    static REQUEST_STAMP: DateTime<Utc>;
}

/// The stamp the current request took on arrival, when writes are being held.
pub fn request_stamp() -> Option<DateTime<Utc>> {
    REQUEST_STAMP.try_with(|t| *t).ok()
}

/// The start instants of the write transactions that have not committed yet.
#[derive(Debug, Default)]
pub struct OpenTransactions {
    next_id: AtomicU64,
    open: Mutex<BTreeMap<u64, DateTime<Utc>>>,
    /// How long HTTP writes are held before they run; `None` runs them at once.
    http_hold: Mutex<Option<Duration>>,
}

impl OpenTransactions {
    /// Registers a transaction that started at `stamp`; returns its handle number.
    fn begin(&self, stamp: DateTime<Utc>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.open.lock().unwrap_or_else(PoisonError::into_inner).insert(id, stamp);
        id
    }

    /// Forgets a transaction (committed or rolled back).
    fn end(&self, id: u64) {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }

    /// The start of the oldest transaction still open.
    pub fn oldest_start(&self) -> Option<DateTime<Utc>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).values().min().copied()
    }

    /// How many transactions are open.
    pub fn count(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    fn http_hold(&self) -> Option<Duration> {
        *self.http_hold.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_http_hold(&self, hold: Option<Duration>) {
        *self.http_hold.lock().unwrap_or_else(PoisonError::into_inner) = hold;
    }
}

/// Keeps a transaction registered as open until dropped.
#[derive(Debug)]
struct OpenGuard {
    org: Arc<Org>,
    id: u64,
}

impl OpenGuard {
    fn new(org: Arc<Org>, stamp: DateTime<Utc>) -> OpenGuard {
        let id = org.open_transactions.begin(stamp);
        OpenGuard { org, id }
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.org.open_transactions.end(self.id);
    }
}

/// Records stamped when the write began, stored only when [`HeldWrite::commit`] runs.
/// Dropping it without committing rolls the write back.
#[derive(Debug)]
pub struct HeldWrite {
    guard: OpenGuard,
    username: String,
    object: String,
    records: Vec<Map<String, Value>>,
    stamp: DateTime<Utc>,
}

impl HeldWrite {
    /// The instant the write began: the `SystemModstamp` its records will carry.
    pub fn stamp(&self) -> DateTime<Utc> {
        self.stamp
    }

    /// Stores the records in one transaction, stamped with [`HeldWrite::stamp`]; returns
    /// their ids in order. A record with an `Id` is an update, any other a create.
    pub fn commit(self) -> Result<Vec<String>, ApiError> {
        let admin = Admin::new(self.guard.org.clone());
        let object = self.object.clone();
        let out = admin.in_transaction(&self.username, Some(self.stamp), |ctx| {
            write_records(ctx, &object, &self.records)
        });
        tracing::debug!(object = %self.object, ok = out.is_ok(), "held write committed");
        drop(self.guard);
        out
    }

    /// Abandons the write; nothing is stored.
    pub fn rollback(self) {
        tracing::debug!(object = %self.object, "held write rolled back");
    }
}

fn write_records(
    ctx: &Ctx<'_>,
    object: &str,
    records: &[Map<String, Value>],
) -> Result<Vec<String>, ApiError> {
    let obj = ctx.object(object)?;
    let mut ids = Vec::with_capacity(records.len());
    for record in records {
        match record.get("Id").and_then(Value::as_str) {
            Some(id) => {
                let id = records::parse_id(obj, id)?;
                let mut body = record.clone();
                body.remove("Id");
                records::update(ctx, obj, &id, &body)?;
                ids.push(id.to_string());
            }
            None => ids.push(records::create(ctx, obj, record)?.to_string()),
        }
    }
    Ok(ids)
}

fn record_maps(records: Vec<Value>) -> Result<Vec<Map<String, Value>>, ApiError> {
    records
        .into_iter()
        .map(|r| match r {
            Value::Object(m) => Ok(m),
            _ => Err(ApiError::bad_request("JSON_PARSER_ERROR", "record must be a JSON object")),
        })
        .collect()
}

impl Admin {
    /// Runs `f` in one transaction as `username`, stamped `stamp` (now when `None`).
    fn in_transaction<T>(
        &self,
        username: &str,
        stamp: Option<DateTime<Utc>>,
        f: impl FnOnce(&Ctx<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let conn = self.org.db();
        let principal = principal(&conn, username)?;
        let tx = conn.unchecked_transaction()?;
        let version = format!("{LATEST_VERSION}.0");
        let ctx = Ctx {
            conn: &tx,
            org: &self.org,
            access: self.org.access(&principal),
            now: stamp.unwrap_or_else(|| self.org.clock.now()),
            version: &version,
        };
        let out = f(&ctx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Begins a write as `username` that takes its stamp now and becomes visible only when
    /// committed. Until then `latestDateCovered` stays at or before its stamp.
    pub fn begin_held_write(
        &self,
        username: &str,
        object: &str,
        records: Vec<Value>,
    ) -> Result<HeldWrite, ApiError> {
        let records = record_maps(records)?;
        {
            let conn = self.org.db();
            principal(&conn, username)?;
        }
        let obj = self.org.schema.object(object).ok_or_else(ApiError::not_found)?;
        let stamp = self.org.clock.now();
        tracing::debug!(object = %obj.name, records = records.len(), "held write begun");
        Ok(HeldWrite {
            guard: OpenGuard::new(self.org.clone(), stamp),
            username: username.to_string(),
            object: obj.name.clone(),
            records,
            stamp,
        })
    }

    /// Creates (or, with an `Id`, updates) many records as `username` in one transaction;
    /// they all carry the same `SystemModstamp`. Returns the ids in order.
    pub fn create_many(
        &self,
        username: &str,
        object: &str,
        records: Vec<Value>,
    ) -> Result<Vec<String>, ApiError> {
        let records = record_maps(records)?;
        self.in_transaction(username, None, |ctx| write_records(ctx, object, &records))
    }

    /// Holds every write request over HTTP for `hold` before it runs: it is stamped on
    /// arrival and commits late. `None` (or a zero duration) turns holding off.
    pub fn hold_writes(&self, hold: Option<Duration>) {
        let hold = hold.filter(|d| !d.is_zero());
        tracing::info!(hold_ms = hold.map(|d| d.as_millis() as u64), "write holding changed");
        self.org.open_transactions.set_http_hold(hold);
    }

    /// How many write transactions are open right now.
    pub fn open_transactions(&self) -> usize {
        self.org.open_transactions.count()
    }
}

fn principal(conn: &rusqlite::Connection, username: &str) -> Result<Principal, ApiError> {
    let user_id =
        db::find_user(conn, username)?.map(|(id, _)| id).ok_or_else(ApiError::invalid_session)?;
    db::load_principal(conn, &user_id)?.ok_or_else(ApiError::invalid_session)
}

/// Whether a request writes records (and so may be held).
fn is_write(req: &Request) -> bool {
    let path = req.uri().path();
    let writes =
        matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT | Method::DELETE);
    writes && path.starts_with("/services/data/")
}

/// Whether a request is a Composite call (`POST .../composite`), which writes only if
/// one of its subrequests does.
fn is_composite(req: &Request) -> bool {
    *req.method() == Method::POST && req.uri().path().trim_end_matches('/').ends_with("/composite")
}

/// Middleware: when writes are held, stamps a write request on arrival, keeps it
/// registered as open while it waits, then runs it with that stamp. A Composite call
/// whose subrequests only read is no write: it runs at once and, not being an open
/// transaction, does not hold `latestDateCovered` back.
pub async fn hold_middleware(State(org): State<AppState>, req: Request, next: Next) -> Response {
    let Some(hold) = org.open_transactions.http_hold().filter(|_| is_write(&req)) else {
        return next.run(req).await;
    };
    let req = if is_composite(&req) {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, org.config.max_body_bytes).await else {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUEST_ENTITY_TOO_LARGE",
                format!("Request body exceeds the limit of {} bytes", org.config.max_body_bytes),
            )
            .into_response();
        };
        let read_only = serde_json::from_slice::<Value>(&bytes)
            .is_ok_and(|body| crate::routes::composite::is_read_only(&body));
        let req = Request::from_parts(parts, Body::from(bytes));
        if read_only {
            return next.run(req).await;
        }
        req
    } else {
        req
    };
    let stamp = org.clock.now();
    let guard = OpenGuard::new(org.clone(), stamp);
    tracing::debug!(hold_ms = hold.as_millis() as u64, "write request held");
    tokio::time::sleep(hold).await;
    let response = REQUEST_STAMP.scope(stamp, next.run(req)).await;
    drop(guard);
    response
}
