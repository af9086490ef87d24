//! Bulk row writer for the seed: reserves ids and auto-numbers in blocks, fills the audit
//! fields, and inserts through cached prepared statements inside the caller's transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params_from_iter};
use salesforce::SfId;

use crate::clock::format_datetime;
use crate::db;

/// `_meta` key of the record id counter (shared with [`db::new_id`]).
const ID_COUNTER: &str = "id_counter";

/// Writes seed rows and counts them against the record budget.
pub(super) struct Writer<'c> {
    conn: &'c Connection,
    /// Characters 4 to 6 of every id.
    instance: String,
    /// The last id number handed out.
    last_id: u64,
    autonumbers: BTreeMap<&'static str, u64>,
    pub rng: StdRng,
    pub now: DateTime<Utc>,
    /// The user the audit fields name.
    creator: String,
    remaining: usize,
    pub counts: BTreeMap<&'static str, usize>,
}

impl<'c> Writer<'c> {
    pub fn new(
        conn: &'c Connection,
        rng: StdRng,
        now: DateTime<Utc>,
        creator: String,
        budget: usize,
    ) -> rusqlite::Result<Writer<'c>> {
        let org_id = db::org_id(conn)?;
        let instance = org_id.as_str()[3..6].to_string();
        // db::next_counter starts the counter at 100000, so an absent counter means 99999.
        let last_id = db::meta(conn, ID_COUNTER)?.and_then(|v| v.parse().ok()).unwrap_or(99_999);
        Ok(Writer {
            conn,
            instance,
            last_id,
            autonumbers: BTreeMap::new(),
            rng,
            now,
            creator,
            remaining: budget,
            counts: BTreeMap::new(),
        })
    }

    /// Records still allowed.
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    /// The next value of an object's auto-number, as `00000042`.
    pub fn autonumber(&mut self, object: &'static str) -> rusqlite::Result<String> {
        let n = match self.autonumbers.get(object) {
            Some(n) => *n + 1,
            None => {
                let key = format!("autonumber:{object}");
                db::meta(self.conn, &key)?.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1
            }
        };
        self.autonumbers.insert(object, n);
        Ok(format!("{n:08}"))
    }

    /// A created / modified pair of instants in the last `days` days, modified after created.
    fn audit_times(&mut self, days: i64) -> (String, String) {
        let span = Duration::days(days.max(1)).num_seconds();
        let created = self.now - Duration::seconds(self.rng.random_range(3600..span.max(3601)));
        let since = (self.now - created).num_seconds().max(1);
        let modified = created + Duration::seconds(self.rng.random_range(0..since));
        let millis = |t: DateTime<Utc>, ms: i64| format_datetime(t + Duration::milliseconds(ms));
        let (a, b) = (self.rng.random_range(0..1000), self.rng.random_range(0..1000));
        (millis(created, a), millis(modified.min(self.now - Duration::seconds(1)), b))
    }

    /// Inserts one row with audit fields, created within the last `days` days; returns its
    /// id, or `None` once the budget is spent.
    pub fn insert(
        &mut self,
        object: &'static str,
        key_prefix: &str,
        days: i64,
        fields: &[(&str, Sql)],
    ) -> rusqlite::Result<Option<String>> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        self.last_id += 1;
        let id = SfId::from_parts(key_prefix, &self.instance, self.last_id).to_string();
        let (created, modified) = self.audit_times(days);

        let mut cols: Vec<&str> = vec![
            "Id",
            "IsDeleted",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
        ];
        let mut values: Vec<Sql> = vec![
            Sql::Text(id.clone()),
            Sql::Integer(0),
            Sql::Text(created),
            Sql::Text(self.creator.clone()),
            Sql::Text(modified.clone()),
            Sql::Text(self.creator.clone()),
            Sql::Text(modified),
        ];
        for (name, value) in fields {
            cols.push(name);
            values.push(value.clone());
        }
        let quoted: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
        let sql = format!(
            "INSERT INTO \"{object}\" ({}) VALUES ({})",
            quoted.join(", "),
            vec!["?"; cols.len()].join(", ")
        );
        self.conn.prepare_cached(&sql)?.execute(params_from_iter(values))?;
        *self.counts.entry(object).or_default() += 1;
        Ok(Some(id))
    }

    /// Stores the counters past the ids and numbers this writer used.
    pub fn finish(self) -> rusqlite::Result<BTreeMap<&'static str, usize>> {
        db::set_meta(self.conn, ID_COUNTER, &self.last_id.to_string())?;
        for (object, n) in &self.autonumbers {
            db::set_meta(self.conn, &format!("autonumber:{object}"), &n.to_string())?;
        }
        Ok(self.counts)
    }
}
