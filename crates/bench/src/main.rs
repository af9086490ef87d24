//! `deltasync-bench`: measures priming, delta sync, upload, offline queries and devorg
//! against devorg run in-process on loopback, with deterministic seeded data, and prints
//! one table of medians and spreads with a PASS/MISS verdict for each target.
//!
//! - [`seed`]: deterministic field-service data written into devorg's database.
//! - [`scenarios`]: the run: one org per store size, scenarios in child processes.
//! - [`delta`]: delta sync at every store size, from a fresh process and a running one.
//! - [`child`]: the hidden `child` subcommand, the client side of every scenario.
//! - [`session`]: a client that stays running between delta syncs, as the app does.
//! - [`raw`]: the raw limit priming is held against.
//! - [`serve`]: devorg alone under concurrent paging clients.
//! - [`stats`], [`report`], [`svg`], [`rss`]: figures, the table and JSON, the chart, RSS.

mod child;
mod delta;
mod raw;
mod report;
mod rss;
mod scenarios;
mod seed;
mod serve;
mod session;
mod stats;
mod svg;

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

/// Benchmarks deltasync against an in-process devorg on loopback.
#[derive(Debug, Parser)]
#[command(name = "deltasync-bench", version)]
struct Cli {
    /// Records seeded (field-service mix); delta also runs at a tenth and a hundredth.
    #[arg(long, default_value_t = 100_000)]
    records: u64,
    /// Measured runs per scenario, after one warm-up run.
    #[arg(long, default_value_t = 5)]
    runs: u32,
    /// Writes every figure as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Draws delta-sync time against store size, next to full re-download, as SVG.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Scenarios to run (prime, delta, idle, full, upload, query, devorg); all by default.
    #[arg(long, value_delimiter = ',')]
    scenarios: Option<Vec<String>>,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 1)]
    seed_value: u64,
    /// Records per query page.
    #[arg(long, default_value_t = 2000)]
    page_size: u32,
    /// Concurrent clients in the devorg-alone scenario.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one client-side scenario (used by the benchmark itself).
    #[command(hide = true)]
    Child { spec: String },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(Command::Child { spec }) = &cli.command {
        return child::main(spec);
    }

    let scenarios: BTreeSet<String> = match &cli.scenarios {
        Some(list) => list.iter().map(|s| s.trim().to_string()).collect(),
        None => scenarios::SCENARIOS.iter().map(|s| s.to_string()).collect(),
    };
    if let Some(unknown) = scenarios.iter().find(|s| !scenarios::SCENARIOS.contains(&s.as_str())) {
        bail!("unknown scenario '{unknown}'; known: {}", scenarios::SCENARIOS.join(", "));
    }
    if cli.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let settings = scenarios::Settings {
        records: cli.records,
        runs: cli.runs,
        seed_value: cli.seed_value,
        scenarios,
        page_size: cli.page_size,
        clients: cli.clients.max(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(scenarios::run(&settings))?;

    let m = &report.machine;
    println!(
        "deltasync-bench: {} records, {} runs after a warm-up; {} CPUs ({}), {} memory",
        report.records, report.runs, m.cpus, m.cpu_model, m.memory
    );
    print!("{}", report.table());
    if let Some(path) = &cli.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    if let Some(path) = &cli.svg {
        let delta: Vec<(u64, f64)> =
            report.delta_by_size.iter().map(|(n, s)| (*n, s.median)).collect();
        let full = report.full_redownload.map(|s| (report.records, s.median));
        std::fs::write(path, svg::chart(&delta, full))
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(())
}
