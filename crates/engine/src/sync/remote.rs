//! Small bridges to the client and the store: reading whole queries, record ids and
//! stamps, and the id and lookup sets the store holds: whole sets for priming and
//! reconciliation, membership checks of a few candidates for delta sync.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use salesforce::SfId;
use salesforce::client::{Client, QueryPager};
use salesforce::wire::{QueryResult, Record};
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
/// `first` is its first page when that was read ahead.
pub(crate) async fn fetch_ids(
    client: &Client,
    object: &str,
    soql: &str,
    all: bool,
    first: Option<Result<QueryResult, salesforce::client::Error>>,
) -> Result<BTreeSet<String>, SyncError> {
    let mut pager = pages(client, soql, all, PAGE_SIZE, first)?;
    let mut ids = BTreeSet::new();
    while let Some(page) = pager.next_page().await? {
        for record in &page.records {
            ids.insert(record_id(object, record)?);
        }
    }
    Ok(ids)
}

/// A pager over a query, starting from `first` when its first page was read ahead.
pub(crate) fn pages(
    client: &Client,
    soql: &str,
    all: bool,
    batch_size: u32,
    first: Option<Result<QueryResult, salesforce::client::Error>>,
) -> Result<QueryPager, SyncError> {
    Ok(match first {
        Some(page) => client.pages_from(page?, batch_size),
        None if all => client.query_all_pages(soql, batch_size),
        None => client.query_pages(soql, batch_size),
    })
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

/// Which of `ids` the store holds for `object`: a membership check that costs what `ids`
/// costs, not what the store holds.
pub(crate) fn held_among<'i>(
    store: &Store,
    object: &str,
    ids: impl IntoIterator<Item = &'i String>,
) -> Result<BTreeSet<String>, SyncError> {
    let ids: Vec<String> =
        ids.into_iter().filter(|id| !store::pending::is_local_id(id)).cloned().collect();
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(store.read_on_writer(|r| r.stored_among(object, &ids))?)
}

/// Which of `targets` the lookup `field` of some held `object` record points to.
pub(crate) fn held_targets<'i>(
    store: &Store,
    object: &str,
    field: &str,
    targets: impl IntoIterator<Item = &'i String>,
) -> Result<BTreeSet<String>, SyncError> {
    batch_read(store, targets, |r, targets| r.values_among(object, field, targets))
}

/// The held records of `object` whose lookup `field` points to one of `parents`.
pub(crate) fn held_children<'i>(
    store: &Store,
    object: &str,
    field: &str,
    parents: impl IntoIterator<Item = &'i String>,
) -> Result<BTreeSet<String>, SyncError> {
    batch_read(store, parents, |r, parents| r.ids_referencing(object, field, parents))
}

/// Runs one batched store lookup over `values`, reading nothing when there are none.
fn batch_read<'i>(
    store: &Store,
    values: impl IntoIterator<Item = &'i String>,
    lookup: impl FnOnce(&store::Reader<'_>, &[String]) -> Result<BTreeSet<String>, store::StoreError>,
) -> Result<BTreeSet<String>, SyncError> {
    let values: Vec<String> = values.into_iter().cloned().collect();
    if values.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(store.read_on_writer(|r| lookup(r, &values))?)
}

/// For each held record of `object`, the values of `fields` that are ids.
pub(crate) fn held_lookups(
    store: &Store,
    object: &str,
    fields: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, SyncError> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for field in fields {
        for (id, value) in store.read(|r| r.references(object, field))? {
            if let Ok(value) = SfId::parse(&value) {
                out.entry(id).or_default().insert(field.clone(), value.to_string());
            }
        }
    }
    Ok(out)
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
