//! Shared setup for the reliability tests that drive the real `deltasync` binary: devorg in
//! process on loopback, a data folder, the CLI run as a child process, and the server-side
//! reads the invariant checks need (the checks themselves are the engine tests' own).

// Each test binary uses a different part of this harness.
#![allow(dead_code)]

#[path = "../../../engine/tests/reliability/invariants.rs"]
pub mod invariants;
pub mod small_disk;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration as StdDuration;

use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use serde_json::Value;
use tempfile::TempDir;

pub const TECH1: &str = "tech1@field.example";

/// Accounts (the fields the invariant checks compare) and contacts pointing at them.
pub const PROFILE: &str = r#"version = 1

[objects.Account]
fields = ["Name", "Phone", "BillingCity"]
interval = "15m"
conflict = "client-wins"

[objects.Contact]
fields = ["LastName", "Phone", "AccountId"]
interval = "15m"
conflict = "client-wins"
"#;

/// A running org and one device's data folder.
pub struct Fixture {
    pub org: RunningOrg,
    pub dir: TempDir,
    pub runtime: tokio::runtime::Runtime,
    /// Extra environment for every CLI run (for example `RUST_LOG`).
    pub env: Vec<(String, String)>,
    /// When set, the CLI runs in the namespace that sees this disk.
    pub disk: Option<small_disk::SmallDisk>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let config = Config { token_ttl: StdDuration::from_secs(86_400), ..Config::default() };
        let org = runtime.block_on(DevOrg::start(config)).expect("devorg starts");
        Fixture { org, dir: TempDir::new().unwrap(), runtime, env: vec![], disk: None }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CLI with the data folder and the fixture's environment, ready to run.
    pub fn command(&self, args: &[&str]) -> Command {
        let bin = env!("CARGO_BIN_EXE_deltasync");
        let mut cmd = match &self.disk {
            Some(disk) => disk.command(bin),
            None => Command::new(bin),
        };
        cmd.arg("--data-dir").arg(self.dir()).args(args);
        cmd.env_remove("DELTASYNC_HOME").env_remove("RUST_LOG").env_remove("DELTASYNC_LOG");
        // No session bus (the data folder has no `bus` socket): the store key goes to the
        // key file these tests read, never to the keyring of whoever runs them.
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS").env("XDG_RUNTIME_DIR", self.dir());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("deltasync runs")
    }

    /// Runs with `--json`, expects success, and returns the parsed output.
    pub fn json(&self, args: &[&str]) -> Value {
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

    /// The login arguments for the demo technician with `profile` (a file path).
    pub fn login_args<'a>(&'a self, profile: &'a str) -> Vec<&'a str> {
        vec![
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
            "--profile",
            profile,
        ]
    }

    /// Writes [`PROFILE`] next to the data folder and logs in with it (priming included).
    pub fn login(&self) -> Value {
        let profile = self.write_profile();
        let args = self.login_args(&profile);
        self.json(&args)
    }

    pub fn write_profile(&self) -> String {
        let path = self.dir().with_extension("profile.toml");
        std::fs::write(&path, PROFILE).unwrap();
        path.display().to_string()
    }

    /// The id a `create`/`update`/`delete` printed.
    pub fn edit(&self, args: &[&str]) -> String {
        let out = self.json(args);
        out["id"].as_str().expect("edit prints the id").to_owned()
    }

    /// Runs the CLI with `args` and SIGKILLs it after `delay` unless it ended first.
    /// Returns whether it was killed; fails the test if it panicked.
    pub fn run_killed_after(&self, args: &[&str], delay: StdDuration) -> bool {
        let mut child = self
            .command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("deltasync starts");
        std::thread::sleep(delay);
        let running = child.try_wait().expect("child status").is_none();
        if running {
            child.kill().expect("SIGKILL");
        }
        let _ = child.wait();
        let mut stderr = String::new();
        let _ = child.stderr.take().map(|mut e| std::io::Read::read_to_string(&mut e, &mut stderr));
        assert!(!stderr.contains("panicked"), "deltasync {args:?} panicked:\n{stderr}");
        running
    }

    /// Every pending change as `deltasync pending --json` lists it.
    pub fn pending(&self) -> Vec<Value> {
        self.json(&["pending"])["changes"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir().with_extension("profile.toml"));
    }
}

/// How many live server records of `object` hold `value` in `field`.
pub fn server_count(org: &RunningOrg, object: &str, field: &str, value: &str) -> usize {
    let sql = format!(
        "SELECT count(*) FROM \"{object}\" WHERE \"{field}\" = ?1 AND COALESCE(\"IsDeleted\", 0) = 0"
    );
    org.admin().with_db(|conn| {
        conn.query_row(&sql, [value], |r| r.get::<_, i64>(0)).expect("server count") as usize
    })
}

/// One column of the live server record of `object` whose `field` is `value`.
pub fn server_column(
    org: &RunningOrg,
    object: &str,
    field: &str,
    value: &str,
    column: &str,
) -> Option<String> {
    let sql = format!(
        "SELECT \"{column}\" FROM \"{object}\" WHERE \"{field}\" = ?1 AND COALESCE(\"IsDeleted\", 0) = 0"
    );
    org.admin().with_db(|conn| conn.query_row(&sql, [value], |r| r.get(0)).ok())
}

/// Whether the server row `id` of `object` is deleted (in the recycle bin or gone).
pub fn server_deleted(org: &RunningOrg, object: &str, id: &str) -> bool {
    let sql = format!("SELECT COALESCE(\"IsDeleted\", 0) FROM \"{object}\" WHERE \"Id\" = ?1");
    org.admin().with_db(|conn| {
        conn.query_row(&sql, [id], |r| r.get::<_, i64>(0)).map(|d| d != 0).unwrap_or(true)
    })
}

pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
