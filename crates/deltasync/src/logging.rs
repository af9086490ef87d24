//! Logging setup: `tracing` to standard error, filtered by `--log` or `RUST_LOG`.
//!
//! Libraries never log tokens, passwords or record values, so every level is safe to enable.

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use crate::cli::GlobalArgs;

/// Keeps logging alive for the life of the process.
#[derive(Debug)]
pub struct LogGuard;

pub fn init(args: &GlobalArgs) -> anyhow::Result<LogGuard> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) if !value.is_empty() => EnvFilter::try_new(value),
        _ => EnvFilter::try_new(&args.log),
    }
    .with_context(|| format!("invalid log filter '{}'", args.log))?;
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    Ok(LogGuard)
}
