//! The client side of every scenario, run in a child process of its own so that its peak
//! RSS is the client's alone: the parent (which hosts devorg) re-invokes this binary with
//! the hidden `child` subcommand and a [`ChildSpec`], and reads one JSON [`ChildResult`]
//! line back.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, Utc};
use engine::profile::ProfileSource;
use engine::upload::UploadOptions;
use engine::{Clock, Engine, SyncKind, upload_pending};
use salesforce::client::{Client, ClientConfig, OAuthApp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::{ChangeOp, Store, StoreKey};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::seed::TECH;

/// The benchmark's sync profile.
pub const PROFILE: &str = include_str!("../profiles/bench.toml");

/// Offline queries timed per run.
const QUERIES_PER_RUN: usize = 200;

/// What a child process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildOp {
    /// Opens the engine on an empty store and primes it.
    Prime,
    /// A delta sync of a primed store.
    Delta,
    /// A running app: the store stays open, and each line on standard input (devorg's
    /// clock offset) asks for one more delta sync, whose result is printed as a line.
    DeltaSession,
    /// The raw limit: the same pages fetched and inserted by the simplest loop.
    Raw,
    /// Queues `n` updates of held line items, then uploads them.
    UploadUpdates,
    /// Queues `n` account creates, each with a contact under it, then uploads them.
    UploadCreates,
    /// Times offline queries: an indexed filter and a parent-path join.
    Query,
}

/// One child invocation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildSpec {
    pub op: ChildOp,
    /// devorg's URL.
    pub url: String,
    /// Directory holding `store.db` and `store.key`.
    pub store_dir: PathBuf,
    /// How far devorg's clock runs ahead of the wall clock, in milliseconds.
    pub clock_offset_ms: i64,
    /// Records per page.
    pub page_size: u32,
    /// How many edits (upload ops).
    pub n: u64,
    /// Distinguishes the values one run writes from the previous run's.
    pub run: u64,
}

/// What a child measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChildResult {
    /// Wall time of the measured part.
    pub secs: f64,
    /// API requests the measured part made (from `Sforce-Limit-Info`).
    pub requests: u64,
    /// Records moved (stored, uploaded).
    pub records: u64,
    /// Peak resident set of the child (`VmHWM`), in KiB.
    pub peak_rss_kb: u64,
    /// Query latencies in milliseconds, per query kind.
    pub latencies_ms: Vec<(String, Vec<f64>)>,
}

/// The wall clock shifted like devorg's, so relative dates and overlaps agree with it.
#[derive(Debug)]
struct OffsetClock(AtomicI64);

impl OffsetClock {
    fn new(offset_ms: i64) -> OffsetClock {
        OffsetClock(AtomicI64::new(offset_ms))
    }

    fn set(&self, offset_ms: i64) {
        self.0.store(offset_ms, Ordering::Relaxed);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.0.load(Ordering::Relaxed))
    }
}

/// Runs one child operation and prints its result as one JSON line.
pub fn main(spec_json: &str) -> Result<()> {
    let spec: ChildSpec = serde_json::from_str(spec_json).context("child spec")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut result = runtime.block_on(run(&spec))?;
    drop(runtime);
    result.peak_rss_kb = crate::rss::peak_rss_kb().unwrap_or(0);
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}

async fn login(url: &str) -> Result<Client> {
    let app = OAuthApp::new(url, devorg::DEMO_CLIENT_ID, Some(devorg::DEMO_CLIENT_SECRET.into()));
    let session = app.login_password(TECH, devorg::DEMO_TECH_PASSWORD).await?;
    Ok(Client::new(session, ClientConfig::default())?)
}

fn open_store(dir: &std::path::Path) -> Result<Arc<Store>> {
    std::fs::create_dir_all(dir)?;
    let key = StoreKey::load_or_create(&dir.join("store.key"))?;
    Ok(Arc::new(Store::open(&dir.join("store.db"), &key)?))
}

fn used(client: &Client) -> u64 {
    client.api_usage().map_or(0, |u| u.used)
}

async fn run(spec: &ChildSpec) -> Result<ChildResult> {
    let client = login(&spec.url).await?;
    if spec.op == ChildOp::Raw {
        return crate::raw::run(&client, spec).await;
    }
    let store = open_store(&spec.store_dir)?;
    let clock = Arc::new(OffsetClock::new(spec.clock_offset_ms));
    let source = ProfileSource::parse("bench.toml", PROFILE)?;

    let started = Instant::now();
    let engine = Engine::open(store.clone(), client.clone(), &source, clock.clone()).await?;
    let before = used(&client);
    let mut result = ChildResult::default();
    match spec.op {
        ChildOp::Prime => {
            let report = engine.prime(&mut |_| {}).await?;
            result.records = report.objects.values().map(|c| c.new + c.entered_scope).sum();
            result.secs = started.elapsed().as_secs_f64();
        }
        ChildOp::Delta => return timed_delta(&engine, &client).await,
        ChildOp::DeltaSession => {
            let mut lines = BufReader::new(tokio::io::stdin()).lines();
            while let Some(line) = lines.next_line().await? {
                clock.set(line.trim().parse().context("clock offset")?);
                let synced = timed_delta(&engine, &client).await?;
                println!("{}", serde_json::to_string(&synced)?);
            }
            return Ok(result);
        }
        ChildOp::UploadUpdates | ChildOp::UploadCreates => {
            let queued = queue_edits(&store, spec, clock.now())?;
            let started = Instant::now();
            let counts = upload_pending(
                &client,
                &store,
                engine.profile(),
                clock.as_ref(),
                &UploadOptions::default(),
                &mut |_| {},
            )
            .await?;
            result.secs = started.elapsed().as_secs_f64();
            result.records = counts.uploaded;
            if counts.uploaded < queued || counts.failed > 0 {
                bail!(
                    "upload left work: {} of {queued} uploaded, {} failed, {} conflicts, {} waiting",
                    counts.uploaded,
                    counts.failed,
                    counts.conflicts,
                    counts.waiting
                );
            }
        }
        ChildOp::Query => {
            result.latencies_ms = time_queries(&engine, spec.run)?;
        }
        ChildOp::Raw => bail!("the raw loop runs without the engine"),
    }
    result.requests = used(&client).saturating_sub(before);
    Ok(result)
}

/// One delta sync, timed, with the requests it made and the records it brought.
async fn timed_delta(engine: &Engine, client: &Client) -> Result<ChildResult> {
    let before = used(client);
    let started = Instant::now();
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await?;
    Ok(ChildResult {
        secs: started.elapsed().as_secs_f64(),
        records: report.objects.values().map(|c| c.new + c.updated).sum(),
        requests: used(client).saturating_sub(before),
        ..ChildResult::default()
    })
}

/// Queues the upload scenario's edits in one transaction; returns how many changes the
/// upload should complete.
fn queue_edits(store: &Store, spec: &ChildSpec, now: DateTime<Utc>) -> Result<u64> {
    match spec.op {
        ChildOp::UploadUpdates => {
            let ids = store.read(|r| r.record_ids("WorkOrderLineItem"))?;
            let ids: Vec<String> = ids.into_iter().take(spec.n as usize).collect();
            store.write(|tx| {
                for (i, id) in ids.iter().enumerate() {
                    let edit = json!({"Subject": format!("Checked {} #{i}", spec.run)});
                    let Value::Object(edit) = edit else { continue };
                    tx.record_edit("WorkOrderLineItem", Some(id), ChangeOp::Update, &edit, now)?;
                }
                Ok(())
            })?;
            Ok(ids.len() as u64)
        }
        _ => {
            store.write(|tx| {
                for i in 0..spec.n {
                    let account = json!({"Name": format!("New account {} #{i}", spec.run)});
                    let Value::Object(account) = account else { continue };
                    let created =
                        tx.record_edit("Account", None, ChangeOp::Create, &account, now)?;
                    let contact = json!({
                        "LastName": format!("New contact {} #{i}", spec.run),
                        "AccountId": created.record_id,
                    });
                    let Value::Object(contact) = contact else { continue };
                    tx.record_edit("Contact", None, ChangeOp::Create, &contact, now)?;
                }
                Ok(())
            })?;
            Ok(spec.n * 2)
        }
    }
}

/// Makes the `i`th query of one kind.
type QueryMaker<'a> = Box<dyn Fn(usize) -> String + 'a>;

/// Times [`QUERIES_PER_RUN`] queries of each kind against the held records.
fn time_queries(engine: &Engine, run: u64) -> Result<Vec<(String, Vec<f64>)>> {
    let work_orders = engine.store().read(|r| r.record_ids("WorkOrder"))?;
    if work_orders.is_empty() {
        bail!("nothing held to query");
    }
    let pick = |i: usize| {
        work_orders[(i.wrapping_mul(7919) + run as usize * 104_729) % work_orders.len()].clone()
    };
    // Accounts that have work orders (accounts created by the upload scenario have none).
    let mut accounts = Vec::with_capacity(QUERIES_PER_RUN);
    for i in 0..QUERIES_PER_RUN {
        let wo = engine.store().read(|r| r.get_record("WorkOrder", &pick(i)))?;
        if let Some(account) =
            wo.and_then(|w| w.get("AccountId").and_then(Value::as_str).map(String::from))
        {
            accounts.push(account);
        }
    }
    if accounts.is_empty() {
        bail!("no held work order has an account");
    }
    let kinds: [(&str, QueryMaker<'_>); 2] = [
        (
            "indexed filter",
            Box::new(|i| {
                format!(
                    "SELECT Id, Subject, Status, Quantity FROM WorkOrderLineItem \
                     WHERE WorkOrderId = '{}'",
                    pick(i)
                )
            }),
        ),
        (
            "parent-path join",
            Box::new(|i| {
                format!(
                    "SELECT Id, Subject, WorkOrder.Subject, WorkOrder.Account.Name \
                     FROM WorkOrderLineItem WHERE WorkOrder.AccountId = '{}'",
                    accounts[i % accounts.len()]
                )
            }),
        ),
    ];
    let mut out = Vec::new();
    for (name, make) in kinds {
        let mut times = Vec::with_capacity(QUERIES_PER_RUN);
        for i in 0..QUERIES_PER_RUN {
            let soql = make(i);
            let started = Instant::now();
            let answer = engine.query(&soql)?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            if answer["records"].as_array().is_none_or(Vec::is_empty) {
                bail!("{name} found nothing: {soql}");
            }
        }
        out.push((name.to_string(), times));
    }

    // Paging through the whole line item table: its first page (which also counts the
    // table for `totalSize`), the count alone, and a page halfway through, read by its
    // locator (keyset paging: it costs what the page holds, wherever it is).
    let soql = "SELECT Id, Subject, Status FROM WorkOrderLineItem";
    let mut first_page = Vec::with_capacity(QUERIES_PER_RUN);
    let mut locators = Vec::new();
    for _ in 0..QUERIES_PER_RUN {
        let started = Instant::now();
        let answer = engine.query(soql)?;
        first_page.push(started.elapsed().as_secs_f64() * 1000.0);
        if locators.is_empty() {
            let mut page = answer;
            while let Some(next) = page["nextRecordsUrl"].as_str().map(String::from) {
                page = engine.query_more(&next)?;
                locators.push(next);
            }
        }
    }
    out.push(("first page of 2,000".to_string(), first_page));
    let mut count = Vec::with_capacity(QUERIES_PER_RUN);
    for _ in 0..QUERIES_PER_RUN {
        let started = Instant::now();
        engine.query("SELECT COUNT() FROM WorkOrderLineItem")?;
        count.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out.push(("whole-table count".to_string(), count));
    // The middle locator, so that the page it leads to is a full one.
    if let Some(locator) = locators.get(locators.len().saturating_sub(1) / 2) {
        let mut middle = Vec::with_capacity(QUERIES_PER_RUN);
        for _ in 0..QUERIES_PER_RUN {
            let started = Instant::now();
            let answer = engine.query_more(locator)?;
            middle.push(started.elapsed().as_secs_f64() * 1000.0);
            if answer["records"].as_array().is_none_or(|r| r.len() != 2000) {
                bail!("the middle page of {soql} is not a full page");
            }
        }
        out.push((
            format!("page {} of {} by locator", locators.len() / 2 + 1, locators.len() + 1),
            middle,
        ));
    }
    Ok(out)
}
