//! `deltasync app` and `deltasync demo`: the long-running app, and the demo around it.

use std::process::ExitCode;

use crate::cli::{AppArgs, DemoArgs};

use super::Ctx;

fn not_yet(what: &str) -> anyhow::Result<ExitCode> {
    eprintln!(
        "deltasync {what}: not yet available in this build; see README.md for what works today"
    );
    Ok(ExitCode::from(2))
}

// FIXME: the long-running app (scheduler, connectivity watcher, web app) has no entry point
// in the library yet; once `deltasync::app::run` exists these delegate to it.
pub async fn run_app(_ctx: &Ctx, _args: AppArgs) -> anyhow::Result<ExitCode> {
    not_yet("app")
}

pub async fn run_demo(_ctx: &Ctx, _args: DemoArgs) -> anyhow::Result<ExitCode> {
    not_yet("demo")
}
