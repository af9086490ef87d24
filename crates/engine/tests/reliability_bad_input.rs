//! Bad input, each refused with a clear error and nothing lost: a proxy answering HTML,
//! truncated or wrongly typed bodies mid-sync, an invalid profile, bad SOQL typed by the
//! user, a store locked by another process and a wrong encryption key.

mod reliability;

use std::sync::{Arc, Mutex};

use chrono::Duration;
use engine::ManualClock;
use engine::profile::ProfileSource;
use reliability::invariants::{CreatedLocally, OBJECT};
use reliability::{
    Ledger, TECH1, assert_invariants, client_for, engine_with_client, profile, start_org,
};
use serde_json::json;
use store::{PendingFilter, Store, StoreError, StoreKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A broken proxy on loopback: every request gets the same raw answer.
async fn broken_proxy(answer: Arc<Mutex<String>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.lock().unwrap().clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    url
}

fn http(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Mid-sync, the org's address answers like a broken proxy; each sync fails with an
/// error that says what came back, the local edits stay queued, and once the org is
/// reachable again everything lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_proxy_answers_fail_clearly_and_lose_nothing() {
    let org = start_org().await;
    org.admin().create(TECH1, OBJECT, json!({"Name": "first"})).unwrap();
    org.clock().advance(Duration::minutes(10));
    let dir = tempfile::TempDir::new().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("s.db"), &StoreKey::generate()).unwrap());
    let clock = Arc::new(ManualClock::new(org.clock().now()));
    let client = client_for(&org, TECH1).await;
    let engine =
        engine_with_client(client.clone(), store.clone(), clock, &profile("client-wins")).await;
    engine.sync(engine::SyncKind::Delta, &mut |_| {}).await.expect("first sync");

    let answer = Arc::new(Mutex::new(String::new()));
    let proxy = broken_proxy(answer.clone()).await;
    let good = client.session();
    let mut bad = good.clone();
    bad.instance_url = proxy;
    client.set_session(bad);

    let mut ledger = Ledger::default();
    let cases = [
        (
            http("502 Bad Gateway", "text/html", "<html><body>Bad Gateway</body></html>"),
            "text/html",
        ),
        (
            http("200 OK", "application/json", "{\"totalSize\": 3, \"records\": [{\"Id\""),
            "truncated",
        ),
        (
            http("200 OK", "application/json", "{\"totalSize\": \"many\", \"done\": 7}"),
            "unexpected JSON",
        ),
        (http("200 OK", "text/html", "<html>Sign in to the proxy</html>"), "text/html"),
    ];
    for (i, (raw, expected)) in cases.iter().enumerate() {
        *answer.lock().unwrap() = raw.clone();
        let name = format!("offline-{i}");
        let record: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(json!({"Name": name})).unwrap();
        store
            .write(|tx| {
                tx.record_edit(OBJECT, None, store::ChangeOp::Create, &record, org.clock().now())
            })
            .unwrap();
        ledger.creates.push(CreatedLocally { device: 0, name });
        let err = engine.sync(engine::SyncKind::Delta, &mut |_| {}).await.expect_err("sync fails");
        let message = err.to_string();
        assert!(message.contains(expected), "error {message:?} should say {expected:?}");
        let queued = store.read(|r| r.pending_changes(&PendingFilter::default())).unwrap();
        assert_eq!(queued.len(), i + 1, "every local create is still queued");
    }

    client.set_session(good);
    engine.sync(engine::SyncKind::Delta, &mut |_| {}).await.expect("sync after the proxy heals");
    engine.sync(engine::SyncKind::Delta, &mut |_| {}).await.expect("second clean sync");
    assert_invariants(&org, &[&store], &ledger);
}

/// A profile that is not valid TOML, has a bad filter, an unknown version, an unknown
/// policy or an unknown object is refused as a whole (when read or when checked against
/// the org), with an error naming the problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_profiles_are_refused_with_the_problem_named() {
    let org = start_org().await;
    let dir = tempfile::TempDir::new().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("s.db"), &StoreKey::generate()).unwrap());
    let client = client_for(&org, TECH1).await;
    for text in [
        "version = 1\n[objects.Account]\nfields = [\"Name\"\n",
        "version = 1\n[objects.Account]\nfields = [\"Name\"]\nfilter = \"Name = \"\n",
        "version = 99\n[objects.Account]\nfields = [\"Name\"]\n",
        "version = 1\n[objects.Account]\nfields = [\"Name\"]\nconflict = \"coin-toss\"\n",
        "version = 1\n[objects.WorkOrdr]\nfields = [\"Subject\"]\n",
        "version = 1\n[objects.Account]\nfields = [\"NoSuchField__c\"]\n",
    ] {
        let error = match ProfileSource::parse("profile.toml", text) {
            Err(e) => e.to_string(),
            Ok(source) => {
                let clock = Arc::new(ManualClock::new(org.clock().now()));
                match engine::Engine::open(store.clone(), client.clone(), &source, clock).await {
                    Err(e) => e.to_string(),
                    Ok(_) => panic!("profile accepted: {text}"),
                }
            }
        };
        assert!(!error.trim().is_empty(), "empty error for {text}");
    }
    let held = store.read(|r| r.cursors()).unwrap();
    assert!(held.is_empty(), "a refused profile left sync state behind");
}

/// Bad SOQL typed by the user is an error with a position; the store is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_soql_is_an_error_with_a_position() {
    let org = start_org().await;
    let dev = reliability::device(&org, TECH1, &profile("client-wins")).await;
    for soql in ["SELEC Id FROM Account", "SELECT Id FROM Account WHERE", "SELECT Id FROM Nope"] {
        let err = dev.engine.query(soql).expect_err("bad query refused");
        let message = err.to_string();
        assert!(!message.is_empty());
        if soql.starts_with("SELEC ") || soql.ends_with("WHERE") {
            assert!(message.contains("Row:1:Column:"), "{message}");
        }
    }
}

/// A second opener of a locked data directory, and an opener with the wrong key, are
/// refused with errors that say so; the data stays readable with the right key.
#[test]
fn locked_store_and_wrong_key_are_refused() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("s.db");
    let key = StoreKey::generate();
    let store = Store::open(&path, &key).unwrap();
    let _lock = Store::lock_exclusive(dir.path()).unwrap();
    match Store::lock_exclusive(dir.path()) {
        Err(StoreError::Locked { .. }) => {}
        other => panic!("second lock should be refused as Locked: {other:?}"),
    }
    drop(store);
    match Store::open(&path, &StoreKey::generate()) {
        Err(e @ StoreError::WrongKey { .. }) => assert!(!e.to_string().is_empty()),
        other => panic!("wrong key should be refused as WrongKey: {:?}", other.map(|_| ())),
    }
    Store::open(&path, &key).expect("the right key still opens it");
}
