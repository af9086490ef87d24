//! Several devices (separate stores; the same or different technicians) edit the same
//! records offline and sync in random orders while the org injects faults. Every run
//! converges, every edit either reaches the server or stays visibly queued, and no local
//! create is duplicated. Each conflict a sync meets settles by the profile's policy
//! (server-wins keeps the server's value, client-wins the device's, and creates again a
//! record the server deleted) and shows in that run's history as a conflict with how it
//! was settled. Seeded and kept small in the suite.

mod reliability;

use chrono::Duration;
use devorg::FaultConfig;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use reliability::invariants::{CreatedLocally, OBJECT, server_records};
use reliability::{Device, Ledger, TECH1, TECH2, assert_invariants, device, profile, start_org};
use serde_json::Value;
use serde_json::json;
use store::{ChangeOp, ChangeState, PendingFilter, RecordAction};

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
        3 => (0..SEEDED, any::<u8>()).prop_map(|(target, value)| Step::ServerUpdate { target, value }),
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
                // A write in the same millisecond as a device's upload of the same record
                // would carry the same SystemModstamp, which the delta reads as unchanged;
                // a real org's writes are never that close, so the org's clock moves on.
                org.clock().advance(Duration::seconds(1));
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
                let expected = expected_settlements(&org, &devices[device], policy);
                // Under faults a run may fail; the next clean round catches up.
                let result = devices[device].sync_once().await;
                org.set_faults(FaultConfig::default());
                if let Ok(report) = result {
                    check_settlements(
                        &org,
                        &devices[device],
                        &expected,
                        report.upload.conflicts,
                        faults,
                    );
                }
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

/// Conflicts checked against their policy, over every case (printed with `--nocapture`).
static CONFLICTS_CHECKED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What one queued update of `Phone` should become in the next sync that completes.
#[derive(Debug)]
struct Settlement {
    record_id: String,
    /// The device's value.
    local: Value,
    /// The server's value before the sync; `None` when the server deleted the record.
    server: Option<Value>,
    /// Whether the server changed the field since the device's edit started from it.
    conflict: bool,
    policy: &'static str,
}

/// The queued `Phone` updates of `d` and whether each meets a server change.
fn expected_settlements(
    org: &devorg::RunningOrg,
    d: &Device,
    policy: &'static str,
) -> Vec<Settlement> {
    let server = server_records(org);
    let changes = d.store.read(|r| r.pending_changes(&PendingFilter::default())).unwrap();
    changes
        .into_iter()
        .filter(|c| c.op == ChangeOp::Update && c.state == ChangeState::Waiting)
        .filter_map(|c| {
            let local = c.fields.get("Phone")?.clone();
            let base = c.base.get("Phone").cloned().unwrap_or(Value::Null);
            let now = server.get(&c.record_id).map(|r| r.fields["Phone"].clone());
            let conflict = match &now {
                None => true,
                Some(now) => *now != base && *now != local,
            };
            Some(Settlement { record_id: c.record_id, local, server: now, conflict, policy })
        })
        .collect()
}

/// After a completed sync of `d`: each expected settlement happened on the server, the
/// change left the queue, and the run's history lists the record (as a conflict when
/// server-wins dropped the edit of a record the server deleted).
fn check_settlements(
    org: &devorg::RunningOrg,
    d: &Device,
    expected: &[Settlement],
    conflicts_reported: u64,
    faults: bool,
) {
    let server = server_records(org);
    let queued: std::collections::BTreeMap<String, ChangeState> = d
        .store
        .read(|r| r.pending_changes(&PendingFilter::default()))
        .unwrap()
        .into_iter()
        .map(|c| (c.record_id, c.state))
        .collect();
    let event = d.store.read(|r| r.sync_events(1, None)).unwrap().remove(0);
    let rows = d.store.read(|r| r.sync_event_records(event.id)).unwrap();
    // Under faults a change may be left waiting after its attempts; it settles later.
    let settled: Vec<&Settlement> = expected
        .iter()
        .filter(|s| !(faults && queued.get(&s.record_id) == Some(&ChangeState::Waiting)))
        .collect();
    let met = settled.iter().filter(|s| s.conflict).count() as u64;
    assert!(
        conflicts_reported >= met,
        "{}: {met} conflicts met, the report counts {conflicts_reported}: {expected:?}",
        d.user
    );
    for s in settled {
        if s.conflict {
            CONFLICTS_CHECKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let state = queued.get(&s.record_id);
        let row = rows.iter().find(|r| r.record_id == s.record_id);
        let row = row.unwrap_or_else(|| panic!("{}: history misses {s:?}: {rows:?}", d.user));
        let after = server.get(&s.record_id).map(|r| r.fields["Phone"].clone());
        let detail = row.detail.as_deref().unwrap_or_default();
        match (&s.server, s.policy, s.conflict) {
            // The server deleted the record: server-wins drops the edit, client-wins
            // creates the record again with the device's values, manual parks it for
            // the technician.
            (None, "server-wins", _) => {
                assert_eq!(state, None, "{s:?}");
                assert_eq!(row.action, RecordAction::Conflict, "{s:?}: {row:?}");
                assert!(is_deleted_locally(d, &s.record_id), "{s:?} dropped locally");
            }
            (None, "client-wins", _) => {
                // Under faults the new create may still be on its way.
                if faults && state.is_some() {
                    continue;
                }
                assert_eq!(state, None, "{s:?}");
                assert_eq!(row.action, RecordAction::Conflict, "{s:?}: {row:?}");
                assert!(detail.contains("created again"), "{s:?}: {row:?}");
                assert!(is_deleted_locally(d, &s.record_id), "{s:?} has a new id");
                let again = server.values().filter(|r| r.fields["Phone"] == s.local).count();
                assert!(again >= 1, "{s:?}: no record on the server has the device's value");
            }
            (None, _, _) => {
                assert_eq!(state, Some(&ChangeState::Conflict), "{s:?} parked");
                assert_eq!(row.action, RecordAction::Conflict, "{s:?}: {row:?}");
            }
            (Some(before), "server-wins", true) => {
                assert_eq!(state, None, "{s:?}");
                assert_eq!(
                    after.as_ref(),
                    Some(before),
                    "server-wins keeps the server's value: {s:?}"
                );
                assert_eq!(row.action, RecordAction::Conflict, "{s:?}: {row:?}");
                assert!(detail.contains("settled by policy"), "{s:?}: {row:?}");
                assert!(detail.contains("the server's value kept"), "{s:?}: {row:?}");
            }
            (Some(_), _, conflict) => {
                assert!(state.is_none_or(|s| *s == ChangeState::Failed), "{s:?}: {state:?}");
                if state.is_none() {
                    assert_eq!(after.as_ref(), Some(&s.local), "the device's value lands: {s:?}");
                    if conflict {
                        assert_eq!(row.action, RecordAction::Conflict, "{s:?}: {row:?}");
                        assert!(detail.contains("this device's value sent"), "{s:?}: {row:?}");
                    } else {
                        assert_eq!(row.action, RecordAction::Uploaded, "{s:?}: {row:?}");
                    }
                }
            }
        }
    }
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
        let checked = CONFLICTS_CHECKED.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!("conflicts checked against their policy so far: {checked}");
    }
}
