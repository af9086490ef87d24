//! Syncs that must keep every edit under pressure: injected server faults and expired
//! tokens, late commits with older stamps, many records sharing one stamp across a page
//! boundary, and bad input. Every test ends with the four invariants.

mod reliability;

use chrono::Duration;
use devorg::FaultConfig;
use devorg::faults::Latency;
use reliability::invariants::OBJECT;
use reliability::{Ledger, TECH1, TECH2, assert_invariants, device, profile, start_org};
use serde_json::json;

/// With a fifth of requests failing (errors, cut connections, lock errors), a request
/// limit burst, latency spikes and every token expired mid-way, syncs eventually succeed,
/// the number of runs stays bounded, and nothing is lost or duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_expired_tokens_lose_nothing() {
    let org = start_org().await;
    let admin = org.admin();
    let mut ledger = Ledger::default();
    let mut server_ids = vec![];
    for i in 0..40 {
        let name = format!("server-{i}");
        server_ids.push(admin.create(TECH1, OBJECT, json!({"Name": name, "Phone": "0"})).unwrap());
    }
    ledger.wrote("Phone", "0");
    org.clock().advance(Duration::minutes(10));

    let dev = device(&org, TECH1, &profile("client-wins")).await;
    dev.catch_up(&org);
    org.set_faults(FaultConfig {
        seed: 11,
        error_rate: 0.2,
        drop_rate: 0.05,
        latency: Latency { fixed_ms: 0, spike_rate: 0.05, spike_ms: 30 },
        limit_burst: 2,
    });
    let mut runs = dev.sync_until_ok(40).await;

    for round in 0..4 {
        for i in 0..5 {
            let name = format!("local-{round}-{i}");
            dev.create(json!({"Name": name, "BillingCity": "Lyon"}));
            ledger.creates.push(reliability::invariants::CreatedLocally { device: 0, name });
        }
        ledger.wrote("BillingCity", "Lyon");
        let phone = format!("1{round}");
        dev.update(&server_ids[round], json!({"Phone": phone}));
        ledger.wrote("Phone", &phone);
        dev.delete(&server_ids[10 + round]);
        let server_phone = format!("2{round}");
        admin
            .update(TECH2, OBJECT, &server_ids[20 + round], json!({"Phone": server_phone}))
            .unwrap();
        ledger.wrote("Phone", &server_phone);
        if round == 2 {
            org.expire_all_tokens().unwrap();
        }
        org.clock().advance(Duration::minutes(3));
        dev.catch_up(&org);
        runs += dev.sync_until_ok(40).await;
    }
    let injected = org.fault_counts();
    assert!(injected.errors + injected.drops + injected.limit_exceeded > 0, "faults were injected");
    assert!(runs <= 120, "{runs} sync runs for five successes");

    org.set_faults(FaultConfig::default());
    org.clock().advance(Duration::minutes(3));
    dev.catch_up(&org);
    dev.sync_until_ok(1).await;
    assert_invariants(&org, &[&dev.store], &ledger);
}

/// A write that began before the client's sync but committed after it carries an older
/// stamp than records the client has already seen; the next sync still brings it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_commit_with_older_stamp_is_not_missed() {
    let org = start_org().await;
    let admin = org.admin();
    admin.create(TECH1, OBJECT, json!({"Name": "before"})).unwrap();
    org.clock().advance(Duration::minutes(10));
    let dev = device(&org, TECH1, &profile("server-wins")).await;
    dev.catch_up(&org);
    dev.sync_until_ok(1).await;

    let held = admin.begin_held_write(TECH2, OBJECT, vec![json!({"Name": "late"})]).unwrap();
    org.clock().advance(Duration::minutes(20));
    admin.create(TECH1, OBJECT, json!({"Name": "newer"})).unwrap();
    org.clock().advance(Duration::minutes(1));
    dev.catch_up(&org);
    dev.sync_until_ok(1).await;
    held.commit().unwrap();
    org.clock().advance(Duration::minutes(20));
    dev.catch_up(&org);
    dev.sync_until_ok(1).await;

    let names: Vec<String> = dev
        .held()
        .iter()
        .filter_map(|id| dev.store.read(|r| r.get_record(OBJECT, id)).unwrap())
        .filter_map(|r| r.get("Name").and_then(|v| v.as_str()).map(str::to_owned))
        .collect();
    assert!(names.contains(&"late".to_string()), "the late commit was missed: {names:?}");
    assert_invariants(&org, &[&dev.store], &Ledger::default());
}

/// A server edit in the same second as the device's own upload of the same record
/// shares its `SystemModstamp`; the next sync still brings the server's value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_edit_sharing_the_stamp_of_an_upload_is_not_missed() {
    let org = start_org().await;
    let admin = org.admin();
    let id = admin.create(TECH1, OBJECT, json!({"Name": "shared", "Phone": "0"})).unwrap();
    org.clock().advance(Duration::minutes(10));
    let dev = device(&org, TECH1, &profile("client-wins")).await;
    dev.catch_up(&org);
    dev.sync_until_ok(1).await;

    // The device uploads its edit; the org's clock does not move before another user
    // edits the same record, so both writes carry one stamp.
    dev.update(&id, json!({"Phone": "device"}));
    dev.sync_until_ok(1).await;
    let uploaded = admin.retrieve(TECH1, OBJECT, &id).unwrap();
    assert_eq!(uploaded["Phone"], "device");
    admin.update(TECH2, OBJECT, &id, json!({"Phone": "server"})).unwrap();
    let edited = admin.retrieve(TECH1, OBJECT, &id).unwrap();
    assert_eq!(edited["SystemModstamp"], uploaded["SystemModstamp"], "one stamp for both");

    org.clock().advance(Duration::seconds(30));
    dev.catch_up(&org);
    dev.sync_until_ok(1).await;
    let local = dev.store.read(|r| r.get_record(OBJECT, &id)).unwrap().unwrap();
    assert_eq!(local["Phone"], "server", "the server's edit was missed");
    assert_invariants(&org, &[&dev.store], &Ledger::default());
}

/// 450 records sharing one stamp, more than two pages, all arrive on priming and on a
/// delta.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stamp_across_page_boundaries_misses_nothing() {
    let org = start_org().await;
    let admin = org.admin();
    let batch = |prefix: &str| -> Vec<serde_json::Value> {
        (0..450).map(|i| json!({"Name": format!("{prefix}-{i}")})).collect()
    };
    admin.create_many(TECH1, OBJECT, batch("prime")).unwrap();
    org.clock().advance(Duration::minutes(10));
    let dev = device(&org, TECH1, &profile("server-wins")).await;
    dev.catch_up(&org);
    dev.sync_until_ok(1).await;
    assert_eq!(dev.held().len(), 450);

    admin.create_many(TECH2, OBJECT, batch("delta")).unwrap();
    org.clock().advance(Duration::minutes(10));
    dev.catch_up(&org);
    dev.sync_until_ok(1).await;
    assert_eq!(dev.held().len(), 900);
    assert_invariants(&org, &[&dev.store], &Ledger::default());
}

/// Access tokens expired between two syncs are renewed with the refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_access_token_is_refreshed_during_sync() {
    let org = start_org().await;
    org.admin().create(TECH1, OBJECT, json!({"Name": "a"})).unwrap();
    org.clock().advance(Duration::minutes(10));
    let dev = device(&org, TECH1, &profile("client-wins")).await;
    dev.catch_up(&org);
    dev.sync_until_ok(1).await;
    dev.create(json!({"Name": "after-expiry"}));
    org.expire_all_tokens().unwrap();
    org.clock().advance(Duration::minutes(1));
    dev.catch_up(&org);
    dev.sync_once().await.expect("the sync refreshes the session and succeeds");
    let mut ledger = Ledger::default();
    ledger
        .creates
        .push(reliability::invariants::CreatedLocally { device: 0, name: "after-expiry".into() });
    assert_invariants(&org, &[&dev.store], &ledger);
}
