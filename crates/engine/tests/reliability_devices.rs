//! Several devices (separate stores; the same or different technicians) edit the same
//! records offline and sync in random orders while the org injects faults. Every run
//! converges, every edit either reaches the server or stays visibly queued, and no local
//! create is duplicated. Seeded and kept small in the suite.

mod reliability;

use chrono::Duration;
use devorg::FaultConfig;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use reliability::invariants::{CreatedLocally, OBJECT};
use reliability::{Device, Ledger, TECH1, TECH2, assert_invariants, device, profile, start_org};
use serde_json::json;
use store::{ChangeState, PendingFilter};

/// One step of a scenario.
#[derive(Debug, Clone)]
enum Step {
    Create { device: usize },
    Update { device: usize, target: usize, value: u8 },
    Delete { device: usize, target: usize },
    ServerUpdate { target: usize, value: u8 },
    Sync { device: usize, faults: bool },
}

const DEVICES: usize = 3;
const SEEDED: usize = 6;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (0..DEVICES).prop_map(|device| Step::Create { device }),
        4 => (0..DEVICES, 0..SEEDED, any::<u8>())
            .prop_map(|(device, target, value)| Step::Update { device, target, value }),
        1 => (0..DEVICES, 0..SEEDED).prop_map(|(device, target)| Step::Delete { device, target }),
        1 => (0..SEEDED, any::<u8>()).prop_map(|(target, value)| Step::ServerUpdate { target, value }),
        3 => (0..DEVICES, any::<bool>()).prop_map(|(device, faults)| Step::Sync { device, faults }),
    ]
}

async fn scenario(steps: Vec<Step>, policy: &'static str) -> usize {
    let org = start_org().await;
    let admin = org.admin();
    let mut ledger = Ledger::default();
    let seeded: Vec<String> = (0..SEEDED)
        .map(|i| {
            admin.create(TECH1, OBJECT, json!({"Name": format!("seed-{i}"), "Phone": "0"})).unwrap()
        })
        .collect();
    ledger.wrote("Phone", "0");
    org.clock().advance(Duration::minutes(10));
    let users = [TECH1, TECH1, TECH2];
    let mut devices: Vec<Device> = vec![];
    for user in users {
        let d = device(&org, user, &profile(policy)).await;
        d.catch_up(&org);
        d.sync_until_ok(3).await;
        devices.push(d);
    }

    let mut created = 0;
    let mut faults_seed = 1;
    for step in steps {
        match step {
            Step::Create { device } => {
                created += 1;
                let name = format!("dev{device}-create-{created}");
                devices[device].create(json!({"Name": name}));
                ledger.creates.push(CreatedLocally { device, name });
            }
            Step::Update { device, target, value } => {
                let d = &devices[device];
                if d.held().contains(&seeded[target]) && !is_deleted_locally(d, &seeded[target]) {
                    let phone = format!("d{device}-{value}");
                    d.update(&seeded[target], json!({"Phone": phone}));
                    ledger.wrote("Phone", &phone);
                }
            }
            Step::Delete { device, target } => {
                let d = &devices[device];
                if d.held().contains(&seeded[target]) && !is_deleted_locally(d, &seeded[target]) {
                    d.delete(&seeded[target]);
                }
            }
            Step::ServerUpdate { target, value } => {
                let phone = format!("s-{value}");
                if admin.update(TECH2, OBJECT, &seeded[target], json!({"Phone": phone})).is_ok() {
                    ledger.wrote("Phone", &phone);
                }
            }
            Step::Sync { device, faults } => {
                faults_seed += 1;
                if faults {
                    org.set_faults(FaultConfig {
                        seed: faults_seed,
                        error_rate: 0.2,
                        drop_rate: 0.05,
                        ..FaultConfig::default()
                    });
                }
                org.clock().advance(Duration::minutes(1));
                devices[device].catch_up(&org);
                // Under faults a run may fail; the next clean round catches up.
                let _ = devices[device].sync_once().await;
                org.set_faults(FaultConfig::default());
            }
        }
    }

    // Clean rounds: uploads land, then every device downloads the others' changes.
    for _ in 0..2 {
        for d in &devices {
            org.clock().advance(Duration::minutes(1));
            d.catch_up(&org);
            d.sync_until_ok(3).await;
        }
    }
    for (i, d) in devices.iter().enumerate() {
        let waiting = d
            .store
            .read(|r| {
                r.pending_changes(&PendingFilter {
                    states: vec![ChangeState::Waiting, ChangeState::Uploading],
                    ..PendingFilter::default()
                })
            })
            .unwrap();
        assert!(waiting.is_empty(), "device {i} still has changes waiting: {waiting:?}");
    }
    let stores: Vec<&store::Store> = devices.iter().map(|d| d.store.as_ref()).collect();
    assert_invariants(&org, &stores, &ledger)
}

fn is_deleted_locally(d: &Device, id: &str) -> bool {
    d.store.read(|r| r.get_record(OBJECT, id)).unwrap().is_none()
}

/// Eight seeded cases in the suite; `PROPTEST_CASES` (as `scripts/soak` sets it) asks for more.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_0005),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/reliability_devices.txt",
        ))),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn devices_converge_and_lose_nothing(
        steps in prop::collection::vec(step(), 5..30),
        policy in prop::sample::select(vec!["client-wins", "server-wins"])
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(scenario(steps, policy));
    }
}
