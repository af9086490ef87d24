//! Crash loop with the real binary: offline edits (accounts, contacts pointing at accounts
//! created offline, updates, deletes) are made with the CLI, then `deltasync sync` is
//! started as a child process and SIGKILLed at a different moment each time, while devorg
//! slows every answer, holds every write open and cuts some connections, so kills land
//! before, during and after uploads and downloads. A final sync that completes leaves
//! every edit on the org exactly once, nothing queued, ids remapped and the store whole.
//!
//! `CRASH_LOOP_KILL_POINTS` (default 8) and `CRASH_LOOP_SEED` set the length and seed;
//! `scripts/soak` runs a long version.

mod cli_reliability;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cli_reliability::invariants::{CreatedLocally, Ledger, assert_invariants};
use cli_reliability::{Fixture, TECH1, env_number, server_column, server_count, server_deleted};
use deltasync::device::{Access, Device};
use devorg::{FaultConfig, Latency};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// Server records: the first third get local updates, the second local deletes, the last
/// server-side updates.
const SERVER_RECORDS: usize = 60;

#[test]
fn sigkilled_syncs_lose_and_duplicate_nothing() {
    let kill_points = env_number("CRASH_LOOP_KILL_POINTS", 8);
    let seed = env_number("CRASH_LOOP_SEED", 7);
    let mut rng = StdRng::seed_from_u64(seed);
    let f = Fixture::new();
    let admin = f.org.admin();
    let mut ledger = Ledger::default();
    let server_ids: Vec<String> = (0..SERVER_RECORDS)
        .map(|i| {
            admin
                .create(TECH1, "Account", json!({"Name": format!("srv-{i}"), "Phone": "0"}))
                .unwrap()
        })
        .collect();
    ledger.wrote("Phone", "0");
    let third = SERVER_RECORDS / 3;
    f.login();

    // Every answer is slowed, so a run lasts long enough to be cut anywhere in it; the
    // length of one run (from process start) sets the range the kills are spread over.
    let slow = FaultConfig {
        seed,
        latency: Latency { fixed_ms: 15, spike_rate: 0.1, spike_ms: 60 },
        ..FaultConfig::default()
    };
    f.org.set_faults(slow.clone());
    let started = Instant::now();
    f.json(&["sync"]);
    let run_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX).max(200);
    // Writes now commit a while after they arrive, and some answers are cut: a kill often
    // comes after the server wrote but before the device heard.
    f.org.set_faults(FaultConfig { drop_rate: 0.03, ..slow });
    admin.hold_writes(Some(Duration::from_millis(40)));

    let mut accounts: Vec<String> = vec![];
    let mut contacts: BTreeMap<String, String> = BTreeMap::new();
    let mut phones: BTreeMap<usize, String> = BTreeMap::new();
    let mut deleted: Vec<usize> = vec![];
    let mut first_city: Option<String> = None;
    let (mut killed, mut finished) = (0u64, 0u64);
    // Where the kills landed, as the queue shows it: nothing uploaded yet, part of the
    // queue uploaded, or all of it (the kill then came during the download).
    let (mut before_upload, mut mid_upload, mut after_upload) = (0u64, 0u64, 0u64);
    for point in 0..kill_points {
        // Offline edits: creates with a dependent child, updates, deletes.
        for _ in 0..rng.random_range(1..3) {
            let n = accounts.len();
            let account = format!("kill-acct-{n}");
            let local =
                f.edit(&["create", "Account", &format!("Name={account}"), "BillingCity=Lyon"]);
            let contact = format!("kill-contact-{n}");
            f.edit(&[
                "create",
                "Contact",
                &format!("LastName={contact}"),
                &format!("AccountId={local}"),
            ]);
            ledger.creates.push(CreatedLocally { device: 0, name: account.clone() });
            contacts.insert(contact, account.clone());
            accounts.push(account);
        }
        ledger.wrote("BillingCity", "Lyon");
        let target = rng.random_range(0..third);
        let phone = format!("p{point}");
        f.edit(&["update", "Account", &server_ids[target], &format!("Phone={phone}")]);
        ledger.wrote("Phone", &phone);
        phones.insert(target, phone);
        if point % 2 == 1 {
            // The first account created offline, whether or not its create has landed yet.
            let id = account_id(&f, &accounts[0]);
            let city = format!("city-{point}");
            f.edit(&["update", "Account", &id, &format!("BillingCity={city}")]);
            ledger.wrote("BillingCity", &city);
            first_city = Some(city);
        }
        let victim = third + usize::try_from(point).unwrap() % third;
        if !deleted.contains(&victim) {
            f.edit(&["delete", "Account", &server_ids[victim]]);
            deleted.push(victim);
        }
        let server_target = 2 * third + rng.random_range(0..third);
        let server_phone = format!("s{point}");
        admin
            .update(TECH1, "Account", &server_ids[server_target], json!({"Phone": server_phone}))
            .unwrap();
        ledger.wrote("Phone", &server_phone);

        // A sync cut off by SIGKILL at a moment spread over a whole run.
        let queued = f.pending().len();
        let delay = Duration::from_millis(rng.random_range(run_ms / 4..run_ms * 2));
        if f.run_killed_after(&["sync"], delay) {
            killed += 1;
            match f.pending().len() {
                0 => after_upload += 1,
                left if left < queued => mid_upload += 1,
                _ => before_upload += 1,
            }
        } else {
            finished += 1;
        }
    }

    // Space to breathe: no faults, and syncs run to the end.
    f.org.set_faults(FaultConfig::default());
    admin.hold_writes(None);
    let mut last = String::new();
    let ok = (0..3).any(|_| {
        let out = f.run(&["--json", "sync"]);
        last = String::from_utf8_lossy(&out.stderr).into_owned();
        out.status.success()
    });
    assert!(ok, "no sync completed after the kills; last error:\n{last}");
    f.json(&["sync"]);

    // Every create is on the org exactly once, its child points at it.
    for account in &accounts {
        assert_eq!(server_count(&f.org, "Account", "Name", account), 1, "{account} on the org");
    }
    for (contact, account) in &contacts {
        assert_eq!(server_count(&f.org, "Contact", "LastName", contact), 1, "{contact} on the org");
        let parent = server_column(&f.org, "Contact", "LastName", contact, "AccountId");
        let account_id = server_column(&f.org, "Account", "Name", account, "Id");
        assert!(parent.is_some() && parent == account_id, "{contact} points at {account}");
    }
    // Every update and delete reached the org.
    for (target, phone) in &phones {
        let on_server = admin.retrieve(TECH1, "Account", &server_ids[*target]).unwrap();
        assert_eq!(on_server["Phone"], phone.as_str(), "update of {}", server_ids[*target]);
    }
    if let Some(city) = &first_city {
        let on_server = server_column(&f.org, "Account", "Name", &accounts[0], "BillingCity");
        assert_eq!(on_server.as_deref(), Some(city.as_str()), "last update of {}", accounts[0]);
    }
    for victim in &deleted {
        assert!(server_deleted(&f.org, "Account", &server_ids[*victim]), "delete of {victim}");
    }
    // Nothing left queued but changes the server refused with a reason.
    let stuck: Vec<_> = f.pending().into_iter().filter(|c| c["reason"].is_null()).collect();
    assert!(stuck.is_empty(), "changes left without a server reason: {stuck:?}");

    // The store opens, holds no local id anywhere, and matches the org.
    let device = Device::open(f.dir(), Access::Read).expect("the store opens after the kills");
    let store = device.store();
    for object in ["Account", "Contact"] {
        for id in store.read(|r| r.record_ids(object)).unwrap() {
            assert!(!store::pending::is_local_id(&id), "{object} {id} kept its local id");
            let record = store.read(|r| r.get_record(object, &id)).unwrap().unwrap_or_default();
            if let Some(parent) = record.get("AccountId").and_then(|v| v.as_str()) {
                assert!(!store::pending::is_local_id(parent), "{object} {id} points at {parent}");
            }
        }
    }
    let checked = assert_invariants(&f.org, &[store.as_ref()], &ledger);
    println!(
        "kill points: {kill_points}, killed mid-run: {killed}, finished before the kill: {finished}, \
         queue untouched / part uploaded / all uploaded at the kill: \
         {before_upload} / {mid_upload} / {after_upload}, run length: {run_ms} ms, \
         accounts created: {}, records checked: {checked}, violations: 0",
        accounts.len()
    );
}

/// The id the device holds for the account named `name` (local until its create lands).
fn account_id(f: &Fixture, name: &str) -> String {
    let query = f.json(&["query", &format!("SELECT Id FROM Account WHERE Name = '{name}'")]);
    query["records"][0]["Id"].as_str().expect("the account is on the device").to_owned()
}
