//! `deltasync delete OBJECT ID`: delete a record on this device; the server follows at the
//! next sync.

use std::process::ExitCode;

use deltasync::device::Access;
use engine::edit::Edits;

use super::Ctx;
use super::output::print_edit;
use crate::cli::DeleteArgs;

pub fn run(ctx: &Ctx, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Write)?;
    let edits = Edits::new(device.store());
    let describe = edits.describe(&args.object)?;
    let outcome = edits.delete(&describe.name, &args.id, device.clock().now())?;
    let (object, id) = (&describe.name, &outcome.record_id);
    print_edit(ctx.json, object, &outcome, |seq| match seq {
        Some(seq) => format!("Deleted {object} {id} (pending change {seq})."),
        None => {
            format!("Deleted {object} {id}: it was never uploaded, so nothing is left to send.")
        }
    });
    Ok(ExitCode::SUCCESS)
}
