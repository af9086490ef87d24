//! Conformance: the jsforce client, unchanged, runs its scripted session
//! (`conformance/jsforce/session.mjs`) against an in-process org and every step must pass.

use std::path::PathBuf;
use std::process::Stdio;

use devorg::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg};
use serde_json::Value;

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/jsforce")
}

#[tokio::test]
async fn jsforce_session_passes_every_step() {
    let dir = conformance_dir();
    assert!(
        dir.join("node_modules/jsforce").is_dir(),
        "jsforce is not installed in {}: run scripts/install-test-deps",
        dir.display()
    );
    let org = DevOrg::start(devorg::Config::default()).await.unwrap();

    let output = tokio::process::Command::new("node")
        .arg("session.mjs")
        .current_dir(&dir)
        .env("ORG_URL", org.url())
        .env("ORG_USERNAME", "tech1@field.example")
        .env("ORG_PASSWORD", DEMO_TECH_PASSWORD)
        .env("ORG_CLIENT_ID", DEMO_CLIENT_ID)
        .env("ORG_CLIENT_SECRET", DEMO_CLIENT_SECRET)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("node runs: install it with scripts/install-test-deps");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    let lines: Vec<Value> =
        stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).collect();
    let steps: Vec<&Value> = lines.iter().filter(|l| l.get("step").is_some()).collect();
    let failed: Vec<String> = steps
        .iter()
        .filter(|s| s["ok"] != true)
        .map(|s| format!("{}: {}", s["step"], s["error"].as_str().unwrap_or("")))
        .collect();
    assert!(
        failed.is_empty() && output.status.success(),
        "jsforce steps failed (exit {:?}):\n{}\nstderr:\n{stderr}",
        output.status.code(),
        failed.join("\n")
    );
    let names: Vec<&str> = steps.iter().filter_map(|s| s["step"].as_str()).collect();
    for expected in
        ["login", "describe", "create many", "query with queryMore", "updated", "deleted"]
    {
        assert!(names.contains(&expected), "step {expected} did not run: {names:?}");
    }
    assert!(lines.iter().any(|l| l["summary"] == true && l["failed"] == 0), "{stdout}");
}
