//! Query locators: where the next page of an offline query starts, as an opaque token
//! (the end of its `nextRecordsUrl`). A locator holds everything the next page needs (the
//! query, the instant its relative dates resolved against, the page size, how many rows
//! came before, the exact total and the sort values of the last row), so no read
//! transaction or cursor stays open between pages: each page is a fresh read.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use soql::PageAfter;
use soql::schema::SqlValue;

use crate::StoreError;

/// The layout version written into every locator.
const VERSION: u8 = 1;

/// The path `nextRecordsUrl` gives before the locator, as the REST query resource's.
pub(crate) const NEXT_RECORDS_PATH: &str = "/services/data/v62.0/query/";

/// Where the next page of a query starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Locator {
    pub soql: String,
    pub now: DateTime<Utc>,
    pub batch_size: u32,
    /// Rows returned by the pages before.
    pub seen: u64,
    /// The query's `totalSize`, counted with its first page.
    pub total: i64,
    pub after: PageAfter,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u8,
    q: String,
    now: DateTime<Utc>,
    size: u32,
    seen: u64,
    total: i64,
    keys: Vec<Value>,
    id: String,
}

fn to_json(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::from(*i),
        SqlValue::Real(f) => Value::from(*f),
        SqlValue::Text(s) => Value::String(s.clone()),
    }
}

fn from_json(v: Value) -> Option<SqlValue> {
    match v {
        Value::Null => Some(SqlValue::Null),
        Value::String(s) => Some(SqlValue::Text(s)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(SqlValue::Integer(i)),
            None => n.as_f64().map(SqlValue::Real),
        },
        _ => None,
    }
}

fn bad(reason: &str) -> StoreError {
    StoreError::BadLocator(reason.to_owned())
}

impl Locator {
    /// The opaque token: URL-safe base64 (no `/`, `+` or `=`), so it fits a URL path
    /// segment as Salesforce's locators do.
    pub fn encode(&self) -> String {
        let wire = Wire {
            v: VERSION,
            q: self.soql.clone(),
            now: self.now,
            size: self.batch_size,
            seen: self.seen,
            total: self.total,
            keys: self.after.keys.iter().map(to_json).collect(),
            id: self.after.id.clone(),
        };
        // Serializing plain strings and numbers cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
    }

    /// Reads a locator, or the whole `nextRecordsUrl` that ends with one.
    pub fn decode(text: &str) -> Result<Locator, StoreError> {
        let token = text.rsplit('/').next().unwrap_or(text).trim();
        if token.is_empty() {
            return Err(bad("empty"));
        }
        let bytes =
            URL_SAFE_NO_PAD.decode(token).map_err(|_| bad("not a locator this store made"))?;
        let wire: Wire =
            serde_json::from_slice(&bytes).map_err(|_| bad("not a locator this store made"))?;
        if wire.v != VERSION {
            return Err(bad("made by another version"));
        }
        let keys = wire
            .keys
            .into_iter()
            .map(from_json)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("its sort values are unreadable"))?;
        Ok(Locator {
            soql: wire.q,
            now: wire.now,
            batch_size: wire.size,
            seen: wire.seen,
            total: wire.total,
            after: PageAfter { keys, id: wire.id },
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_locator_reads_back_and_has_no_slash() {
        let locator = Locator {
            soql: "SELECT Name FROM Account ORDER BY Name DESC NULLS LAST".into(),
            now: Utc.with_ymd_and_hms(2024, 5, 8, 12, 0, 0).unwrap(),
            batch_size: 200,
            seen: 400,
            total: 1234,
            after: PageAfter {
                keys: vec![
                    SqlValue::Null,
                    SqlValue::Integer(7),
                    SqlValue::Real(1.5),
                    SqlValue::Text("Ä/é".into()),
                ],
                id: "001000000000001AAA".into(),
            },
        };
        let token = locator.encode();
        assert!(!token.contains('/') && !token.contains('+') && !token.contains('='));
        assert_eq!(Locator::decode(&token).unwrap(), locator);
        let url = format!("{NEXT_RECORDS_PATH}{token}");
        assert_eq!(Locator::decode(&url).unwrap(), locator);
    }

    #[test]
    fn a_mangled_locator_is_refused() {
        for text in ["", "not base64!", "eyJ2IjoxfQ", NEXT_RECORDS_PATH] {
            assert!(matches!(Locator::decode(text), Err(StoreError::BadLocator(_))), "{text}");
        }
    }
}
