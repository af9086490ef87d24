//! `deltasync sync [--full]`: upload pending changes, then download what changed, with
//! progress; recorded in history as a `user` sync.

use std::process::ExitCode;

use deltasync::device::{Access, run_sync};
use engine::{ObjectCounts, SyncKind, SyncReport};
use serde_json::{Value, json};
use store::ScheduleEntry;
use store::history::SyncKind as Trigger;

use super::Ctx;
use super::output::{json_time, print_json};
use super::progress::ProgressView;
use crate::cli::SyncArgs;

/// The object due first.
pub fn next_due(schedule: &[ScheduleEntry]) -> Option<&ScheduleEntry> {
    schedule.iter().filter(|e| e.next_due_at.is_some()).min_by_key(|e| e.next_due_at)
}

/// `", N not stored (over max_records)"` when a run left records out for the object's
/// cap, nothing otherwise.
pub fn over_limit_note(counts: &ObjectCounts) -> String {
    if counts.over_limit == 0 {
        return String::new();
    }
    format!(", {} not stored (over max_records)", counts.over_limit)
}

/// Prints a finished run's counts, per object, as text.
pub fn print_report(report: &SyncReport) {
    let up = &report.upload;
    if up.uploaded + up.failed + up.conflicts > 0 {
        say!(
            "Uploaded {} change(s); {} failed, {} conflict(s).",
            up.uploaded,
            up.failed,
            up.conflicts
        );
    }
    for (object, c) in &report.objects {
        say!(
            "{object}: {} new, {} updated, {} deleted, {} left scope, {} entered scope{}",
            c.new,
            c.updated,
            c.deleted,
            c.left_scope,
            c.entered_scope,
            over_limit_note(c)
        );
    }
}

pub async fn run(ctx: &Ctx, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Write)?;
    let engine = device.engine().await?;
    let kind = if args.full { SyncKind::Full } else { SyncKind::Delta };
    let mut view = ProgressView::new(ctx.json);
    let run = run_sync(&engine, Trigger::User, kind, &mut |e| view.event(e)).await?;
    let schedule = device.store().read(|r| r.schedule())?;
    let next = next_due(&schedule);
    if ctx.json {
        print_json(&json!({
            "event_id": run.event_id,
            "upload": run.report.upload,
            "objects": run.report.objects,
            "next_sync": next.map_or(Value::Null, |e| json!({
                "object": e.object,
                "at": json_time(e.next_due_at),
            })),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    print_report(&run.report);
    if let Some(entry) = next
        && let Some(at) = entry.next_due_at
    {
        say!("next sync: {} at {}", entry.object, at.with_timezone(&chrono::Local).format("%H:%M"));
    }
    Ok(ExitCode::SUCCESS)
}
