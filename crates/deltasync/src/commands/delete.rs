//! `deltasync delete OBJECT ID`: delete a record on this device; the server follows at the
//! next sync.

use std::process::ExitCode;

use deltasync::device::Access;
use engine::edit::Edits;
use serde_json::json;

use super::Ctx;
use super::output::print_json;
use crate::cli::DeleteArgs;

pub fn run(ctx: &Ctx, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Write)?;
    let edits = Edits::new(device.store());
    let describe = edits.describe(&args.object)?;
    let outcome = edits.delete(&describe.name, &args.id, device.clock().now())?;
    if ctx.json {
        print_json(&json!({
            "object": describe.name,
            "id": outcome.record_id,
            "seq": outcome.seq,
        }));
    } else {
        match outcome.seq {
            Some(seq) => {
                println!("Deleted {} {} (pending change {seq}).", describe.name, outcome.record_id)
            }
            None => println!(
                "Deleted {} {}: it was never uploaded, so nothing is left to send.",
                describe.name, outcome.record_id
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}
