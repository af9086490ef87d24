//! `deltasync create OBJECT field=value ...`: a new record on this device, uploaded with
//! the next sync.

use std::process::ExitCode;

use deltasync::device::Access;
use engine::edit::{EditError, Edits, parse_assignments};

use super::Ctx;
use super::output::print_edit;
use crate::cli::CreateArgs;

pub fn run(ctx: &Ctx, args: CreateArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Write)?;
    let edits = Edits::new(device.store());
    let describe = edits.describe(&args.object)?;
    let fields = parse_assignments(&describe, &args.fields).map_err(EditError::Invalid)?;
    let outcome = edits.create(&describe.name, &fields, device.clock().now())?;
    let (object, id) = (&describe.name, &outcome.record_id);
    print_edit(ctx.json, object, &outcome, |seq| {
        let seq = seq.map_or_else(|| "-".into(), |s| s.to_string());
        format!("Created {object} {id} (pending change {seq}); it uploads with the next sync.")
    });
    Ok(ExitCode::SUCCESS)
}
