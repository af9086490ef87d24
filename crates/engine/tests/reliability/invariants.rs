//! The four checks every reliability test ends with, comparing a device's store with
//! devorg's own tables: nothing lost, no duplicates, convergence, cursors behind the data.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use devorg::RunningOrg;
use serde_json::Value;
use store::{PendingFilter, Store};

/// The object and fields every reliability profile syncs.
pub const OBJECT: &str = "Account";
pub const FIELDS: &[&str] = &["Name", "Phone", "BillingCity"];

/// One server record as devorg holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerRecord {
    pub id: String,
    pub fields: BTreeMap<String, Value>,
    pub modstamp: Option<DateTime<Utc>>,
}

/// Every live record of [`OBJECT`] on the server, read straight from devorg's database.
pub fn server_records(org: &RunningOrg) -> BTreeMap<String, ServerRecord> {
    let columns: Vec<String> = FIELDS.iter().map(|f| format!("\"{f}\"")).collect();
    let sql = format!(
        "SELECT \"Id\", \"SystemModstamp\", {} FROM \"{OBJECT}\" WHERE COALESCE(\"IsDeleted\", 0) = 0",
        columns.join(", ")
    );
    org.admin().with_db(|conn| {
        let mut stmt = conn.prepare(&sql).expect("server read prepares");
        let rows = stmt
            .query_map([], |row| {
                let id: String = row.get(0)?;
                let stamp: Option<String> = row.get(1)?;
                let mut fields = BTreeMap::new();
                for (i, f) in FIELDS.iter().enumerate() {
                    let v: Option<String> = row.get(i + 2)?;
                    fields.insert(f.to_string(), v.map(Value::String).unwrap_or(Value::Null));
                }
                Ok(ServerRecord { id, fields, modstamp: stamp.as_deref().and_then(parse_stamp) })
            })
            .expect("server read runs");
        rows.map(|r| r.expect("server row")).map(|r| (r.id.clone(), r)).collect()
    })
}

/// Reads a stamp in any of the forms devorg or the store write.
pub fn parse_stamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|t| t.with_timezone(&Utc))
        .ok()
}

fn text(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) if s.is_empty() => Value::Null,
        Some(other) => other.clone(),
    }
}

/// One local create: the marker it put in `Name`, so its server copy can be found.
#[derive(Debug, Clone)]
pub struct CreatedLocally {
    pub device: usize,
    pub name: String,
}

/// What a test did locally, to check nothing of it was lost.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    pub creates: Vec<CreatedLocally>,
    /// Names created then deleted or discarded on purpose before they reached the server.
    pub withdrawn: BTreeSet<String>,
    /// Every value any device or server writer put in a field, per field.
    pub written: BTreeMap<String, BTreeSet<String>>,
}

impl Ledger {
    pub fn wrote(&mut self, field: &str, value: &str) {
        self.written.entry(field.to_owned()).or_default().insert(value.to_owned());
    }
}

/// What a check found wrong; an empty list means the invariants hold.
pub type Violations = Vec<String>;

/// Ids of records in `store` with a change still queued, in any state.
pub fn pending_ids(store: &Store) -> BTreeSet<String> {
    let changes = store.read(|r| r.pending_changes(&PendingFilter::default())).expect("pending");
    changes.into_iter().map(|c| c.record_id).collect()
}

/// Names in `store`'s queue (creates not yet uploaded keep their marker there).
fn pending_names(store: &Store) -> BTreeSet<String> {
    let changes = store.read(|r| r.pending_changes(&PendingFilter::default())).expect("pending");
    changes
        .into_iter()
        .filter_map(|c| c.fields.get("Name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// 1 and 2: every local create is on the server exactly once, or still queued with a
/// visible state, or was withdrawn on purpose; no marker is on the server twice.
pub fn nothing_lost_no_duplicates(
    server: &BTreeMap<String, ServerRecord>,
    stores: &[&Store],
    ledger: &Ledger,
) -> Violations {
    let mut found = vec![];
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for r in server.values() {
        if let Some(Value::String(name)) = r.fields.get("Name") {
            *by_name.entry(name.clone()).or_default() += 1;
        }
    }
    for create in &ledger.creates {
        let on_server = by_name.get(&create.name).copied().unwrap_or(0);
        if on_server > 1 {
            found.push(format!("duplicate: {} is on the server {on_server} times", create.name));
        }
        if on_server == 0
            && !ledger.withdrawn.contains(&create.name)
            && !pending_names(stores[create.device]).contains(&create.name)
        {
            found.push(format!(
                "lost: {} (device {}) is neither on the server nor queued",
                create.name, create.device
            ));
        }
    }
    for (field, values) in &ledger.written {
        for r in server.values() {
            if let Value::String(v) = text(r.fields.get(field))
                && !values.contains(&v)
                && field != "Name"
            {
                found.push(format!("{}.{field} holds {v:?}, which nobody wrote", r.id));
            }
        }
    }
    found
}

/// 3: the store holds exactly the server's records with the server's values, except
/// records with pending changes.
pub fn converged(server: &BTreeMap<String, ServerRecord>, store: &Store) -> Violations {
    let mut found = vec![];
    let pending = pending_ids(store);
    let held: BTreeSet<String> =
        store.read(|r| r.record_ids(OBJECT)).expect("held ids").into_iter().collect();
    for id in server.keys() {
        if !held.contains(id) && !pending.contains(id) {
            found.push(format!("missing locally: {id}"));
        }
    }
    for id in &held {
        if pending.contains(id) {
            continue;
        }
        let Some(remote) = server.get(id) else {
            found.push(format!("held locally but not on the server: {id}"));
            continue;
        };
        let local = store.read(|r| r.get_record(OBJECT, id)).expect("record").unwrap_or_default();
        for f in FIELDS {
            let (l, s) = (text(local.get(*f)), text(remote.fields.get(*f)));
            if l != s {
                found.push(format!("{id}.{f}: local {l} but server {s}"));
            }
        }
    }
    found
}

/// 4: no cursor stands past a server record the store does not hold: every record the
/// server stamped at or before a cursor's stamp is held (or queued locally).
pub fn cursors_behind_data(server: &BTreeMap<String, ServerRecord>, store: &Store) -> Violations {
    let mut found = vec![];
    let Some(cursor) = store.read(|r| r.cursor(OBJECT)).expect("cursor") else {
        return found;
    };
    let Some(at) = cursor.modstamp.as_deref().and_then(parse_stamp) else { return found };
    let held: BTreeSet<String> =
        store.read(|r| r.record_ids(OBJECT)).expect("held ids").into_iter().collect();
    let pending = pending_ids(store);
    for r in server.values() {
        if r.modstamp.is_some_and(|m| m < at) && !held.contains(&r.id) && !pending.contains(&r.id) {
            found.push(format!(
                "cursor at {at} is past {} (stamped {:?}) not held",
                r.id, r.modstamp
            ));
        }
    }
    found
}

/// All four checks for every device; panics listing what is wrong.
pub fn assert_invariants(org: &RunningOrg, stores: &[&Store], ledger: &Ledger) -> usize {
    let server = server_records(org);
    let mut found = nothing_lost_no_duplicates(&server, stores, ledger);
    for (i, store) in stores.iter().enumerate() {
        found.extend(converged(&server, store).into_iter().map(|v| format!("device {i}: {v}")));
        found.extend(
            cursors_behind_data(&server, store).into_iter().map(|v| format!("device {i}: {v}")),
        );
    }
    assert!(found.is_empty(), "invariants violated:\n{}", found.join("\n"));
    ledger.creates.len() + server.len() * stores.len()
}
