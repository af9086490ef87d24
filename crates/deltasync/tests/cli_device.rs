//! The command line against devorg on loopback, as a technician uses it: login and
//! priming, status, offline queries and edits, pending changes, sync, history, schedule
//! and logout, in JSON and text, plus the one-line messages for bad input.

use std::path::Path;
use std::process::{Command, Output};

use chrono::Duration;
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use serde_json::{Value, json};
use tempfile::TempDir;

const TECH1: &str = "tech1@field.example";

/// A running org with a few field-service records, and an empty data folder.
struct Fixture {
    org: RunningOrg,
    dir: TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl Fixture {
    fn new() -> Fixture {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let org = runtime.block_on(DevOrg::start(Config::default())).expect("devorg starts");
        let f = Fixture { org, dir: TempDir::new().unwrap(), _runtime: runtime };
        f.seed();
        f
    }

    fn seed(&self) {
        let admin = self.org.admin();
        let tech1 = admin.user_id(TECH1).unwrap();
        let at = |days: i64| {
            (self.org.clock().now() + Duration::days(days))
                .format("%Y-%m-%dT%H:%M:%S.000+0000")
                .to_string()
        };
        let create = |object: &str, record: Value| admin.create(TECH1, object, record).unwrap();
        let account = create("Account", json!({"Name": "Acme Pumps", "BillingCity": "Lyon"}));
        let wo = create("WorkOrder", json!({"Subject": "Fix pump", "AccountId": account}));
        create("WorkOrderLineItem", json!({"WorkOrderId": wo, "Subject": "Seal"}));
        create(
            "ServiceAppointment",
            json!({"ParentRecordId": wo, "Technician__c": tech1, "Subject": "Visit", "SchedStartTime": at(1)}),
        );
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_deltasync"))
            .arg("--data-dir")
            .arg(self.dir())
            .args(args)
            .env_remove("DELTASYNC_HOME")
            .env_remove("RUST_LOG")
            // No session bus (the data folder has no `bus` socket): the key goes to the key
            // file this test checks, never to the keyring of whoever runs it.
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("XDG_RUNTIME_DIR", self.dir())
            .output()
            .expect("deltasync runs")
    }

    /// Runs with standard output a pipe whose reader is gone before anything is written
    /// (`deltasync ... | head -0`); returns the exit status and standard error.
    fn run_into_closed_pipe(&self, args: &[&str]) -> (std::process::ExitStatus, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_deltasync"))
            .arg("--data-dir")
            .arg(self.dir())
            .args(args)
            .env_remove("DELTASYNC_HOME")
            .env_remove("RUST_LOG")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("XDG_RUNTIME_DIR", self.dir())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("deltasync runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("deltasync ends");
        (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// Runs with `--json`, expects success, and returns the parsed output.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "deltasync {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("deltasync {args:?}: not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout))
        })
    }

    /// Runs, expects failure, and returns standard error.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "deltasync {args:?} should fail");
        assert!(!stderr.contains("panicked"), "deltasync {args:?} panicked:\n{stderr}");
        stderr
    }

    fn login(&self) -> Value {
        self.json(&[
            "login",
            "--url",
            self.org.url(),
            "--username",
            TECH1,
            "--password",
            DEMO_TECH_PASSWORD,
            "--client-id",
            DEMO_CLIENT_ID,
            "--client-secret",
            DEMO_CLIENT_SECRET,
        ])
    }
}

/// The single line that names the problem.
fn error_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "expected one error line:\n{stderr}");
    lines[0].to_owned()
}

#[test]
fn a_technician_works_offline_and_syncs() {
    let f = Fixture::new();

    let login = f.login();
    assert_eq!(login["username"], TECH1);
    assert!(login["records"].as_u64().unwrap() >= 4, "{login}");
    assert_eq!(login["objects"]["ServiceAppointment"]["new"], 1, "{login}");
    assert!(login["event_id"].as_i64().is_some());
    assert!(f.dir().join("store.key").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f.dir().join("store.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let status = f.json(&["status"]);
    assert_eq!(status["user"]["username"], TECH1);
    assert_eq!(status["online"], true);
    assert_eq!(status["pending"], 0);
    let objects = status["objects"].as_array().unwrap();
    let wo = objects.iter().find(|o| o["object"] == "WorkOrder").expect("WorkOrder listed");
    assert_eq!(wo["records"], 1);
    assert!(wo["last_sync_at"].is_string());

    let query = f.json(&["query", "SELECT Id, Subject FROM WorkOrder"]);
    assert_eq!(query["totalSize"], 1);
    assert_eq!(query["records"][0]["Subject"], "Fix pump");
    assert_eq!(query["records"][0]["attributes"]["type"], "WorkOrder");
    let wo_id = query["records"][0]["Id"].as_str().unwrap().to_owned();

    // Edits, validated against the describe.
    let created = f.json(&["create", "WorkOrder", "Subject=New job", "Priority=High"]);
    let local_id = created["id"].as_str().unwrap().to_owned();
    assert!(local_id.starts_with("local-"), "{created}");
    assert_eq!(created["object"], "WorkOrder");
    f.json(&["update", "WorkOrder", &wo_id, "Subject=Fix pump today"]);
    let err = error_line(&f.fails(&["update", "WorkOrder", &wo_id, "Priority=Urgent"]));
    assert!(err.contains("Priority: 'Urgent' is not one of: Low, Medium, High, Critical"), "{err}");
    let err = error_line(&f.fails(&["create", "Invoice", "Name=x"]));
    assert!(err.contains("unknown object 'Invoice'"), "{err}");
    let err = error_line(&f.fails(&["update", "WorkOrder", &wo_id, "Nope__c=1"]));
    assert!(err.contains("Nope__c: no such field on WorkOrder"), "{err}");
    let long = format!("Subject={}", "x".repeat(300));
    let err = error_line(&f.fails(&["update", "WorkOrder", &wo_id, &long]));
    assert!(err.contains("Subject: too long (max 255)"), "{err}");
    let err = error_line(&f.fails(&["update", "WorkOrder", &wo_id, "StartDate=tomorrow"]));
    assert!(err.contains("StartDate: 'tomorrow' is not a date and time"), "{err}");
    let line_item = f.json(&["query", "SELECT Id FROM WorkOrderLineItem"]);
    let item_id = line_item["records"][0]["Id"].as_str().unwrap().to_owned();
    f.json(&["delete", "WorkOrderLineItem", &item_id]);

    let query = f.json(&["query", "SELECT Subject FROM WorkOrder ORDER BY Subject"]);
    // Offline SOQL sees the record created offline next to the edited one.
    assert_eq!(query["totalSize"], 2, "{query}");
    assert_eq!(query["records"][0]["Subject"], "Fix pump today");
    assert_eq!(query["records"][1]["Subject"], "New job");
    let status = f.json(&["status"]);
    let wo = status["objects"].as_array().unwrap().iter().find(|o| o["object"] == "WorkOrder");
    assert_eq!(wo.unwrap()["records"], 2, "the local create is stored");
    let query = f.json(&["query", "SELECT Id FROM WorkOrderLineItem"]);
    assert_eq!(query["totalSize"], 0, "the local delete hides the record");

    let pending = f.json(&["pending"]);
    let changes = pending["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{pending}");
    let ops: Vec<&str> = changes.iter().map(|c| c["op"].as_str().unwrap()).collect();
    assert_eq!(ops, vec!["create", "update", "delete"]);
    assert_eq!(changes[0]["state"], "waiting");
    assert_eq!(changes[0]["record_id"], local_id.as_str());

    // Bad SOQL names the position.
    let err = error_line(&f.fails(&["query", "SELECT Id FORM WorkOrder"]));
    assert!(err.contains("Row:1:Column:"), "{err}");

    // Logout refuses while changes wait.
    let err = error_line(&f.fails(&["logout"]));
    assert!(err.contains("3 pending change(s)"), "{err}");
    assert!(f.dir().join("store.db").exists());

    // Discarding a change undoes it locally.
    let delete_seq = changes[2]["seq"].as_i64().unwrap().to_string();
    f.json(&["pending", "discard", &delete_seq]);
    let query = f.json(&["query", "SELECT Id FROM WorkOrderLineItem"]);
    assert_eq!(query["totalSize"], 1);
    let err = error_line(&f.fails(&["pending", "retry", "9999"]));
    assert!(err.contains("no pending change 9999"), "{err}");

    // A server-side change arrives with the next sync.
    let admin = f.org.admin();
    let account = f.json(&["query", "SELECT Id FROM Account"]);
    let account_id = account["records"][0]["Id"].as_str().unwrap().to_owned();
    admin.update(TECH1, "Account", &account_id, json!({"Phone": "555-0100"})).unwrap();
    let sync = f.json(&["sync"]);
    assert!(sync["event_id"].as_i64().is_some(), "{sync}");
    assert_eq!(sync["objects"]["Account"]["updated"], 1, "{sync}");
    assert_eq!(sync["upload"]["uploaded"], 2, "{sync}");
    assert!(f.json(&["pending"])["changes"].as_array().unwrap().is_empty());
    let on_server = admin.retrieve(TECH1, "WorkOrder", &wo_id).unwrap();
    assert_eq!(on_server["Subject"], "Fix pump today");
    assert!(sync["next_sync"]["object"].is_string(), "{sync}");
    let query = f.json(&["query", "SELECT Phone FROM Account"]);
    assert_eq!(query["records"][0]["Phone"], "555-0100");

    let history = f.json(&["history"]);
    let events = history["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["kind"], "user", "newest first");
    assert_eq!(events[1]["kind"], "initial");
    assert_eq!(events[0]["outcome"], "succeeded");
    let id = events[1]["id"].as_i64().unwrap().to_string();
    let shown = f.json(&["history", "show", &id]);
    assert_eq!(shown["kind"], "initial");
    assert_eq!(shown["counts"]["ServiceAppointment"]["new"], 1, "{shown}");
    let err = error_line(&f.fails(&["history", "show", "999"]));
    assert!(err.contains("no sync event 999"), "{err}");

    let schedule = f.json(&["schedule"]);
    let entries = schedule["objects"].as_array().unwrap();
    assert_eq!(entries.len(), 7);
    let product = entries.iter().find(|e| e["object"] == "Product2").unwrap();
    assert_eq!(product["interval_secs"], 86_400);
    assert!(product["next_due_at"].is_string());

    // Text output.
    let out = f.run(&["sync"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("next sync: "), "{text}");
    let out = f.run(&["query", "SELECT Name FROM Account"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Acme Pumps") && text.contains("1 record(s)"), "{text}");

    f.json(&["update", "WorkOrder", &wo_id, "Subject=One more"]);
    let logout = f.json(&["logout", "--force"]);
    assert_eq!(logout["discarded_changes"], 1);
    assert!(!f.dir().join("store.db").exists());
    assert!(!f.dir().join("store.key").exists());
    let err = error_line(&f.fails(&["status"]));
    assert!(err.contains("not logged in"), "{err}");
}

#[test]
fn a_wrong_password_is_refused_in_one_line() {
    let f = Fixture::new();
    let url = f.org.url().to_owned();
    let err = error_line(&f.fails(&[
        "login",
        "--url",
        &url,
        "--username",
        TECH1,
        "--password",
        "wrong",
        "--client-secret",
        DEMO_CLIENT_SECRET,
    ]));
    assert!(err.contains("login refused"), "{err}");
    assert!(err.contains("authentication failure"), "{err}");
    assert!(!err.contains("wrong"), "the password is never echoed: {err}");
}

#[test]
fn a_password_login_without_the_app_secret_says_what_is_missing() {
    let f = Fixture::new();
    let url = f.org.url().to_owned();
    let err = error_line(&f.fails(&[
        "login",
        "--url",
        &url,
        "--username",
        TECH1,
        "--password",
        DEMO_TECH_PASSWORD,
    ]));
    assert!(err.contains("invalid_client"), "{err}");
    assert!(err.contains("--client-secret"), "{err}");
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
    let f = Fixture::new();
    f.login();
    let first = deltasync::device::Device::open(f.dir(), deltasync::device::Access::Write)
        .expect("first writer");
    let err = error_line(&f.fails(&["create", "WorkOrder", "Subject=x"]));
    assert!(err.contains("in use by another deltasync process"), "{err}");
    assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
    // Readers still work alongside the writer.
    let query = f.json(&["query", "SELECT Id FROM WorkOrder"]);
    assert_eq!(query["totalSize"], 1);
    drop(first);
    f.json(&["create", "WorkOrder", "Subject=x"]);
}

#[test]
fn a_conflict_is_listed_and_resolved_field_by_field() {
    let f = Fixture::new();
    f.login();
    let query = f.json(&["query", "SELECT Id FROM WorkOrder"]);
    let wo_id = query["records"][0]["Id"].as_str().unwrap().to_owned();

    // WorkOrder's policy is manual: the same field changed on both sides waits for a person.
    f.json(&["update", "WorkOrder", &wo_id, "Subject=Local subject"]);
    f.org.admin().update(TECH1, "WorkOrder", &wo_id, json!({"Subject": "Server subject"})).unwrap();
    let sync = f.json(&["sync"]);
    assert_eq!(sync["upload"]["conflicts"], 1, "{sync}");

    let pending = f.json(&["pending"]);
    let change = &pending["changes"][0];
    assert_eq!(change["state"], "conflict", "{pending}");
    assert_eq!(change["server_values"]["Subject"], "Server subject", "{pending}");
    let seq = change["seq"].as_i64().unwrap().to_string();
    let err = error_line(&f.fails(&["pending", "resolve", &seq, "Nope=local"]));
    assert!(err.contains("Nope: no such field on WorkOrder"), "{err}");

    let resolved = f.json(&["pending", "resolve", &seq, "Subject=local"]);
    assert_eq!(resolved["result"], "resolved");
    let sync = f.json(&["sync"]);
    assert_eq!(sync["upload"]["uploaded"], 1, "{sync}");
    let on_server = f.org.admin().retrieve(TECH1, "WorkOrder", &wo_id).unwrap();
    assert_eq!(on_server["Subject"], "Local subject");
}

/// The work order edited here while the org deleted it (its policy is manual), after the
/// sync that met the deletion; returns its id and its change's seq.
fn work_order_deleted_while_edited(f: &Fixture) -> (String, String) {
    f.login();
    let query = f.json(&["query", "SELECT Id FROM WorkOrder"]);
    let wo_id = query["records"][0]["Id"].as_str().unwrap().to_owned();
    f.json(&["update", "WorkOrder", &wo_id, "Subject=Kept locally"]);
    f.org.admin().delete(TECH1, "WorkOrder", &wo_id).unwrap();
    let sync = f.json(&["sync"]);
    assert_eq!(sync["upload"]["conflicts"], 1, "{sync}");

    let pending = f.json(&["pending"]);
    let change = &pending["changes"][0];
    assert_eq!((&change["record_id"], &change["state"]), (&json!(wo_id), &json!("conflict")));
    assert_eq!(change["deleted_on_server"], true, "{pending}");
    let seq = change["seq"].as_i64().unwrap().to_string();
    let reason = change["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("'pending resolve {seq} recreate'")), "{reason}");
    (wo_id, seq)
}

#[test]
fn a_record_the_server_deleted_is_created_again_on_request() {
    let f = Fixture::new();
    let (wo_id, seq) = work_order_deleted_while_edited(&f);

    // Field choices make no sense for a deleted record: the message names the two ways.
    let err = error_line(&f.fails(&["pending", "resolve", &seq, "Subject=local"]));
    assert!(err.contains("was deleted on the server"), "{err}");
    assert!(err.contains(&format!("pending resolve {seq} recreate")), "{err}");
    assert!(err.contains(&format!("pending discard {seq}")), "{err}");

    let resolved = f.json(&["pending", "resolve", &seq, "recreate"]);
    assert_eq!(resolved["result"], "queued_to_be_created_again");
    let sync = f.json(&["sync"]);
    assert_eq!(sync["upload"]["uploaded"], 1, "{sync}");
    assert!(f.json(&["pending"])["changes"].as_array().unwrap().is_empty());
    let local = f.json(&["query", "SELECT Id, Subject FROM WorkOrder"]);
    assert_eq!(local["totalSize"], 1, "{local}");
    let new_id = local["records"][0]["Id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, wo_id);
    let on_server = f.org.admin().retrieve(TECH1, "WorkOrder", &new_id).unwrap();
    assert_eq!(on_server["Subject"], "Kept locally");
}

#[test]
fn the_edit_of_a_record_the_server_deleted_is_dropped_on_request() {
    let f = Fixture::new();
    let (wo_id, seq) = work_order_deleted_while_edited(&f);

    f.json(&["pending", "discard", &seq]);
    assert!(f.json(&["pending"])["changes"].as_array().unwrap().is_empty());
    let local = f.json(&["query", &format!("SELECT Id FROM WorkOrder WHERE Id = '{wo_id}'")]);
    assert_eq!(local["totalSize"], 0, "the record left the device with its edit: {local}");
    let sync = f.json(&["sync"]);
    assert_eq!(sync["upload"]["uploaded"], 0, "{sync}");
    let on_server: i64 = f.org.admin().with_db(|db| {
        db.query_row("SELECT count(*) FROM \"WorkOrder\" WHERE \"IsDeleted\" = 0", [], |r| r.get(0))
            .unwrap()
    });
    assert_eq!(on_server, 0, "nothing was created again");
}

#[test]
fn a_login_refused_by_the_org_leaves_no_session_behind() {
    let f = Fixture::new();
    let profile = f
        .dir()
        .with_file_name(format!("{}-profile.toml", f.dir().file_name().unwrap().to_string_lossy()));
    std::fs::write(
        &profile,
        "version = 1\n\n[objects.Account]\nfields = [\"Name\", \"NoSuchField__c\"]\ninterval = \"15m\"\n",
    )
    .unwrap();
    let url = f.org.url().to_owned();
    let err = error_line(&f.fails(&[
        "login",
        "--url",
        &url,
        "--username",
        TECH1,
        "--password",
        DEMO_TECH_PASSWORD,
        "--client-secret",
        DEMO_CLIENT_SECRET,
        "--profile",
        profile.to_str().unwrap(),
    ]));
    std::fs::remove_file(&profile).unwrap();
    assert!(err.contains("NoSuchField__c"), "{err}");

    // The device did not keep a session whose profile was never put in force.
    let err = error_line(&f.fails(&["sync"]));
    assert!(err.contains("not logged in"), "{err}");
}

#[test]
fn a_query_larger_than_a_page_prints_every_record_once() {
    let f = Fixture::new();
    let admin = f.org.admin();
    // More than one page of the store's answer (2,000 records).
    let names: Vec<String> = (0..2_150).map(|i| format!("Part {i:04}")).collect();
    for name in names.iter().rev() {
        admin
            .create("admin@devorg.example", "Product2", json!({"Name": name, "IsActive": true}))
            .unwrap();
    }
    f.login();

    let all = f.json(&["query", "SELECT Id, Name FROM Product2 ORDER BY Name"]);
    assert_eq!(all["totalSize"], 2_150);
    assert_eq!(all["done"], true);
    assert!(all.get("nextRecordsUrl").is_none(), "the CLI prints the whole result");
    let printed: Vec<&str> =
        all["records"].as_array().unwrap().iter().map(|r| r["Name"].as_str().unwrap()).collect();
    assert_eq!(printed, names);

    let out = f.run(&["query", "SELECT Name FROM Product2 ORDER BY Name DESC"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 + 2_150 + 1, "header, rule, rows, total");
    assert_eq!(lines[0], "Name");
    let rows: Vec<&str> = lines[2..lines.len() - 1].to_vec();
    let expected: Vec<&str> = names.iter().rev().map(String::as_str).collect();
    assert_eq!(rows, expected);
    assert_eq!(lines[lines.len() - 1], "2150 record(s)");

    // A reader that goes away ends the command quietly, whatever it was printing.
    for args in [
        &["query", "SELECT Name FROM Product2"][..],
        &["--json", "query", "SELECT Name FROM Product2"],
        &["status"],
        &["--json", "history"],
    ] {
        let (status, stderr) = f.run_into_closed_pipe(args);
        assert!(status.success(), "{args:?}: {status}: {stderr}");
        assert!(stderr.trim().is_empty(), "{args:?} wrote to standard error: {stderr}");
    }
}

#[test]
fn records_over_max_records_are_left_out_and_reported() {
    let f = Fixture::new();
    let admin = f.org.admin();
    for i in 0..5 {
        let product = json!({"Name": format!("Pump {i}"), "IsActive": true});
        admin.create("admin@devorg.example", "Product2", product).unwrap();
    }
    let profile = f
        .dir()
        .with_file_name(format!("{}-capped.toml", f.dir().file_name().unwrap().to_string_lossy()));
    std::fs::write(
        &profile,
        "version = 1\n\n[objects.Product2]\nfields = [\"Name\", \"IsActive\"]\nfilter = \"IsActive = true\"\nmax_records = 3\n",
    )
    .unwrap();
    let url = f.org.url().to_owned();
    let login = f.json(&[
        "login",
        "--url",
        &url,
        "--username",
        TECH1,
        "--password",
        DEMO_TECH_PASSWORD,
        "--client-id",
        DEMO_CLIENT_ID,
        "--client-secret",
        DEMO_CLIENT_SECRET,
        "--profile",
        profile.to_str().unwrap(),
    ]);
    std::fs::remove_file(&profile).unwrap();
    assert_eq!(login["objects"]["Product2"]["new"], 3, "{login}");
    assert_eq!(login["objects"]["Product2"]["over_limit"], 2, "{login}");

    let status = f.json(&["status"]);
    let product = &status["objects"][0];
    assert_eq!(
        (product["object"].clone(), product["records"].clone()),
        (json!("Product2"), json!(3))
    );
    assert_eq!(product["over_limit"], 2, "{status}");
    let text = String::from_utf8(f.run(&["status"]).stdout).unwrap();
    assert!(text.contains("Product2: 2 record(s) in scope not stored"), "{text}");

    // A delta keeps the cap too, and says so.
    admin
        .create("admin@devorg.example", "Product2", json!({"Name": "Pump 5", "IsActive": true}))
        .unwrap();
    let out = f.run(&["sync"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // The records left out at priming are read again in the delta's overlap window, and
    // count again: every record in scope that the run read and could not store.
    assert!(
        text.contains("Product2: 0 new, 0 updated, 0 deleted, 0 left scope, 0 entered scope, 3 not stored (over max_records)"),
        "{text}"
    );
    let history = f.json(&["history"]);
    assert_eq!(history["events"][0]["counts"]["Product2"]["over_limit"], 3, "{history}");
    assert_eq!(f.json(&["query", "SELECT COUNT() FROM Product2"])["totalSize"], 3);
}
