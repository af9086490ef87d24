//! Key-value settings and the session (tokens). They live only in this encrypted file.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::StoreError;

/// Well-known keys.
pub mod keys {
    /// The OAuth session: access token, refresh token, instance URL, ids.
    pub const SESSION: &str = "session";
    /// User settings.
    pub const SETTINGS: &str = "settings";
}

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<Value>, StoreError> {
    let text: Option<String> =
        conn.query_row("SELECT value FROM _kv WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

pub(crate) fn set(conn: &Connection, key: &str, value: &Value) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO _kv (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value.to_string()],
    )?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, key: &str) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM _kv WHERE key = ?1", [key])? > 0)
}
