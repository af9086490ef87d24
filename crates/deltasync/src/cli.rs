//! Command-line arguments: the global options and one variant per subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "deltasync", version, about = "Offline-first delta sync for Salesforce data")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Folder holding the local store, its key file and logs.
    #[arg(long, global = true, env = "DELTASYNC_HOME")]
    pub data_dir: Option<PathBuf>,
    /// Log filter, e.g. `info` or `engine=debug` (also `RUST_LOG`).
    #[arg(long, global = true, env = "DELTASYNC_LOG", default_value = "info")]
    pub log: String,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start devorg, log in as a demo technician, prime, and run the app.
    Demo(DemoArgs),
    /// Run the Salesforce-compatible development org.
    Devorg(DevorgArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many records the field-service seed creates.
    #[arg(long, default_value_t = 2000)]
    pub records: u64,
}

#[derive(Debug, Args)]
pub struct DevorgArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: String,
    /// Folder for persistent storage; in memory when absent.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Seed data set to load into an empty org.
    #[arg(long)]
    pub seed: Option<String>,
    /// Number of records the seed creates.
    #[arg(long, default_value_t = 2000)]
    pub records: u64,
    /// Seed value that makes the data set deterministic.
    #[arg(long, default_value_t = 1)]
    pub seed_value: u64,
    /// Serve HTTPS with a self-signed certificate written to the data folder.
    #[arg(long)]
    pub tls: bool,
}
