//! Crash loop, in process: a sync is cut off at a seeded random moment (its task aborted,
//! as a killed process would stop), the store is reopened from its file and a new engine
//! opened, while local and server edits keep arriving. After a final clean sync the four
//! invariants hold.
//!
//! `RELIABILITY_KILL_POINTS` (default 20) and `RELIABILITY_SEED` set the length and seed;
//! `scripts/soak` runs a long version and prints the counts this test prints.

mod reliability;

use std::sync::Arc;

use chrono::Duration;
use devorg::FaultConfig;
use devorg::faults::Latency;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reliability::invariants::{CreatedLocally, OBJECT};
use reliability::{
    Device, Ledger, TECH1, TECH2, assert_invariants, open_engine, profile, start_org,
};
use serde_json::json;
use store::{Store, StoreKey};
use tempfile::TempDir;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// When to kill the first syncs, before one has been seen to finish.
const FIRST_GUESS: std::time::Duration = std::time::Duration::from_millis(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_syncs_lose_and_duplicate_nothing() {
    let kill_points = env_number("RELIABILITY_KILL_POINTS", 20);
    let seed = env_number("RELIABILITY_SEED", 42);
    let mut rng = StdRng::seed_from_u64(seed);
    let org = start_org().await;
    let admin = org.admin();
    let mut ledger = Ledger::default();
    let server_ids: Vec<String> = (0..300)
        .map(|i| {
            admin.create(TECH2, OBJECT, json!({"Name": format!("srv-{i}"), "Phone": "0"})).unwrap()
        })
        .collect();
    ledger.wrote("Phone", "0");
    org.clock().advance(Duration::minutes(10));

    let dir = TempDir::new().unwrap();
    let path = dir.path().join("store.db");
    let key = StoreKey::generate();
    let text = profile("client-wins");
    // Every request waits a little, so a kill can land anywhere in a run.
    org.set_faults(FaultConfig {
        seed,
        latency: Latency { fixed_ms: 1, spike_rate: 0.05, spike_ms: 20 },
        error_rate: 0.05,
        ..FaultConfig::default()
    });

    let (mut killed, mut completed, mut operations) = (0u64, 0u64, 0u64);
    let mut run_length: Option<std::time::Duration> = None;
    let mut created = 0;
    for point in 0..kill_points {
        // A process start: the store reopened from its file, a new engine.
        let store = Arc::new(Store::open(&path, &key).expect("store reopens after a kill"));
        let clock = Arc::new(engine::ManualClock::new(org.clock().now()));
        let engine = open_engine(&org, TECH1, store.clone(), clock.clone(), &text).await;
        let dev = Device {
            user: TECH1,
            store: store.clone(),
            engine,
            clock,
            dir: TempDir::new().unwrap(),
        };

        // Local and server edits keep arriving.
        for _ in 0..rng.random_range(0..4) {
            created += 1;
            let name = format!("crash-create-{created}");
            dev.create(json!({"Name": name}));
            ledger.creates.push(CreatedLocally { device: 0, name });
            operations += 1;
        }
        if rng.random_bool(0.5) && !dev.held().is_empty() {
            let id = dev.held()[rng.random_range(0..dev.held().len())].clone();
            let phone = format!("p{point}");
            dev.update(&id, json!({"Phone": phone}));
            ledger.wrote("Phone", &phone);
            operations += 1;
        }
        let target = &server_ids[rng.random_range(0..server_ids.len())];
        let phone = format!("s{point}");
        if admin.update(TECH2, OBJECT, target, json!({"Phone": phone})).is_ok() {
            ledger.wrote("Phone", &phone);
            operations += 1;
        }
        org.clock().advance(Duration::seconds(30));
        dev.catch_up(&org);

        // The sync runs on its own task and is killed after a random moment, spread over
        // the longest run seen to finish, so that kills reach every part of a run and most
        // land mid-run however fast the machine is.
        let after = run_length.unwrap_or(FIRST_GUESS).mul_f64(rng.random_range(0.0..1.0));
        let task = tokio::spawn(async move {
            let started = std::time::Instant::now();
            let result = dev.sync_once().await.map(drop).map_err(|e| e.to_string());
            (dev, result, started.elapsed())
        });
        tokio::time::sleep(after).await;
        task.abort();
        match task.await {
            Ok((_, _, took)) => {
                completed += 1;
                run_length = Some(run_length.map_or(took, |longest| longest.max(took)));
            }
            Err(e) if e.is_cancelled() => killed += 1,
            Err(e) => panic!("sync task panicked: {e}"),
        }
    }

    // Final clean sync from a fresh start.
    let injected = org.fault_counts();
    org.set_faults(FaultConfig::default());
    org.clock().advance(Duration::minutes(5));
    let store = Arc::new(Store::open(&path, &key).unwrap());
    let clock = Arc::new(engine::ManualClock::new(org.clock().now()));
    let engine = open_engine(&org, TECH1, store.clone(), clock.clone(), &text).await;
    let dev = Device { user: TECH1, store, engine, clock, dir };
    dev.sync_until_ok(3).await;
    dev.sync_until_ok(1).await;
    let checked = assert_invariants(&org, &[&dev.store], &ledger);
    println!(
        "kill points: {kill_points}, killed mid-run: {killed}, finished before the kill: {completed}, \
         run length: {} ms, faults injected: {}, operations: {operations}, records checked: {checked}, \
         violations: 0",
        run_length.unwrap_or(FIRST_GUESS).as_millis(),
        injected.errors + injected.drops + injected.limit_exceeded + injected.spikes
    );
}
