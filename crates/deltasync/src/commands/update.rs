//! `deltasync update OBJECT ID field=value ...`: change fields of a record on this device.

use std::process::ExitCode;

use deltasync::device::Access;
use engine::edit::{EditError, Edits, parse_assignments};

use super::Ctx;
use super::output::print_edit;
use crate::cli::UpdateArgs;

pub fn run(ctx: &Ctx, args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Write)?;
    let edits = Edits::new(device.store());
    let describe = edits.describe(&args.object)?;
    let fields = parse_assignments(&describe, &args.fields).map_err(EditError::Invalid)?;
    let outcome = edits.update(&describe.name, &args.id, &fields, device.clock().now())?;
    let (object, id) = (&describe.name, &outcome.record_id);
    print_edit(ctx.json, object, &outcome, |seq| match seq {
        Some(seq) => format!("Updated {object} {id} (pending change {seq})."),
        None => format!("Updated {object} {id}: back to the server's values, nothing to upload."),
    });
    Ok(ExitCode::SUCCESS)
}
