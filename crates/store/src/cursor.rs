//! Per-object sync cursors. They are written only through a write transaction, so a cursor
//! always commits together with the rows it covers.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::StoreError;
use crate::values::{format_datetime, parse_datetime};

/// How far an object's download has got.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncCursor {
    pub object: String,
    /// The `SystemModstamp` of the last row applied (stored form, UTC).
    pub modstamp: Option<String>,
    /// The `Id` of the last row applied at `modstamp`: the `(SystemModstamp, Id)` cursor.
    pub last_id: Option<String>,
    /// The last `latestDateCovered` the replication API reported.
    pub replication_latest: Option<String>,
    /// The engine's own state for the first full download (paging position and so on).
    pub prime_state: Option<Value>,
    pub last_sync_at: Option<DateTime<Utc>>,
}

pub(crate) fn get(conn: &Connection, object: &str) -> Result<Option<SyncCursor>, StoreError> {
    let row = conn
        .query_row(
            "SELECT object, modstamp, last_id, replication_latest, prime_state, last_sync_at
             FROM _sync_cursors WHERE object = ?1 COLLATE NOCASE",
            [object],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((object, modstamp, last_id, replication_latest, prime, last)) = row else {
        return Ok(None);
    };
    Ok(Some(SyncCursor {
        object,
        modstamp,
        last_id,
        replication_latest,
        prime_state: prime.map(|p| serde_json::from_str(&p)).transpose()?,
        last_sync_at: last.as_deref().and_then(parse_datetime),
    }))
}

pub(crate) fn set(conn: &Connection, cursor: &SyncCursor) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO _sync_cursors (object, modstamp, last_id, replication_latest, prime_state, last_sync_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (object) DO UPDATE SET modstamp = excluded.modstamp, last_id = excluded.last_id,
             replication_latest = excluded.replication_latest, prime_state = excluded.prime_state,
             last_sync_at = excluded.last_sync_at",
        params![
            cursor.object,
            cursor.modstamp,
            cursor.last_id,
            cursor.replication_latest,
            cursor.prime_state.as_ref().map(Value::to_string),
            cursor.last_sync_at.map(format_datetime),
        ],
    )?;
    Ok(())
}

pub(crate) fn clear(conn: &Connection, object: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM _sync_cursors WHERE object = ?1 COLLATE NOCASE", [object])?;
    Ok(())
}

pub(crate) fn all(conn: &Connection) -> Result<Vec<SyncCursor>, StoreError> {
    let names: Vec<String> = conn
        .prepare("SELECT object FROM _sync_cursors ORDER BY object")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for name in names {
        out.extend(get(conn, &name)?);
    }
    Ok(out)
}
