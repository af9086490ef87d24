//! `deltasync logout [--force]`: wipe the store, its key and the tokens from this device.

use std::process::ExitCode;

use deltasync::device::Access;
use serde_json::json;

use super::Ctx;
use super::output::print_json;
use crate::cli::LogoutArgs;

pub fn run(ctx: &Ctx, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Write)?;
    let username = device.session().map(|s| s.username).unwrap_or_default();
    let pending = device.pending_count()?;
    device.logout(args.force)?;
    if ctx.json {
        print_json(
            &json!({"logged_out": true, "username": username, "discarded_changes": pending}),
        );
    } else if pending > 0 {
        say!("Logged out {username}; {pending} pending change(s) discarded.");
    } else {
        say!("Logged out {username}.");
    }
    Ok(ExitCode::SUCCESS)
}
