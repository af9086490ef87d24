//! `deltasync status`: who is logged in, whether the org answers, each object's records,
//! last sync and next due time, and the pending changes.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use deltasync::device::{Access, Device};
use serde_json::{Value, json};
use store::SyncEvent;

use super::Ctx;
use super::output::{json_time, key_home_json, local_time, print_json, print_table};

/// How long the online check waits for the org.
const ONLINE_TIMEOUT: Duration = Duration::from_secs(5);

/// A cheap authenticated call with a short timeout.
async fn online(device: &Device) -> bool {
    let Ok(client) = device.client(Some(ONLINE_TIMEOUT)) else { return false };
    matches!(tokio::time::timeout(ONLINE_TIMEOUT, client.limits()).await, Ok(Ok(_)))
}

/// History events searched for each object's last download counts.
const RECENT_EVENTS: usize = 100;

/// Per object, the records its last download left out for `max_records`, from the newest
/// history event (of `events`, newest first) that counted the object.
fn over_limit(events: &[SyncEvent]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for event in events {
        let Some(objects) = event.counts.as_object() else { continue };
        for (object, counts) in objects {
            if !out.contains_key(object) {
                out.insert(object.clone(), counts["over_limit"].as_u64().unwrap_or(0));
            }
        }
    }
    out
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Read)?;
    let saved = device.session()?;
    let online = online(&device).await;
    let (schedule, counts, pending, over) = device.store().read(|r| {
        let schedule = r.schedule()?;
        let mut counts = Vec::new();
        for entry in &schedule {
            let records = match r.count(&entry.object) {
                Ok(n) => n,
                Err(store::StoreError::UnknownObject(_)) => 0,
                Err(e) => return Err(e),
            };
            counts.push(records);
        }
        let pending: u64 = r.pending_counts()?.iter().map(|(_, n)| n).sum();
        let over = over_limit(&r.sync_events(RECENT_EVENTS, None)?);
        Ok((schedule, counts, pending, over))
    })?;
    let mut schedule: Vec<_> = schedule.into_iter().zip(counts).collect();
    schedule.sort_by(|a, b| a.0.object.cmp(&b.0.object));

    if ctx.json {
        let objects: Vec<Value> = schedule
            .iter()
            .map(|(e, records)| {
                json!({
                    "object": e.object,
                    "records": records,
                    "over_limit": over.get(&e.object).copied().unwrap_or(0),
                    "last_sync_at": json_time(e.last_sync_at),
                    "next_due_at": json_time(e.next_due_at),
                })
            })
            .collect();
        print_json(&json!({
            "user": {
                "username": saved.username,
                "user_id": saved.session.user_id,
                "org_id": saved.session.org_id,
                "instance_url": saved.session.instance_url,
            },
            "online": online,
            "pending": pending,
            "store_key": key_home_json(device.key_home()),
            "objects": objects,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    say!("User:    {} ({})", saved.username, saved.session.user_id);
    say!("Org:     {} at {}", saved.session.org_id, saved.session.instance_url);
    say!("Network: {}", if online { "online" } else { "offline" });
    say!("Pending: {pending} change(s)");
    say!("Key:     in {}", device.key_home());
    say!();
    let rows: Vec<Vec<String>> = schedule
        .iter()
        .map(|(e, records)| {
            vec![
                e.object.clone(),
                records.to_string(),
                e.last_sync_at.map(local_time).unwrap_or_else(|| "never".into()),
                e.next_due_at.map(local_time).unwrap_or_default(),
            ]
        })
        .collect();
    let headers = ["OBJECT", "RECORDS", "LAST SYNC", "NEXT DUE"].map(String::from);
    print_table(&headers, &rows);
    for (e, _) in &schedule {
        if let Some(n) = over.get(&e.object).filter(|n| **n > 0) {
            say!(
                "{}: {n} record(s) in scope not stored at the last sync (over max_records)",
                e.object
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
