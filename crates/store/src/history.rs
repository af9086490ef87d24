//! Sync history: one event per sync run with its counts, and per-record detail rows.
//!
//! Retention: events are kept while they are among the last [`KEEP_EVENTS`] or younger than
//! [`KEEP_DAYS`] days, whichever keeps more; pruning runs whenever an event finishes. Each
//! event stores at most [`MAX_EVENT_RECORDS`] detail rows; beyond that it is marked
//! `truncated`, while `detail_total` and the caller's counts stay exact.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use crate::StoreError;
use crate::values::{format_datetime, parse_datetime};

/// The newest events always kept.
pub const KEEP_EVENTS: i64 = 500;
/// Events younger than this are always kept.
pub const KEEP_DAYS: i64 = 30;
/// Detail rows stored per event.
pub const MAX_EVENT_RECORDS: i64 = 1000;

/// What started a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncKind {
    Initial,
    User,
    Scheduled,
    Automatic,
}

/// How a sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncOutcome {
    Succeeded,
    Partial,
    Failed,
}

/// What happened to one record in a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordAction {
    New,
    Updated,
    Deleted,
    LeftScope,
    EnteredScope,
    Uploaded,
    Failed,
    Conflict,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            /// The stored text form.
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),* }
            }

            /// Parses the stored text form.
            pub fn parse(text: &str) -> Option<$ty> {
                match text { $($text => Some(<$ty>::$variant),)* _ => None }
            }
        }
    };
}

text_enum!(SyncKind { Initial => "initial", User => "user", Scheduled => "scheduled", Automatic => "automatic" });
text_enum!(SyncOutcome { Succeeded => "succeeded", Partial => "partial", Failed => "failed" });
text_enum!(RecordAction {
    New => "new",
    Updated => "updated",
    Deleted => "deleted",
    LeftScope => "left_scope",
    EnteredScope => "entered_scope",
    Uploaded => "uploaded",
    Failed => "failed",
    Conflict => "conflict",
});

/// One sync run.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncEvent {
    pub id: i64,
    pub kind: SyncKind,
    pub started_at: DateTime<Utc>,
    /// `None` while the sync runs (or if it never finished).
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<SyncOutcome>,
    pub reason: Option<String>,
    /// Per-object download counts, as the engine reports them.
    pub counts: Value,
    /// Upload counts, as the engine reports them.
    pub upload_counts: Value,
    /// How many detail rows were reported, stored or not.
    pub detail_total: i64,
    /// Whether some detail rows were not stored.
    pub truncated: bool,
}

/// One record's line in an event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub object: String,
    pub record_id: String,
    pub display_name: Option<String>,
    pub action: RecordAction,
    pub detail: Option<String>,
}

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<SyncEvent> {
    let text = |i: usize| r.get::<_, Option<String>>(i);
    let json = |i: usize| -> rusqlite::Result<Value> {
        Ok(r.get::<_, String>(i)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null))
    };
    Ok(SyncEvent {
        id: r.get(0)?,
        kind: SyncKind::parse(&r.get::<_, String>(1)?).unwrap_or(SyncKind::Automatic),
        started_at: parse_datetime(&r.get::<_, String>(2)?).unwrap_or_default(),
        ended_at: text(3)?.as_deref().and_then(parse_datetime),
        outcome: text(4)?.as_deref().and_then(SyncOutcome::parse),
        reason: text(5)?,
        counts: json(6)?,
        upload_counts: json(7)?,
        detail_total: r.get(8)?,
        truncated: r.get::<_, i64>(9)? != 0,
    })
}

const EVENT_COLUMNS: &str = "id, kind, started_at, ended_at, outcome, reason, counts, upload_counts, detail_rows, truncated";

pub(crate) fn begin(
    conn: &Connection,
    kind: SyncKind,
    started_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO _sync_events (kind, started_at) VALUES (?1, ?2)",
        params![kind.as_str(), format_datetime(started_at)],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Adds detail rows up to the cap; returns how many were stored.
pub(crate) fn add_records(
    conn: &Connection,
    event_id: i64,
    records: &[EventRecord],
) -> Result<usize, StoreError> {
    let total: i64 = conn
        .query_row("SELECT detail_rows FROM _sync_events WHERE id = ?1", [event_id], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NoSuchEvent(event_id))?;
    let room = usize::try_from((MAX_EVENT_RECORDS - total).max(0)).unwrap_or(0);
    let stored = records.len().min(room);
    let mut stmt = conn.prepare_cached(
        "INSERT INTO _sync_event_records (event_id, seq, object, record_id, display_name, action, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (i, rec) in records.iter().take(stored).enumerate() {
        stmt.execute(params![
            event_id,
            total + i as i64,
            rec.object,
            rec.record_id,
            rec.display_name,
            rec.action.as_str(),
            rec.detail
        ])?;
    }
    conn.execute(
        "UPDATE _sync_events SET detail_rows = detail_rows + ?2,
             truncated = truncated OR ?3 WHERE id = ?1",
        params![event_id, records.len() as i64, stored < records.len()],
    )?;
    Ok(stored)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    conn: &Connection,
    event_id: i64,
    ended_at: DateTime<Utc>,
    outcome: SyncOutcome,
    reason: Option<&str>,
    counts: &Value,
    upload_counts: &Value,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE _sync_events SET ended_at = ?2, outcome = ?3, reason = ?4, counts = ?5,
             upload_counts = ?6 WHERE id = ?1",
        params![
            event_id,
            format_datetime(ended_at),
            outcome.as_str(),
            reason,
            counts.to_string(),
            upload_counts.to_string()
        ],
    )?;
    prune(conn, ended_at)?;
    Ok(())
}

/// Deletes events that are neither among the newest [`KEEP_EVENTS`] nor younger than
/// [`KEEP_DAYS`] days at `now`; their detail rows go with them.
pub(crate) fn prune(conn: &Connection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let cutoff = format_datetime(now.checked_sub_signed(Duration::days(KEEP_DAYS)).unwrap_or(now));
    let n = conn.execute(
        "DELETE FROM _sync_events WHERE started_at < ?1 AND id NOT IN
             (SELECT id FROM _sync_events ORDER BY started_at DESC, id DESC LIMIT ?2)",
        params![cutoff, KEEP_EVENTS],
    )?;
    if n > 0 {
        tracing::debug!(events = n, "old sync history pruned");
    }
    Ok(n)
}

pub(crate) fn list(
    conn: &Connection,
    limit: usize,
    before_id: Option<i64>,
) -> Result<Vec<SyncEvent>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {EVENT_COLUMNS} FROM _sync_events WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows =
        stmt.query_map(params![before_id.unwrap_or(i64::MAX), limit as i64], event_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn get(conn: &Connection, event_id: i64) -> Result<Option<SyncEvent>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {EVENT_COLUMNS} FROM _sync_events WHERE id = ?1"),
            [event_id],
            event_from_row,
        )
        .optional()?)
}

pub(crate) fn records(conn: &Connection, event_id: i64) -> Result<Vec<EventRecord>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT object, record_id, display_name, action, detail FROM _sync_event_records
         WHERE event_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([event_id], |r| {
        Ok(EventRecord {
            object: r.get(0)?,
            record_id: r.get(1)?,
            display_name: r.get(2)?,
            action: RecordAction::parse(&r.get::<_, String>(3)?).unwrap_or(RecordAction::Updated),
            detail: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
