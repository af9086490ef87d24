//! Retries are bounded by HTTP requests, not only by runs: under injected transient faults
//! (errors, cut connections, lock errors, a request-limit burst, an expired session) one
//! sync issues at most the requests of the same sync without faults times the upload's
//! attempt limit (plus a login and a recovery check per attempt). The org's requests are
//! counted on the server side: every request its handlers answered (devorg logs one
//! `request` line each, counted here by a tracing subscriber) plus every request the fault
//! layer answered in their place.

mod reliability;

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Duration;
use devorg::FaultConfig;
use devorg::faults::Latency;
use reliability::invariants::{CreatedLocally, OBJECT};
use reliability::{Device, Ledger, TECH1, assert_invariants, device, profile, start_org};
use serde_json::json;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// The upload's attempt limit the reliability harness sets.
const MAX_ATTEMPTS: u64 = 3;

/// Requests devorg's handlers answered: one INFO event from `devorg::http` each.
static ANSWERED: AtomicU64 = AtomicU64::new(0);

/// A subscriber that only counts devorg's per-request log lines.
struct RequestCounter;

fn is_request_line(meta: &Metadata<'_>) -> bool {
    meta.is_event() && meta.target() == "devorg::http" && *meta.level() == tracing::Level::INFO
}

impl Subscriber for RequestCounter {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_request_line(meta) { Interest::always() } else { Interest::never() }
    }
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        is_request_line(meta)
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if is_request_line(event.metadata()) {
            ANSWERED.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Every HTTP request the org received: answered by its handlers or by the fault layer.
fn requests(org: &devorg::RunningOrg) -> u64 {
    let injected = org.fault_counts();
    ANSWERED.load(Ordering::SeqCst) + injected.errors + injected.limit_exceeded
}

/// The same offline edits on `dev`: creates, an update and a delete of server records.
fn edit(dev: &Device, round: usize, targets: &[String], ledger: &mut Ledger, device: usize) {
    for i in 0..4 {
        let name = format!("req-{device}-{round}-{i}");
        dev.create(json!({"Name": name}));
        ledger.creates.push(CreatedLocally { device, name });
    }
    let phone = format!("r{round}");
    dev.update(&targets[round], json!({"Phone": phone}));
    ledger.wrote("Phone", &phone);
    dev.delete(&targets[10 + round]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_under_faults_makes_a_bounded_number_of_requests() {
    tracing::subscriber::set_global_default(RequestCounter).expect("the only subscriber");
    let org = start_org().await;
    let admin = org.admin();
    let mut ledger = Ledger::default();
    let mut targets = [vec![], vec![]];
    for i in 0..40 {
        let id = admin.create(TECH1, OBJECT, json!({"Name": format!("srv-{i}"), "Phone": "0"}));
        targets[i % 2].push(id.unwrap());
    }
    ledger.wrote("Phone", "0");
    org.clock().advance(Duration::minutes(10));
    // A twin device makes the same kind of edits on other records without faults: its
    // run sets the yardstick for the faulty one.
    let twin = device(&org, TECH1, &profile("client-wins")).await;
    let dev = device(&org, TECH1, &profile("client-wins")).await;
    for d in [&twin, &dev] {
        d.catch_up(&org);
        d.sync_until_ok(1).await;
    }

    let (mut faulty_runs, mut failed_runs, mut injected, mut worst) = (0u64, 0u64, 0u64, 0.0f64);
    for round in 0..6 {
        edit(&twin, round, &targets[0], &mut ledger, 0);
        edit(&dev, round, &targets[1], &mut ledger, 1);
        org.clock().advance(Duration::minutes(1));
        twin.catch_up(&org);
        dev.catch_up(&org);

        let before = requests(&org);
        twin.sync_until_ok(1).await;
        let clean = requests(&org) - before;
        assert!(clean > 0, "the counter sees devorg's requests");

        org.set_faults(FaultConfig {
            seed: 100 + round as u64,
            error_rate: 0.3,
            drop_rate: 0.1,
            latency: Latency::default(),
            limit_burst: if round == 2 { 2 } else { 0 },
        });
        if round == 4 {
            org.expire_all_tokens().unwrap();
        }
        let before = requests(&org);
        let result = dev.sync_once().await;
        let used = requests(&org) - before;
        let counts = org.fault_counts();
        injected += counts.errors + counts.drops + counts.limit_exceeded;
        org.set_faults(FaultConfig::default());
        faulty_runs += 1;
        failed_runs += u64::from(result.is_err());
        let bound = (clean + 2) * MAX_ATTEMPTS;
        assert!(
            used <= bound,
            "round {round}: {used} requests under faults; a clean run took {clean}, bound {bound}"
        );
        worst = worst.max(used as f64 / clean as f64);
    }

    // The faults were real, and every edit still lands once the org is healthy again.
    assert!(injected > 0, "faults were injected");
    org.clock().advance(Duration::minutes(1));
    dev.catch_up(&org);
    twin.catch_up(&org);
    dev.sync_until_ok(3).await;
    twin.sync_until_ok(1).await;
    assert_invariants(&org, &[&twin.store, &dev.store], &ledger);
    println!(
        "faulty runs: {faulty_runs}, failed: {failed_runs}, faults injected: {injected}, worst requests vs a clean run: {worst:.1}x \
         (bound {MAX_ATTEMPTS}x + {})",
        2 * MAX_ATTEMPTS
    );
}
