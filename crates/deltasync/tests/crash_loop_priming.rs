//! Crash loop of priming with the real binary: `deltasync login` and then `deltasync sync`
//! are SIGKILLed at seeded moments while priming several pages of accounts, with server
//! edits and local edits of the records already stored arriving between the kills. Every
//! killed run leaves the store whole and keeps what it had stored (priming resumes, it
//! never starts over), and once a run is let finish the device holds exactly the org's
//! accounts, with every edit on the org.
//!
//! `PRIMING_KILL_POINTS` (default 6) and `CRASH_LOOP_SEED` set the length and seed;
//! `scripts/soak` runs a long version.

mod cli_reliability;

use std::time::Duration;

use cli_reliability::invariants::{Ledger, assert_invariants};
use cli_reliability::{Fixture, TECH1, env_number};
use deltasync::device::{Access, Device};
use devorg::{FaultConfig, Latency};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// Accounts on the org: five pages of 2,000.
const ACCOUNTS: usize = 9_000;

/// Accounts the device holds, or `None` before its store exists.
fn stored_accounts(f: &Fixture) -> Option<u64> {
    let device = Device::open(f.dir(), Access::Read).ok()?;
    device.store().read(|r| r.count("Account")).ok()
}

/// How far the accounts' priming has come, as its cursor row says: its phase (server
/// scope, held links, done; ranked in that order) and the records it has stored.
fn priming_progress(f: &Fixture) -> Option<(u8, u64)> {
    let device = Device::open(f.dir(), Access::Read).ok()?;
    let cursor = device.store().read(|r| r.cursor("Account")).ok()??;
    let state = cursor.prime_state?;
    let phase = match state["phase"].as_str()? {
        "server" => 0,
        "held" => 1,
        _ => 2,
    };
    Some((phase, state["done"].as_u64().unwrap_or(0)))
}

/// Whether the device has a saved session, so that `sync` (not `login`) goes on.
fn logged_in(f: &Fixture) -> bool {
    f.run(&["--json", "status"]).status.success()
}

#[test]
fn sigkilled_priming_resumes_and_converges() {
    let kill_points = env_number("PRIMING_KILL_POINTS", 6);
    let seed = env_number("CRASH_LOOP_SEED", 7);
    let mut rng = StdRng::seed_from_u64(seed);
    let f = Fixture::new();
    let admin = f.org.admin();
    let mut ledger = Ledger::default();
    let records = (0..ACCOUNTS).map(|i| json!({"Name": format!("prime-{i}"), "Phone": "0"}));
    let server_ids = admin.create_many(TECH1, "Account", records.collect()).unwrap();
    ledger.wrote("Phone", "0");
    let profile = f.write_profile();

    // Every answer is slowed, so a priming run lasts long enough to be cut between pages
    // and within them.
    f.org.set_faults(FaultConfig {
        seed,
        latency: Latency { fixed_ms: 200, spike_rate: 0.2, spike_ms: 300 },
        ..FaultConfig::default()
    });

    let (mut killed, mut finished, mut partial) = (0u64, 0u64, 0u64);
    let mut stored_before = 0u64;
    let mut progress_before: Option<(u8, u64)> = None;
    let mut local_edits = 0u64;
    for point in 0..kill_points {
        // A server edit, and a local edit of an account already stored, between runs.
        let target = rng.random_range(0..ACCOUNTS);
        let server_phone = format!("s{point}");
        admin
            .update(TECH1, "Account", &server_ids[target], json!({"Phone": server_phone}))
            .unwrap();
        ledger.wrote("Phone", &server_phone);
        if stored_before > 0 {
            let query = f.json(&["query", "SELECT Id FROM Account ORDER BY Name LIMIT 1"]);
            if let Some(id) = query["records"][0]["Id"].as_str() {
                let phone = format!("p{point}");
                f.edit(&["update", "Account", id, &format!("Phone={phone}")]);
                ledger.wrote("Phone", &phone);
                local_edits += 1;
            }
        }

        // A login (until one has saved its session), else a sync, cut off by SIGKILL.
        let args = if logged_in(&f) { vec!["sync"] } else { f.login_args(&profile) };
        let delay = Duration::from_millis(rng.random_range(300..3_000));
        let was_killed = f.run_killed_after(&args, delay);
        if was_killed {
            killed += 1;
        } else {
            finished += 1;
        }

        // The store opens after every kill and never holds fewer accounts than before,
        // and priming never goes back: a resumed run starts where the committed cursor
        // stands, not from the first page.
        let stored = stored_accounts(&f).unwrap_or(0);
        assert!(
            stored >= stored_before,
            "kill point {point}: the store went from {stored_before} to {stored} accounts"
        );
        let progress = priming_progress(&f);
        assert!(
            progress >= progress_before,
            "kill point {point}: priming went back from {progress_before:?} to {progress:?}"
        );
        progress_before = progress;
        if was_killed && stored > 0 && stored < ACCOUNTS as u64 {
            partial += 1;
        }
        stored_before = stored;
    }

    // No faults; the next run primes what is left, then a sync uploads and converges.
    f.org.set_faults(FaultConfig::default());
    if !logged_in(&f) {
        f.json(&f.login_args(&profile));
    }
    let mut last = String::new();
    let ok = (0..3).any(|_| {
        let out = f.run(&["--json", "sync"]);
        last = String::from_utf8_lossy(&out.stderr).into_owned();
        out.status.success()
    });
    assert!(ok, "no sync completed after the kills; last error:\n{last}");
    f.json(&["sync"]);

    assert_eq!(stored_accounts(&f), Some(ACCOUNTS as u64), "every account is on the device");
    let stuck = f.pending();
    assert!(stuck.is_empty(), "changes left queued: {stuck:?}");
    let device = Device::open(f.dir(), Access::Read).expect("the store opens after the kills");
    let checked = assert_invariants(&f.org, &[device.store().as_ref()], &ledger);
    println!(
        "kill points: {kill_points}, killed mid-run: {killed}, finished before the kill: \
         {finished}, killed with part of the accounts stored: {partial}, local edits: \
         {local_edits}, records checked: {checked}, violations: 0"
    );
}
