//! Logins other than the password grant, and a store key that does not fit: the browser
//! login (authorization code with PKCE on a loopback redirect) against devorg, with the
//! browser played by an HTTP client, and the JWT bearer login with a key made for the test.
//!
//! Every command runs without a session bus, so store keys go to key files and the keyring
//! of whoever runs the tests is left alone (`cli_keyring.rs` tests the keyring).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use devorg::{Config, DEMO_CLIENT_ID, DevOrg};
use serde_json::Value;

const TECH1: &str = "tech1@field.example";

#[test]
fn a_browser_login_takes_the_code_from_the_loopback_redirect() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let org = runtime.block_on(DevOrg::start(Config::default())).expect("devorg starts");
    let dir = tempfile::tempdir().unwrap();
    let no_browser = tempfile::tempdir().unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_deltasync"))
        .args(["--json", "--data-dir"])
        .arg(dir.path())
        .args(["login", "--browser", "--url", org.url(), "--client-id", DEMO_CLIENT_ID])
        .env("PATH", no_browser.path())
        .env_remove("RUST_LOG")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("deltasync runs");

    // The command prints the authorize URL; the "browser" opens it. devorg redirects at
    // once for a known login hint.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut url = String::new();
    for _ in 0..10 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(found) = line.trim().strip_prefix("http") {
            url = format!("http{found}");
            break;
        }
    }
    assert!(url.contains("/services/oauth2/authorize?"), "no authorize URL printed");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let page = runtime
        .block_on(async { reqwest::get(format!("{url}&login_hint={TECH1}")).await?.text().await })
        .expect("the redirect reaches the loopback listener");
    assert!(page.contains("Logged in"), "{page}");

    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let login: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(login["username"], TECH1);
    assert!(login["event_id"].as_i64().is_some());
}

#[test]
fn a_jwt_login_with_a_key_file_primes_the_device() {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
    let mut config = Config {
        seed: Some(devorg::SeedOptions { records: 300, seed: 7, now: None }),
        ..Config::default()
    };
    config.connected_apps[0].jwt_certificate =
        Some(key.to_public_key().to_public_key_pem(LineEnding::LF).unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let org = runtime.block_on(DevOrg::start(config)).expect("devorg starts");

    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("key.pem");
    std::fs::write(&key_file, key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_deltasync"))
        .args(["--json", "--data-dir"])
        .arg(dir.path())
        .args(["login", "--url", org.url(), "--jwt-key"])
        .arg(&key_file)
        .args(["--username", TECH1, "--client-id", DEMO_CLIENT_ID])
        .env_remove("RUST_LOG")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
        .expect("deltasync runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let login: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(login["username"], TECH1);
    assert!(login["records"].as_u64().unwrap() >= 1, "{login}");

    // The technician's work orders are in the store.
    let query = Command::new(env!("CARGO_BIN_EXE_deltasync"))
        .args(["--json", "--data-dir"])
        .arg(dir.path())
        .args(["query", "SELECT Id FROM WorkOrder"])
        .env_remove("RUST_LOG")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
        .unwrap();
    assert!(query.status.success(), "{}", String::from_utf8_lossy(&query.stderr));
    assert!(String::from_utf8_lossy(&query.stdout).contains("0WO"), "no work order primed");
}

#[test]
fn a_key_file_that_does_not_fit_the_store_is_named() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let org = runtime.block_on(DevOrg::start(Config::default())).expect("devorg starts");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_deltasync"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("XDG_RUNTIME_DIR", dir.path())
            .output()
            .unwrap()
    };
    let login = run(&[
        "login",
        "--url",
        org.url(),
        "--username",
        TECH1,
        "--password",
        devorg::DEMO_TECH_PASSWORD,
        "--client-secret",
        devorg::DEMO_CLIENT_SECRET,
    ]);
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));

    let key = dir.path().join("store.key");
    std::fs::remove_file(&key).unwrap();
    store::StoreKey::generate().save(&key).unwrap();
    let out = run(&["query", "SELECT Id FROM Account"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The product's one error line is all there is: SQLCipher's own log of the failed page
    // decryption stays off.
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(lines[0].contains("does not open the store"), "{stderr}");
    assert!(lines[0].contains("store.key"), "the key file is named: {stderr}");
}
