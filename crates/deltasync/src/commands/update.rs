//! `deltasync update OBJECT ID field=value ...`: change fields of a record on this device.

use std::process::ExitCode;

use deltasync::device::Access;
use engine::edit::{EditError, Edits, parse_assignments};
use serde_json::json;

use super::Ctx;
use super::output::print_json;
use crate::cli::UpdateArgs;

pub fn run(ctx: &Ctx, args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Write)?;
    let edits = Edits::new(device.store());
    let describe = edits.describe(&args.object)?;
    let fields = parse_assignments(&describe, &args.fields).map_err(EditError::Invalid)?;
    let outcome = edits.update(&describe.name, &args.id, &fields, device.clock().now())?;
    if ctx.json {
        print_json(&json!({
            "object": describe.name,
            "id": outcome.record_id,
            "seq": outcome.seq,
        }));
    } else {
        match outcome.seq {
            Some(seq) => {
                println!("Updated {} {} (pending change {seq}).", describe.name, outcome.record_id)
            }
            None => println!(
                "Updated {} {}: back to the server's values, nothing to upload.",
                describe.name, outcome.record_id
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}
