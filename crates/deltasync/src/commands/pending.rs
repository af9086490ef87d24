//! `deltasync pending`: changes waiting for upload, with their state and the server's
//! reason; `retry SEQ`, `discard SEQ` and `resolve SEQ field=local|server|VALUE ...`, or
//! `resolve SEQ recreate` for an edited record the server deleted.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::bail;
use deltasync::device::{Access, Device};
use engine::edit::{Edits, parse::parse_value};
use engine::upload::conflict::is_deleted_on_server;
use engine::upload::recreate::recreate;
use serde_json::{Value, json};
use store::{PendingChange, Resolution};

use super::Ctx;
use super::output::{json_time, print_json, print_table};
use crate::cli::{PendingAction, PendingArgs};

/// The choice that creates again a record the server deleted while it was edited here.
const RECREATE: &str = "recreate";

/// The server's reason a change failed, as one line.
fn reason(change: &PendingChange) -> Option<String> {
    if is_deleted_on_server(change) {
        return Some(format!(
            "deleted on the server: 'pending resolve {} {RECREATE}' creates it again, \
             'pending discard {}' drops the edit",
            change.seq, change.seq
        ));
    }
    let error = change.error.as_ref()?;
    let first = match error {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    let message = first.get("message").and_then(Value::as_str);
    let code = first.get("errorCode").or_else(|| first.get("statusCode")).and_then(Value::as_str);
    Some(match (code, message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (None, Some(m)) => m.to_owned(),
        _ => error.to_string(),
    })
}

fn change_json(c: &PendingChange) -> Value {
    json!({
        "seq": c.seq,
        "object": c.object,
        "record_id": c.record_id,
        "op": c.op.as_str(),
        "state": c.state.as_str(),
        "fields": c.fields,
        "server_values": c.server_values,
        "deleted_on_server": is_deleted_on_server(c),
        "reason": reason(c),
        "error": c.error,
        "attempts": c.attempts,
        "created_at": json_time(Some(c.created_at)),
        "updated_at": json_time(Some(c.updated_at)),
    })
}

pub fn run(ctx: &Ctx, args: PendingArgs) -> anyhow::Result<ExitCode> {
    let Some(action) = args.action else {
        return list(ctx);
    };
    let device = ctx.open(Access::Write)?;
    let now = device.clock().now();
    let (verb, seq) = match action {
        PendingAction::Retry { seq } => {
            device.store().write(|tx| tx.retry(seq, now))?;
            ("queued again", seq)
        }
        PendingAction::Discard { seq } => {
            device.store().write(|tx| tx.discard(seq, now))?;
            ("discarded", seq)
        }
        PendingAction::Resolve { seq, choices } => {
            let change = device.store().read(|r| r.pending_change(seq))?;
            if is_deleted_on_server(&change) {
                if choices != [RECREATE] {
                    bail!(
                        "change {seq}: {} {} was deleted on the server; \
                         'pending resolve {seq} {RECREATE}' creates it again with this device's \
                         values, 'pending discard {seq}' drops the edit",
                        change.object,
                        change.record_id
                    );
                }
                recreate(device.store(), seq, now)?;
                ("queued to be created again", seq)
            } else {
                let choices = resolutions(&device, seq, &choices)?;
                device.store().write(|tx| tx.resolve(seq, &choices, now))?;
                ("resolved", seq)
            }
        }
    };
    if ctx.json {
        print_json(&json!({"seq": seq, "result": verb.replace(' ', "_")}));
    } else {
        say!("Pending change {seq} {verb}.");
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads `field=local`, `field=server` or `field=VALUE` for a conflict's fields.
fn resolutions(
    device: &Device,
    seq: i64,
    choices: &[String],
) -> anyhow::Result<BTreeMap<String, Resolution>> {
    let change = device.store().read(|r| r.pending_change(seq))?;
    let describe = Edits::new(device.store()).describe(&change.object)?;
    let mut out = BTreeMap::new();
    for choice in choices {
        let Some((name, value)) = choice.split_once('=') else {
            bail!("'{choice}': expected field=local, field=server or field=VALUE");
        };
        let Some(field) = describe.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)) else {
            bail!("{name}: no such field on {}", describe.name);
        };
        let resolution = match value {
            "local" => Resolution::KeepLocal,
            "server" => Resolution::TakeServer,
            other => Resolution::Value(
                parse_value(&field.field_type, other)
                    .map_err(|m| anyhow::anyhow!("{}: {m}", field.name))?,
            ),
        };
        out.insert(field.name.clone(), resolution);
    }
    Ok(out)
}

fn list(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Read)?;
    let changes = device.store().read(|r| r.pending_changes(&Default::default()))?;
    if ctx.json {
        print_json(&json!({ "changes": changes.iter().map(change_json).collect::<Vec<_>>() }));
        return Ok(ExitCode::SUCCESS);
    }
    if changes.is_empty() {
        say!("No pending changes.");
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            vec![
                c.seq.to_string(),
                c.state.as_str().into(),
                c.op.as_str().into(),
                c.object.clone(),
                c.record_id.clone(),
                c.fields.keys().cloned().collect::<Vec<_>>().join(","),
                reason(c).unwrap_or_default(),
            ]
        })
        .collect();
    let headers = ["SEQ", "STATE", "OP", "OBJECT", "RECORD", "FIELDS", "REASON"].map(String::from);
    print_table(&headers, &rows);
    Ok(ExitCode::SUCCESS)
}
