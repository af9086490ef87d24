//! Conformance: the simple-salesforce client (Python), unchanged, runs its scripted session
//! (`conformance/simple-salesforce/session.py`) against an in-process org over HTTPS.

use std::path::PathBuf;
use std::process::Stdio;

use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg};
use serde_json::Value;

#[tokio::test]
async fn simple_salesforce_session_passes_every_step() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/simple-salesforce");
    let installed = std::process::Command::new("python3")
        .args(["-c", "import simple_salesforce"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(installed, "simple-salesforce is not installed: run scripts/install-test-deps");

    let org = DevOrg::start(Config { tls: true, ..Config::default() }).await.unwrap();
    let ca = org.ca_pem_path().unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let grant: Value = http
        .post(format!("{}/services/oauth2/token", org.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", "tech1@field.example"),
            ("password", DEMO_TECH_PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = &grant["access_token"];
    let output = tokio::process::Command::new("python3")
        .arg("session.py")
        .current_dir(&dir)
        .env("ORG_URL", org.url())
        .env("ORG_TOKEN", token.as_str().unwrap())
        .env("ORG_CA", org.ca_pem_path().unwrap())
        // requests prefers this variable over a session's own `verify` setting.
        .env("REQUESTS_CA_BUNDLE", org.ca_pem_path().unwrap())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failed: Vec<String> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l.get("step").is_some() && l["ok"] != true)
        .map(|l| format!("{}: {}", l["step"], l["error"]))
        .collect();
    assert!(
        failed.is_empty() && output.status.success(),
        "simple-salesforce steps failed:\n{}\nstdout:\n{stdout}\nstderr:\n{}",
        failed.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("\"summary\": true"), "{stdout}");
}
