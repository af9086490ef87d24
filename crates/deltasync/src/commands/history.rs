//! `deltasync history` (newest first) and `deltasync history show ID`.

use std::process::ExitCode;

use deltasync::device::Access;
use serde_json::{Value, json};
use store::{EventRecord, SyncEvent};

use super::Ctx;
use super::output::{json_time, local_time, print_json, print_table};
use crate::cli::{HistoryAction, HistoryArgs};

fn event_json(e: &SyncEvent) -> Value {
    json!({
        "id": e.id,
        "kind": e.kind.as_str(),
        "started_at": json_time(Some(e.started_at)),
        "ended_at": json_time(e.ended_at),
        "outcome": e.outcome.map(|o| o.as_str()),
        "reason": e.reason,
        "counts": e.counts,
        "upload": e.upload_counts,
        "records": e.detail_total,
        "truncated": e.truncated,
    })
}

fn record_json(r: &EventRecord) -> Value {
    json!({
        "object": r.object,
        "record_id": r.record_id,
        "name": r.display_name,
        "action": r.action.as_str(),
        "detail": r.detail,
    })
}

/// Records a run brought in, changed or removed, summed over objects.
fn total_changes(counts: &Value) -> u64 {
    let Some(objects) = counts.as_object() else { return 0 };
    objects
        .values()
        .map(|c| {
            ["new", "updated", "deleted", "left_scope", "entered_scope"]
                .iter()
                .map(|k| c[*k].as_u64().unwrap_or(0))
                .sum::<u64>()
        })
        .sum()
}

pub fn run(ctx: &Ctx, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Read)?;
    if let Some(HistoryAction::Show { id }) = args.action {
        let (event, records) = device.store().read(|r| {
            let event = r.sync_event(id)?.ok_or(store::StoreError::NoSuchEvent(id))?;
            Ok((event, r.sync_event_records(id)?))
        })?;
        if ctx.json {
            let mut value = event_json(&event);
            value["detail"] = Value::Array(records.iter().map(record_json).collect());
            print_json(&value);
            return Ok(ExitCode::SUCCESS);
        }
        say!(
            "Sync {} ({}), started {}, {}",
            event.id,
            event.kind.as_str(),
            local_time(event.started_at),
            event.outcome.map_or("running or interrupted", |o| o.as_str())
        );
        if let Some(reason) = &event.reason {
            say!("reason: {reason}");
        }
        if let Some(objects) = event.counts.as_object() {
            for (object, c) in objects {
                say!("  {object}: {c}");
            }
        }
        for r in &records {
            say!(
                "  {} {} {} {}",
                r.action.as_str(),
                r.object,
                r.record_id,
                r.display_name.as_deref().unwrap_or("")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }

    let events = device.store().read(|r| r.sync_events(args.limit, None))?;
    if ctx.json {
        print_json(&json!({ "events": events.iter().map(event_json).collect::<Vec<_>>() }));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.kind.as_str().into(),
                local_time(e.started_at),
                e.outcome.map_or("-", |o| o.as_str()).into(),
                total_changes(&e.counts).to_string(),
                e.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let headers = ["ID", "KIND", "STARTED", "OUTCOME", "CHANGES", "REASON"].map(String::from);
    print_table(&headers, &rows);
    Ok(ExitCode::SUCCESS)
}
