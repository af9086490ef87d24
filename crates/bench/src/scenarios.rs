//! The benchmark run: for each store size, starts devorg in-process, seeds it, and drives
//! the client-side scenarios in child processes, collecting every figure into a [`Report`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use anyhow::{Context, Result, bail};
use chrono::Duration;
use devorg::{Config, DevOrg, RunningOrg};
use serde_json::json;

use crate::child::{ChildOp, ChildResult, ChildSpec};
use crate::report::{Machine, Report};
use crate::seed::{self, Seeded, TECH};
use crate::stats::{Summary, percentile};

/// Every scenario name `--scenarios` takes.
pub const SCENARIOS: &[&str] = &["prime", "delta", "idle", "full", "upload", "query", "devorg"];

/// Objects in the profile, each due in a delta sync.
pub const DUE_OBJECTS: u64 = 7;

/// Server-side changes before each delta run.
pub const DELTA_CHANGES: usize = 100;

/// How the benchmark runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub records: u64,
    pub runs: u32,
    pub seed_value: u64,
    pub scenarios: BTreeSet<String>,
    pub page_size: u32,
    /// Concurrent clients in the devorg-alone scenario.
    pub clients: usize,
}

impl Settings {
    fn wants(&self, scenario: &str) -> bool {
        self.scenarios.contains(scenario)
    }
}

/// Store sizes the delta scenario runs at: a hundredth, a tenth and all of `records`,
/// skipping sizes under 100.
pub fn store_sizes(records: u64) -> Vec<u64> {
    let mut sizes: Vec<u64> =
        [records / 100, records / 10, records].into_iter().filter(|n| *n >= 100).collect();
    sizes.dedup();
    if sizes.is_empty() {
        sizes.push(records);
    }
    sizes
}

async fn start_org() -> Result<RunningOrg> {
    let config = Config {
        api_daily_limit: u64::MAX / 2,
        token_ttl: StdDuration::from_secs(30 * 86_400),
        max_body_bytes: 64 * 1024 * 1024,
        ..Config::default()
    };
    Ok(DevOrg::start(config).await?)
}

/// Runs this binary's hidden `child` subcommand and reads its result.
pub async fn child(spec: &ChildSpec) -> Result<ChildResult> {
    let exe = std::env::current_exe().context("the benchmark's own path")?;
    let output = tokio::process::Command::new(exe)
        .arg("child")
        .arg(serde_json::to_string(spec)?)
        .output()
        .await?;
    // The child's log (RUST_LOG), after it ends: `output` collects standard error.
    std::io::Write::write_all(&mut std::io::stderr(), &output.stderr)?;
    if !output.status.success() {
        bail!("child {:?} failed ({})", spec.op, output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().context("child printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("child result: {line}"))
}

/// One org with `size` records and the state the scenarios share.
pub struct Stage {
    org: RunningOrg,
    seeded: Seeded,
    pub offset_ms: i64,
    page_size: u32,
    /// The client's data directory.
    dir: PathBuf,
    /// Records seeded.
    pub n: u64,
}

impl Stage {
    pub fn spec(&self, op: ChildOp, n: u64, run: u64) -> ChildSpec {
        self.spec_in(op, &self.dir, n, run)
    }

    /// The data directory of the client that stays running between delta syncs.
    pub fn app_dir(&self) -> PathBuf {
        self.dir.with_extension("app")
    }

    /// [`Stage::spec`] for a client with its data in `dir`.
    pub fn spec_in(&self, op: ChildOp, dir: &Path, n: u64, run: u64) -> ChildSpec {
        ChildSpec {
            op,
            url: self.org.url().to_string(),
            store_dir: dir.to_path_buf(),
            clock_offset_ms: self.offset_ms,
            page_size: self.page_size,
            n,
            run,
        }
    }

    /// Moves devorg's clock (and the children's) an hour on, past every overlap window.
    pub fn advance(&mut self) {
        self.org.clock().advance(Duration::hours(1));
        self.offset_ms += 3_600_000;
    }

    /// Changes [`DELTA_CHANGES`] line items (or all, if fewer) on the server, spread over
    /// the whole set and different from run to run; returns how many.
    pub fn change(&self, run: u64) -> Result<u64> {
        let items = &self.seeded.line_items;
        let step = (items.len() / DELTA_CHANGES).max(1);
        let mut changed = 0;
        // Each run starts seven items on from the last: runs change different items until
        // the start wraps around the stride.
        let first = (run as usize).wrapping_mul(7) % step;
        for (i, id) in items.iter().skip(first).step_by(step).take(DELTA_CHANGES).enumerate() {
            let body = json!({"Subject": format!("Changed on the server {run} #{i}")});
            self.org
                .admin()
                .update(TECH, "WorkOrderLineItem", id, body)
                .map_err(|e| anyhow::anyhow!("server change: {e:?}"))?;
            changed += 1;
        }
        Ok(changed)
    }
}

pub fn summary(values: &[f64]) -> Result<Summary> {
    Summary::of(values).context("no measured runs")
}

/// Adds a scenario's requests per run, held against at most `allowed` (`rule` says why).
pub fn add_requests(
    report: &mut Report,
    scenario: &str,
    requests: &[f64],
    allowed: u64,
    rule: &str,
) -> Result<()> {
    let req = summary(requests)?;
    let target = format!("≤ {allowed} ({rule})");
    report.add_checked(scenario, "requests", "", req, target, req.median <= allowed as f64);
    Ok(())
}

/// Runs the scenarios and returns every figure.
pub async fn run(settings: &Settings) -> Result<Report> {
    let mut report = Report {
        machine: Machine::current(),
        records: settings.records,
        runs: settings.runs,
        rows: Vec::new(),
        delta_by_size: Vec::new(),
        full_redownload: None,
    };
    let work = tempfile::tempdir()?;
    let sizes = store_sizes(settings.records);
    let largest = *sizes.last().unwrap_or(&settings.records);
    let measured = |run: u32| run > 0;

    // Every size is seeded (and its store primed) first, so that the delta runs can take
    // turns between sizes: a spell of noise on the machine then falls on every size
    // alike instead of on whichever was being measured.
    let mut stages = Vec::new();
    for size in sizes {
        let org = start_org().await?;
        let seeded = seed::seed(&org, size, settings.seed_value)?;
        let n = seeded.records;
        eprintln!("[bench] {n} records seeded");
        let dir: PathBuf = work.path().join(format!("store-{size}"));
        let stage = Stage { org, seeded, offset_ms: 0, page_size: settings.page_size, dir, n };
        let top = size == largest;

        if top && (settings.wants("prime") || settings.wants("full")) {
            prime_scenario(&stage, &mut report, settings, work.path(), n).await?;
        }
        let needs_store = settings.wants("delta")
            || top && ["idle", "upload", "query"].iter().any(|s| settings.wants(s));
        if needs_store {
            child(&stage.spec(ChildOp::Prime, 0, 0)).await?;
        }
        if settings.wants("delta") {
            child(&stage.spec_in(ChildOp::Prime, &stage.app_dir(), 0, 0)).await?;
        }
        stages.push(stage);
    }
    if settings.wants("delta") {
        crate::delta::delta_scenario(&mut stages, &mut report, settings).await?;
    }

    // The other scenarios run on the largest store alone.
    let mut stage = stages.pop().context("no store size to run")?;
    for smaller in stages {
        smaller.org.shutdown().await;
    }
    let n = stage.n;
    if settings.wants("idle") {
        let (mut secs, mut requests) = (Vec::new(), Vec::new());
        for run in 0..=settings.runs {
            stage.advance();
            let r = child(&stage.spec(ChildOp::Delta, 0, run.into())).await?;
            if measured(run) {
                secs.push(r.secs);
                requests.push(r.requests as f64);
            }
        }
        let scenario = format!("delta, nothing changed, {n} stored");
        report.add(&scenario, "wall time", "s", summary(&secs)?);
        add_requests(&mut report, &scenario, &requests, DUE_OBJECTS, "1 per due object")?;
    }

    if settings.wants("upload") {
        let updates = (stage.seeded.line_items.len() as u64).min(10_000);
        let creates = (n / 10).clamp(1, 1_000);
        for (op, count, scenario) in [
            (ChildOp::UploadUpdates, updates, format!("upload, {updates} updates")),
            (
                ChildOp::UploadCreates,
                creates,
                format!("upload, {creates} creates + {creates} children"),
            ),
        ] {
            let (mut secs, mut requests, mut sent) = (Vec::new(), Vec::new(), 0);
            for run in 0..=settings.runs {
                let r = child(&stage.spec(op, count, run.into())).await?;
                if measured(run) {
                    secs.push(r.secs);
                    requests.push(r.requests as f64);
                    sent = r.records;
                }
            }
            report.add(&scenario, "wall time", "s", summary(&secs)?);
            let allowed = sent.div_ceil(200) + 5;
            let rule = format!("ceil({sent}/200) + 5");
            add_requests(&mut report, &scenario, &requests, allowed, &rule)?;
        }
    }

    if settings.wants("query") {
        let mut per_kind: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
        for run in 0..=settings.runs {
            let r = child(&stage.spec(ChildOp::Query, 0, run.into())).await?;
            if !measured(run) {
                continue;
            }
            for (kind, times) in r.latencies_ms {
                let (p50, p99) = (percentile(&times, 50.0), percentile(&times, 99.0));
                match per_kind.iter_mut().find(|k| k.0 == kind) {
                    Some(k) => {
                        k.1.push(p50);
                        k.2.push(p99);
                    }
                    None => per_kind.push((kind, vec![p50], vec![p99])),
                }
            }
        }
        for (kind, p50, p99) in per_kind {
            let scenario = format!("offline query, {kind}, {n} stored");
            let s = summary(&p50)?;
            if kind == "indexed filter" {
                report.add_checked(&scenario, "p50", "ms", s, "< 5 ms".into(), s.median < 5.0);
            } else {
                report.add(&scenario, "p50", "ms", s);
            }
            report.add(&scenario, "p99", "ms", summary(&p99)?);
        }
    }

    if settings.wants("devorg") {
        devorg_scenario(&stage, &mut report, settings, n).await?;
    }
    stage.org.shutdown().await;

    if let (Some(full), Some(delta)) = (report.full_redownload, report.delta_by_size.last()) {
        let speedup = full.median / delta.1.median.max(1e-9);
        let s = Summary { median: speedup, min: speedup, max: speedup };
        report.add(&format!("full re-download vs delta, {} stored", delta.0), "speed-up", "×", s);
    }
    Ok(report)
}

/// Pages a single client waits for in each run of the one-page figure.
const SINGLE_CLIENT_PAGES: usize = 30;

/// devorg alone: one client's time per page (as the technician, under sharing), then
/// `clients` concurrent clients, each a user of its own.
async fn devorg_scenario(
    stage: &Stage,
    report: &mut Report,
    settings: &Settings,
    n: u64,
) -> Result<()> {
    let (mut p50, mut p99) = (Vec::new(), Vec::new());
    for run in 0..=settings.runs {
        let times = crate::serve::page_times(stage.org.url(), TECH, SINGLE_CLIENT_PAGES).await?;
        if run > 0 {
            p50.push(percentile(&times, 50.0));
            p99.push(percentile(&times, 99.0));
        }
    }
    let scenario = format!(
        "devorg alone, 1 client, one page of ≤ 2,000 records × 20 fields, {n} stored ({SINGLE_CLIENT_PAGES} pages)"
    );
    report.add(&scenario, "p50", "ms", summary(&p50)?);
    report.add(&scenario, "p99", "ms", summary(&p99)?);

    let users = crate::serve::LoadUsers::prepare(&stage.org, settings.clients)?;
    let (mut pages, mut records, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=settings.runs {
        let load = crate::serve::run(stage.org.url(), &users).await?;
        if let Some(first) = &load.first_error {
            eprintln!(
                "[bench] devorg alone, run {run}: {} of {} clients failed; first error: {first}",
                load.errors, settings.clients
            );
        }
        if run > 0 {
            pages.push(load.pages_per_sec);
            records.push(load.records_per_sec);
            errors.push(load.errors as f64);
        }
    }
    users.finish(&stage.org)?;
    let scenario =
        format!("devorg alone, {} clients (one user each), 2,000-record pages", settings.clients);
    report.add(&scenario, "pages/s", "", summary(&pages)?);
    report.add(&scenario, "records/s", "", summary(&records)?);
    let e = summary(&errors)?;
    report.add_checked(&scenario, "errors", "", e, "0".into(), e.max == 0.0);
    Ok(())
}

/// Priming against the raw limit, each run into an empty store.
async fn prime_scenario(
    stage: &Stage,
    report: &mut Report,
    settings: &Settings,
    work: &Path,
    n: u64,
) -> Result<()> {
    let (mut raw_rate, mut rate, mut secs, mut rss) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..=settings.runs {
        let raw_dir = work.join(format!("raw-{run}"));
        let raw = child(&stage.spec_in(ChildOp::Raw, &raw_dir, 0, run.into())).await?;
        std::fs::remove_dir_all(&raw_dir).ok();
        let dir = work.join(format!("prime-{run}"));
        let prime = child(&stage.spec_in(ChildOp::Prime, &dir, 0, run.into())).await?;
        std::fs::remove_dir_all(&dir).ok();
        if prime.records != raw.records {
            bail!("priming stored {} records, the raw loop {}", prime.records, raw.records);
        }
        eprintln!("[bench] prime run {run}: {:.2}s (raw {:.2}s)", prime.secs, raw.secs);
        if run > 0 {
            raw_rate.push(raw.records as f64 / raw.secs);
            rate.push(prime.records as f64 / prime.secs);
            secs.push(prime.secs);
            rss.push(prime.peak_rss_kb as f64 / 1024.0);
        }
    }
    let scenario = format!("priming {n} records");
    let raw = summary(&raw_rate)?;
    report.add(&scenario, "raw limit", "records/s", raw);
    let r = summary(&rate)?;
    report.add_checked(
        &scenario,
        "engine",
        "records/s",
        r,
        format!("≥ {} (½ raw)", crate::report::fmt(raw.median / 2.0)),
        r.median * 2.0 >= raw.median,
    );
    let m = summary(&rss)?;
    report.add_checked(&scenario, "peak RSS", "MB", m, "< 200 MB".into(), m.median < 200.0);
    let full = summary(&secs)?;
    report.add(&format!("full re-download, {n} stored"), "wall time", "s", full);
    report.full_redownload = Some(full);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_a_hundredth_a_tenth_and_all() {
        assert_eq!(store_sizes(1_000_000), vec![10_000, 100_000, 1_000_000]);
        assert_eq!(store_sizes(100_000), vec![1_000, 10_000, 100_000]);
        assert_eq!(store_sizes(300), vec![300]);
        assert_eq!(store_sizes(5_000), vec![500, 5_000]);
    }
}
