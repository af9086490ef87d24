//! No secret reaches a log: the real binary runs with `RUST_LOG=trace` through a password
//! login with priming, offline edits whose values are distinctive markers, syncs, an
//! expired session (401) and a new login, while devorg (in this process) logs at trace
//! level too. Everything either side wrote is then searched for the password, the client
//! secret, every access and refresh token devorg issued, the store key and the markers.

mod cli_reliability;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use cli_reliability::{Fixture, TECH1};
use devorg::{DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD};

/// Everything devorg and the libraries in this process log.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

/// Every line of output a CLI run produced, with the command for the report.
struct Transcript(Vec<(String, String)>);

impl Transcript {
    fn add(&mut self, what: &str, out: &std::process::Output) {
        self.0.push((format!("{what} stdout"), String::from_utf8_lossy(&out.stdout).into_owned()));
        self.0.push((format!("{what} stderr"), String::from_utf8_lossy(&out.stderr).into_owned()));
    }
}

#[test]
fn a_whole_sync_at_trace_level_logs_no_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();

    let mut f = Fixture::new();
    f.env.push(("RUST_LOG".into(), "trace".into()));
    let admin = f.org.admin();
    let server_account =
        admin.create(TECH1, "Account", serde_json::json!({"Name": "srv-secret-check"})).unwrap();
    let mut t = Transcript(vec![]);

    let profile = f.write_profile();
    let login = f.login_args(&profile);
    let out = f.run(&login);
    assert!(out.status.success(), "login: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TRACE"), "trace logging is on");
    t.add("login", &out);

    // Offline edits whose values are markers, then a sync that uploads them.
    let name_marker = "Marker-Name-7f3a91c2";
    let phone_marker = "555-0199-4d1e";
    let city_marker = "Marker-City-b20e6d55";
    let name = format!("Name={name_marker}");
    let phone = format!("Phone={phone_marker}");
    for (what, args) in [
        ("create", vec!["--json", "create", "Account", name.as_str()]),
        ("update", vec!["update", "Account", server_account.as_str(), phone.as_str()]),
    ] {
        let out = f.run(&args);
        assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        t.add(what, &out);
    }
    let out = f.run(&["sync"]);
    assert!(out.status.success(), "sync: {}", String::from_utf8_lossy(&out.stderr));
    t.add("sync", &out);

    // The session expires; the next sync meets a 401 and asks for a new login.
    let out = f.run(&["update", "Account", &server_account, &format!("BillingCity={city_marker}")]);
    assert!(out.status.success(), "update: {}", String::from_utf8_lossy(&out.stderr));
    t.add("update after sync", &out);
    f.org.expire_all_tokens().unwrap();
    let out = f.run(&["sync"]);
    t.add("sync with an expired session", &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a sync with an expired password session fails: {stderr}");
    assert!(stderr.contains("log in"), "the error asks for a new login: {stderr}");
    let out = f.run(&login);
    assert!(out.status.success(), "second login: {}", String::from_utf8_lossy(&out.stderr));
    t.add("second login", &out);
    let out = f.run(&["sync"]);
    assert!(out.status.success(), "sync: {}", String::from_utf8_lossy(&out.stderr));
    t.add("sync after the new login", &out);
    let on_server = admin.retrieve(TECH1, "Account", &server_account).unwrap();
    assert_eq!(on_server["BillingCity"], city_marker, "the edit made before the 401 landed");

    // The secrets: what the user typed, what devorg issued, what keeps the store.
    let mut secrets: Vec<(String, String)> = vec![
        ("password".into(), DEMO_TECH_PASSWORD.into()),
        ("client secret".into(), DEMO_CLIENT_SECRET.into()),
        ("Name marker".into(), name_marker.into()),
        ("Phone marker".into(), phone_marker.into()),
        ("BillingCity marker".into(), city_marker.into()),
    ];
    let tokens: Vec<(String, String)> = admin.with_db(|conn| {
        let mut stmt = conn.prepare("SELECT kind, token FROM _tokens").unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    });
    assert!(tokens.iter().filter(|(kind, _)| kind == "access").count() >= 2, "{tokens:?}");
    for (kind, token) in tokens {
        secrets.push((format!("{kind} token"), token.clone()));
        // The part after the org id is what makes a token secret.
        if let Some((_, tail)) = token.split_once('!') {
            secrets.push((format!("{kind} token tail"), tail.to_owned()));
        }
    }
    let key = std::fs::read_to_string(f.dir().join("store.key")).unwrap();
    let key = key.trim().to_owned();
    assert!(key.len() >= 32, "the key file holds the key");
    secrets.push(("store key".into(), key.clone()));
    secrets.push(("store key (upper case)".into(), key.to_uppercase()));

    let mut logs = t.0;
    logs.push(("devorg (in process)".into(), capture.text()));
    assert!(logs.iter().any(|(_, text)| text.contains("devorg")), "devorg's log was captured");
    let mut leaks = vec![];
    for (what, text) in &logs {
        for (name, secret) in &secrets {
            if text.contains(secret.as_str()) {
                let line = text.lines().find(|l| l.contains(secret.as_str())).unwrap_or_default();
                leaks.push(format!("{name} in {what}: {line}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets in the logs:\n{}", leaks.join("\n"));
    let total: usize = logs.iter().map(|(_, text)| text.len()).sum();
    println!("searched {total} bytes of output for {} secrets: none found", secrets.len());
}
