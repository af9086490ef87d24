//! Small bridges to the client and the store: reading whole queries, record ids and
//! stamps, and the id and lookup sets the store holds.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use salesforce::SfId;
use salesforce::client::Client;
use salesforce::wire::Record;
use store::Store;

use super::SyncError;
use super::decide::PAGE_SIZE;

/// Every record a query returns, page by page.
pub(crate) async fn fetch_all(client: &Client, soql: &str) -> Result<Vec<Record>, SyncError> {
    let mut pager = client.query_pages(soql, PAGE_SIZE);
    let mut records = Vec::new();
    while let Some(page) = pager.next_page().await? {
        records.extend(page.records);
    }
    Ok(records)
}

/// The ids a query returns, page by page; `all` runs it with `queryAll` (deleted rows too).
pub(crate) async fn fetch_ids(
    client: &Client,
    object: &str,
    soql: &str,
    all: bool,
) -> Result<BTreeSet<String>, SyncError> {
    let mut pager = if all {
        client.query_all_pages(soql, PAGE_SIZE)
    } else {
        client.query_pages(soql, PAGE_SIZE)
    };
    let mut ids = BTreeSet::new();
    while let Some(page) = pager.next_page().await? {
        for record in &page.records {
            ids.insert(record_id(object, record)?);
        }
    }
    Ok(ids)
}

/// The value of `field` (compared case-insensitively) as text, if it is a string.
pub(crate) fn text_field<'r>(record: &'r Record, field: &str) -> Option<&'r str> {
    record.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)).and_then(|(_, v)| v.as_str())
}

/// The record's id in its 18-character form.
pub(crate) fn record_id(object: &str, record: &Record) -> Result<String, SyncError> {
    let bad = |reason: &str| SyncError::BadRecord { object: object.into(), reason: reason.into() };
    let text = text_field(record, "Id").ok_or_else(|| bad("has no Id"))?;
    SfId::parse(text).map(|id| id.to_string()).map_err(|_| bad("has an Id that is not an id"))
}

/// The record's `SystemModstamp`.
pub(crate) fn record_stamp(object: &str, record: &Record) -> Result<DateTime<Utc>, SyncError> {
    let bad = |reason: &str| SyncError::BadRecord { object: object.into(), reason: reason.into() };
    let text = text_field(record, "SystemModstamp").ok_or_else(|| bad("has no SystemModstamp"))?;
    salesforce::time::parse_datetime(text).map_err(|_| bad("has an unreadable SystemModstamp"))
}

/// A lookup value in 18-character form, or `None` for an empty or malformed one.
pub(crate) fn lookup_value(record: &Record, field: &str) -> Option<String> {
    text_field(record, field).and_then(|v| SfId::parse(v).ok()).map(|id| id.to_string())
}

/// The ids of the server records the store holds for `object` (local-only records left out).
pub(crate) fn held_ids(store: &Store, object: &str) -> Result<BTreeSet<String>, SyncError> {
    let ids = store.read(|r| r.record_ids(object))?;
    Ok(ids.into_iter().filter(|id| !store::pending::is_local_id(id)).collect())
}

/// For each held record of `object`, the values of `fields` that are ids.
pub(crate) fn held_lookups(
    store: &Store,
    object: &str,
    fields: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, SyncError> {
    // FIXME: this reads every held record one by one; a store query returning the
    // distinct values of one column would make it a single indexed scan.
    let ids = held_ids(store, object)?;
    let values = store.read(|r| {
        let mut out = BTreeMap::new();
        for id in &ids {
            if let Some(record) = r.get_record(object, id)? {
                let looked: BTreeMap<String, String> = fields
                    .iter()
                    .filter_map(|f| lookup_value(&record, f).map(|v| (f.clone(), v)))
                    .collect();
                out.insert(id.clone(), looked);
            }
        }
        Ok(out)
    })?;
    Ok(values)
}

/// The distinct values of lookup `field` over the held records of `object`.
pub(crate) fn held_lookup_values(
    store: &Store,
    object: &str,
    field: &str,
) -> Result<BTreeSet<String>, SyncError> {
    let lookups = held_lookups(store, object, &[field.to_string()])?;
    Ok(lookups.into_values().filter_map(|mut m| m.remove(field)).collect())
}

/// For each of `ids` the store holds, its stored `SystemModstamp` (if readable).
pub(crate) fn held_stamps(
    store: &Store,
    object: &str,
    ids: &[String],
) -> Result<BTreeMap<String, Option<DateTime<Utc>>>, SyncError> {
    let stamps = store.read(|r| {
        let mut out = BTreeMap::new();
        for id in ids {
            if let Some(record) = r.get_record(object, id)? {
                let stamp = text_field(&record, "SystemModstamp")
                    .and_then(|t| salesforce::time::parse_datetime(t).ok());
                out.insert(id.clone(), stamp);
            }
        }
        Ok(out)
    })?;
    Ok(stamps)
}
