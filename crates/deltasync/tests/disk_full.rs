//! A full disk at the product level: the data folder sits on a small tmpfs of its own (a
//! private user and mount namespace, no root needed) and the real binary runs there. The
//! disk fills during priming and before an offline edit: each time the command fails with
//! one line that says the disk is full, nothing panics, nothing already saved is lost, and
//! once space returns priming resumes and the next sync uploads every pending change.

mod cli_reliability;

use cli_reliability::small_disk::SmallDisk;
use cli_reliability::{Fixture, TECH1, server_count};
use serde_json::json;

const SERVER_ACCOUNTS: usize = 4000;

/// Runs, expects failure without a panic, and returns the one `error:` line.
fn fails(f: &Fixture, args: &[&str]) -> String {
    let out = f.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "deltasync {args:?} should fail on a full disk");
    assert!(!stderr.contains("panicked"), "deltasync {args:?} panicked:\n{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line:\n{stderr}");
    lines[0].to_owned()
}

fn says_disk_full(line: &str) -> bool {
    let line = line.to_lowercase();
    line.contains("disk is full") || line.contains("no space")
}

#[test]
fn a_full_disk_is_named_and_loses_nothing() {
    let mut f = Fixture::new();
    let disk = match SmallDisk::mount(f.dir(), 16 * 1024) {
        Ok(disk) => disk,
        Err(why) => panic!("this test needs user namespaces (unshare -Urm): {why}"),
    };
    f.disk = Some(disk);
    let disk = f.disk.as_ref().unwrap();
    let admin = f.org.admin();
    let padding = "x".repeat(200);
    let records: Vec<_> = (0..SERVER_ACCOUNTS)
        .map(|i| json!({"Name": format!("acct-{i}-{padding}"), "Phone": "0"}))
        .collect();
    admin.create_many(TECH1, "Account", records).unwrap();
    let target = admin.create(TECH1, "Account", json!({"Name": "to-update"})).unwrap();

    // Priming runs out of space part way.
    disk.fill(1024);
    let profile = f.write_profile();
    let login = f.login_args(&profile);
    let err = fails(&f, &login);
    assert!(says_disk_full(&err), "priming names the problem: {err}");
    // The login itself went through (the profile is in force): priming ran out.
    let status = f.json(&["status"]);
    let objects: Vec<&str> =
        status["objects"].as_array().unwrap().iter().filter_map(|o| o["object"].as_str()).collect();
    assert_eq!(objects, vec!["Account", "Contact"], "{status}");
    let primed = status["objects"][0]["records"].as_u64().unwrap();
    assert!(primed < SERVER_ACCOUNTS as u64, "priming stopped part way: {status}");

    // Space returns: the next sync finishes priming.
    disk.free();
    f.json(&["sync"]);
    let status = f.json(&["status"]);
    let accounts = status["objects"].as_array().unwrap().iter().find(|o| o["object"] == "Account");
    assert_eq!(accounts.unwrap()["records"], SERVER_ACCOUNTS + 1, "{status}");

    // Offline edits, then the disk fills before one more.
    f.edit(&["create", "Account", "Name=saved-before-full"]);
    f.edit(&["update", "Account", &target, "Phone=555-0101"]);
    assert_eq!(f.pending().len(), 2);
    disk.fill(0);
    let err = fails(&f, &["--json", "create", "Account", "Name=refused-when-full"]);
    assert!(says_disk_full(&err), "the edit names the problem: {err}");

    // Space returns: the earlier changes are all there, the refused one is not.
    disk.free();
    let pending = f.pending();
    let names: Vec<&str> = pending.iter().filter_map(|c| c["fields"]["Name"].as_str()).collect();
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert_eq!(names, vec!["saved-before-full"]);
    f.json(&["sync"]);
    assert!(f.pending().is_empty(), "every change uploaded");
    assert_eq!(server_count(&f.org, "Account", "Name", "saved-before-full"), 1);
    assert_eq!(server_count(&f.org, "Account", "Name", "refused-when-full"), 0);
    let updated = admin.retrieve(TECH1, "Account", &target).unwrap();
    assert_eq!(updated["Phone"], "555-0101");
}
