//! `deltasync schedule`: each object's interval, last sync and next due time.

use std::process::ExitCode;

use deltasync::device::Access;
use serde_json::{Value, json};

use super::Ctx;
use super::output::{json_time, local_time, print_json, print_table};

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Read)?;
    let entries = device.store().read(|r| r.schedule())?;
    if ctx.json {
        let rows: Vec<Value> = entries
            .iter()
            .map(|e| {
                json!({
                    "object": e.object,
                    "interval_secs": e.interval_secs,
                    "last_sync_at": json_time(e.last_sync_at),
                    "next_due_at": json_time(e.next_due_at),
                })
            })
            .collect();
        print_json(&json!({ "objects": rows }));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.object.clone(),
                interval_text(e.interval_secs),
                e.last_sync_at.map(local_time).unwrap_or_else(|| "never".into()),
                e.next_due_at.map(local_time).unwrap_or_default(),
            ]
        })
        .collect();
    let headers = ["OBJECT", "INTERVAL", "LAST SYNC", "NEXT DUE"].map(String::from);
    print_table(&headers, &rows);
    Ok(ExitCode::SUCCESS)
}

/// `900` as `15m`, `86400` as `1d`.
pub fn interval_text(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
