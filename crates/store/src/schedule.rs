//! Per-object sync schedule: how often each object syncs, when it last did, when it is due.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;
use crate::values::{format_datetime, parse_datetime};

/// One object's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleEntry {
    pub object: String,
    pub interval_secs: u64,
    pub last_sync_at: Option<DateTime<Utc>>,
    /// `last_sync_at + interval_secs`, or the time the interval was set if never synced.
    pub next_due_at: Option<DateTime<Utc>>,
}

/// `at` plus `interval_secs`, saturating at the end of year 9999 (later times would not
/// keep the stored text in time order).
fn after(at: DateTime<Utc>, interval_secs: u64) -> DateTime<Utc> {
    let latest = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single().unwrap_or(at);
    i64::try_from(interval_secs)
        .ok()
        .and_then(Duration::try_seconds)
        .and_then(|d| at.checked_add_signed(d))
        .map_or(latest, |t| t.min(latest))
}

pub(crate) fn get(conn: &Connection, object: &str) -> Result<Option<ScheduleEntry>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT object, interval_secs, last_sync_at, next_due_at FROM _sync_schedule
             WHERE object = ?1 COLLATE NOCASE",
            [object],
            from_row,
        )
        .optional()?)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScheduleEntry> {
    Ok(ScheduleEntry {
        object: r.get(0)?,
        interval_secs: r.get::<_, i64>(1)?.max(0) as u64,
        last_sync_at: r.get::<_, Option<String>>(2)?.as_deref().and_then(parse_datetime),
        next_due_at: r.get::<_, Option<String>>(3)?.as_deref().and_then(parse_datetime),
    })
}

/// Sets how often an object syncs; the next due time follows from the last sync.
pub(crate) fn set_interval(
    conn: &Connection,
    object: &str,
    interval_secs: u64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let last = get(conn, object)?.and_then(|e| e.last_sync_at);
    let next = last.map(|l| after(l, interval_secs)).unwrap_or(now);
    conn.execute(
        "INSERT INTO _sync_schedule (object, interval_secs, last_sync_at, next_due_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (object) DO UPDATE SET interval_secs = excluded.interval_secs,
             next_due_at = excluded.next_due_at",
        params![
            object,
            i64::try_from(interval_secs).unwrap_or(i64::MAX),
            last.map(format_datetime),
            format_datetime(next)
        ],
    )?;
    Ok(())
}

/// Records that an object synced at `at`; it is next due one interval later.
pub(crate) fn record_sync(
    conn: &Connection,
    object: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(entry) = get(conn, object)? else {
        return Ok(());
    };
    conn.execute(
        "UPDATE _sync_schedule SET last_sync_at = ?2, next_due_at = ?3 WHERE object = ?1",
        params![entry.object, format_datetime(at), format_datetime(after(at, entry.interval_secs))],
    )?;
    Ok(())
}

/// Records that a sync of an object failed at `at`: it is due again after `retry_secs`,
/// or after its interval if that is shorter. Its last sync stays the last one that
/// succeeded.
pub(crate) fn record_failure(
    conn: &Connection,
    object: &str,
    at: DateTime<Utc>,
    retry_secs: u64,
) -> Result<(), StoreError> {
    let Some(entry) = get(conn, object)? else {
        return Ok(());
    };
    let next = after(at, entry.interval_secs.min(retry_secs));
    conn.execute(
        "UPDATE _sync_schedule SET next_due_at = ?2 WHERE object = ?1",
        params![entry.object, format_datetime(next)],
    )?;
    Ok(())
}

pub(crate) fn remove(conn: &Connection, object: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM _sync_schedule WHERE object = ?1 COLLATE NOCASE", [object])?;
    Ok(())
}

pub(crate) fn all(conn: &Connection) -> Result<Vec<ScheduleEntry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT object, interval_secs, last_sync_at, next_due_at FROM _sync_schedule ORDER BY next_due_at, object",
    )?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Objects due at `now`, the most overdue first.
pub(crate) fn due(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT object FROM _sync_schedule WHERE next_due_at <= ?1 ORDER BY next_due_at, object",
    )?;
    let rows = stmt.query_map([format_datetime(now)], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
