//! Replication: `GET .../sobjects/{Object}/updated?start=&end=` and
//! `.../deleted?start=&end=`, with Salesforce's rules.
//!
//! - Seconds are dropped from `start` and `end`; both ends are inclusive; `start` must come
//!   strictly before `end`, else `INVALID_REPLICATION_DATE`. An `end` in the future is
//!   capped at now (seconds kept, so what committed a moment ago is listed).
//! - `updated` reaches back 30 days (to midnight); `deleted` back to the recycle bin's
//!   `earliestDateAvailable`. Earlier starts get `INVALID_REPLICATION_DATE`.
//! - More than [`MAX_IDS`] ids: `EXCEEDED_ID_LIMIT`.
//! - Sharing applies: a user gets only the ids of records they can see.
//! - `latestDateCovered` is the end of the window, or the start (to the minute) of the
//!   oldest write transaction still open, whichever is earlier.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rusqlite::params_from_iter;
use rusqlite::types::Value as Sql;
use serde_json::{Value, json};

use super::{object_param, version, with_ctx};
use crate::clock::{format_datetime, parse_datetime};
use crate::db::{self, DELETED_DATE};
use crate::error::ApiError;
use crate::http::{AppState, Session};
use crate::org::Org;
use crate::records::Ctx;
use crate::schema::ObjectDef;
use crate::sharing::to_sqlite;

/// Most ids one call returns before it fails with `EXCEEDED_ID_LIMIT`.
pub const MAX_IDS: usize = 600_000;
/// How far back `updated` reaches.
pub const UPDATED_DAYS: i64 = 30;
/// `_meta` key holding the latest instant the recycle bin was purged up to.
pub const PURGED_UP_TO: &str = "recycle_bin_purged_up_to";

type Params = Path<HashMap<String, String>>;
type QueryParams = Query<HashMap<String, String>>;

fn invalid_date(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("INVALID_REPLICATION_DATE", message)
}

/// Drops seconds and fractions.
pub fn to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp().div_euclid(60) * 60, 0).unwrap_or(t)
}

/// Parses an ISO 8601 date-time as the replication endpoints accept it. A `+` that a
/// client left unencoded arrives as a space and is read as `+`; no offset means UTC.
pub fn parse_param(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim().replace(' ', "+");
    if let Some(t) = parse_datetime(&text) {
        return Some(t);
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
        .map(|n| n.and_utc())
}

fn date_param(q: &HashMap<String, String>, name: &str) -> Result<DateTime<Utc>, ApiError> {
    let text = q.get(name).map(String::as_str).unwrap_or("").trim();
    if text.is_empty() {
        return Err(ApiError::bad_request(
            "MISSING_ARGUMENT",
            format!("Missing required parameter: {name}"),
        ));
    }
    parse_param(text).map(to_minute).ok_or_else(|| {
        ApiError::bad_request(
            "JSON_PARSER_ERROR",
            format!(
                "Cannot deserialize instance of datetime from VALUE_STRING value {text} for parameter '{name}': expected ISO 8601, like 2024-05-08T21:20:00+00:00"
            ),
        )
    })
}

/// A checked replication window.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Where the answer is complete up to.
    covered: DateTime<Utc>,
}

fn window(org: &Org, q: &HashMap<String, String>) -> Result<Window, ApiError> {
    let start = date_param(q, "start")?;
    let end = date_param(q, "end")?;
    // An end in the future is capped at now itself: what has committed so far is listed,
    // and coverage is claimed only up to the minute.
    let now = org.clock.now();
    let end = end.min(now);
    if start >= end {
        return Err(invalid_date(
            "startDate must chronologically precede endDate by at least one minute",
        ));
    }
    let covered = match org.open_transactions.oldest_start() {
        Some(open) => to_minute(end.min(open)),
        None => to_minute(end),
    };
    Ok(Window { start, end, covered })
}

/// Runs `SELECT r."Id"[, extra] FROM object r WHERE condition AND sharing`, failing with
/// `EXCEEDED_ID_LIMIT` past [`MAX_IDS`] rows. `index` is the index the window reads
/// through: without statistics SQLite would rather take a sharing column's (an owner's
/// every record) than the window's range, and the answer would cost what the table holds.
fn select_ids(
    ctx: &Ctx<'_>,
    obj: &ObjectDef,
    extra: Option<&str>,
    index: &str,
    condition: &str,
    params: Vec<Sql>,
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let mut params = params;
    let mut condition = condition.to_string();
    if let Some(filter) = ctx.access.read_filter(&obj.name, "r") {
        condition = format!("{condition} AND {}", filter.sql);
        params.extend(filter.params.into_iter().map(to_sqlite));
    }
    let table = &obj.name;
    let extra_col = extra.map(|c| format!(", r.\"{c}\"")).unwrap_or_default();
    let order = extra.unwrap_or("SystemModstamp");
    // One pass reads at most one row past the limit; only a window over it is counted.
    let sql = format!(
        "SELECT r.\"Id\"{extra_col} FROM \"{table}\" r INDEXED BY \"{index}\" WHERE {condition} \
         ORDER BY r.\"{order}\", r.\"Id\" LIMIT {}",
        MAX_IDS + 1
    );
    let mut stmt = ctx.conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
        Ok((r.get::<_, String>(0)?, if extra.is_some() { r.get(1)? } else { None }))
    })?;
    let rows: Vec<(String, Option<String>)> = rows.collect::<Result<_, _>>()?;
    if rows.len() > MAX_IDS {
        let count: i64 = ctx.conn.query_row(
            &format!("SELECT COUNT(*) FROM \"{table}\" r INDEXED BY \"{index}\" WHERE {condition}"),
            params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        return Err(ApiError::bad_request(
            "EXCEEDED_ID_LIMIT",
            format!(
                "{count} ids found, more than the limit of {MAX_IDS}: choose start and end dates closer together"
            ),
        ));
    }
    Ok(rows)
}

/// `GET .../sobjects/{Object}/updated?start=&end=`.
pub async fn updated(
    State(org): State<AppState>,
    session: Session,
    Path(p): Params,
    Query(q): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    with_ctx(&org, &session, &v, |ctx| updated_ids(ctx, obj, &q)).map(Json)
}

/// The body of `updated` for `obj` and the query parameters `q`, inside a request's
/// transaction (a direct call, or a Composite subrequest).
pub fn updated_ids(
    ctx: &Ctx<'_>,
    obj: &ObjectDef,
    q: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let org = ctx.org;
    let w = window(org, q)?;
    let oldest = (org.clock.now() - Duration::days(UPDATED_DAYS))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc());
    if oldest.is_some_and(|oldest| w.start < oldest) {
        return Err(invalid_date(format!("startDate cannot be more than {UPDATED_DAYS} days ago")));
    }
    let index = format!("{}_SystemModstamp", obj.name);
    let rows = select_ids(
        ctx,
        obj,
        None,
        &index,
        "r.\"IsDeleted\" = 0 AND r.\"SystemModstamp\" >= ?1 AND r.\"SystemModstamp\" <= ?2",
        vec![Sql::Text(format_datetime(w.start)), Sql::Text(format_datetime(w.end))],
    )?;
    tracing::debug!(object = %obj.name, ids = rows.len(), "updated ids listed");
    let ids: Vec<String> = rows.into_iter().map(|(id, _)| id).collect();
    Ok(json!({"ids": ids, "latestDateCovered": format_datetime(w.covered)}))
}

/// The earliest instant deleted records are still known from: the recycle bin's
/// retention, or the point an administrator purged it up to, whichever is later.
pub fn earliest_date_available(org: &Org, conn: &rusqlite::Connection) -> DateTime<Utc> {
    let retention = org.clock.now() - Duration::days(i64::from(org.config.recycle_bin_days));
    let purged = db::meta(conn, PURGED_UP_TO).ok().flatten().and_then(|t| parse_datetime(&t));
    to_minute(purged.map_or(retention, |p| p.max(retention)))
}

/// Remembers that the recycle bin was purged up to `up_to` (a stored datetime), so
/// `earliestDateAvailable` never reaches back before it.
pub fn record_purge(conn: &rusqlite::Connection, up_to: &str) -> rusqlite::Result<()> {
    let previous = db::meta(conn, PURGED_UP_TO)?;
    if previous.as_deref().is_none_or(|p| p < up_to) {
        db::set_meta(conn, PURGED_UP_TO, up_to)?;
    }
    Ok(())
}

/// `GET .../sobjects/{Object}/deleted?start=&end=`.
pub async fn deleted(
    State(org): State<AppState>,
    session: Session,
    Path(p): Params,
    Query(q): QueryParams,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    with_ctx(&org, &session, &v, |ctx| deleted_records(ctx, obj, &q)).map(Json)
}

/// The body of `deleted` for `obj` and the query parameters `q`, inside a request's
/// transaction (a direct call, or a Composite subrequest).
pub fn deleted_records(
    ctx: &Ctx<'_>,
    obj: &ObjectDef,
    q: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let w = window(ctx.org, q)?;
    let earliest = earliest_date_available(ctx.org, ctx.conn);
    if w.start < earliest {
        return Err(invalid_date(format!(
            "startDate is before the earliest date available: {}",
            format_datetime(earliest)
        )));
    }
    let condition = format!(
        "r.\"IsDeleted\" = 1 AND r.\"{DELETED_DATE}\" >= ?1 AND r.\"{DELETED_DATE}\" <= ?2"
    );
    let index = format!("{}_{DELETED_DATE}", obj.name);
    let rows = select_ids(
        ctx,
        obj,
        Some(DELETED_DATE),
        &index,
        &condition,
        vec![Sql::Text(format_datetime(w.start)), Sql::Text(format_datetime(w.end))],
    )?;
    tracing::debug!(object = %obj.name, ids = rows.len(), "deleted ids listed");
    let records: Vec<Value> =
        rows.into_iter().map(|(id, date)| json!({"id": id, "deletedDate": date})).collect();
    Ok(json!({
        "deletedRecords": records,
        "earliestDateAvailable": format_datetime(earliest),
        "latestDateCovered": format_datetime(w.covered),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_clients_send() {
        let want = "2024-05-08T21:20:00.000+0000";
        for text in [
            "2024-05-08T21:20:45+00:00",
            "2024-05-08T21:20:45 00:00",
            "2024-05-08T21:20:45.123Z",
            "2024-05-08T21:20:45.000+0000",
            "2024-05-08T23:20:45+02:00",
            "2024-05-08T21:20:45",
        ] {
            let t = parse_param(text).map(to_minute).map(format_datetime);
            assert_eq!(t.as_deref(), Some(want), "{text}");
        }
        for bad in ["", "yesterday", "2024-05-08", "2024-13-08T00:00:00Z"] {
            assert!(parse_param(bad).is_none(), "{bad}");
        }
    }
}
