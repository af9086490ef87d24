//! Shared setup for the reliability tests: a devorg on loopback, devices (a store, a
//! client and an engine each) for its technicians, local edits, and syncs retried a
//! bounded number of times.

// Each test binary uses a different part of this harness.
#![allow(dead_code)]

pub mod invariants;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, TimeZone, Utc};
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use engine::profile::ProfileSource;
use engine::upload::{Backoff, UploadOptions};
use engine::{Clock, Engine, ManualClock, SyncError, SyncKind, SyncOptions, SyncReport};
use salesforce::client::{Client, ClientConfig, OAuthApp};
use salesforce::{RefreshCredentials, Relogin};
use serde_json::{Map, Value, json};
use store::{ChangeOp, Store, StoreKey};
use tempfile::TempDir;

pub use invariants::{Ledger, assert_invariants};

pub const TECH1: &str = "tech1@field.example";
pub const TECH2: &str = "tech2@field.example";

/// Every account, with the conflict policy given.
pub fn profile(conflict: &str) -> String {
    format!(
        "version = 1\n\n[objects.Account]\nfields = [\"Name\", \"Phone\", \"BillingCity\"]\n\
         interval = \"15m\"\nconflict = \"{conflict}\"\n"
    )
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
}

pub async fn start_org() -> RunningOrg {
    let config = Config { token_ttl: StdDuration::from_secs(90 * 86_400), ..Config::default() };
    let org = DevOrg::start(config).await.expect("devorg starts");
    org.clock().set(start_time());
    org
}

/// One device: its own store file, client session and engine.
pub struct Device {
    pub user: &'static str,
    pub store: Arc<Store>,
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
}

/// Logs `user` in (with refresh, so expired tokens are renewed) and opens an engine.
pub async fn device(org: &RunningOrg, user: &'static str, profile_text: &str) -> Device {
    let dir = TempDir::new().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store.db"), &StoreKey::generate()).unwrap());
    let clock = Arc::new(ManualClock::new(org.clock().now()));
    let engine = open_engine(org, user, store.clone(), clock.clone(), profile_text).await;
    Device { user, store, engine, clock, dir }
}

pub async fn client_for(org: &RunningOrg, user: &str) -> Client {
    let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.to_string()));
    let mut tries = 0;
    let session = loop {
        match app.login_password(user, DEMO_TECH_PASSWORD).await {
            Ok(s) => break s,
            Err(e) if tries < 50 => {
                tries += 1;
                let _ = e;
            }
            Err(e) => panic!("{user} cannot log in: {e}"),
        }
    };
    let config = ClientConfig {
        // The password grant gives no refresh token, so an expired session logs in again.
        login: Some(RefreshCredentials {
            app,
            relogin: Relogin::Password {
                username: user.to_owned(),
                password: DEMO_TECH_PASSWORD.to_owned(),
            },
        }),
        timeout: StdDuration::from_secs(20),
        ..ClientConfig::default()
    };
    Client::new(session, config).expect("client")
}

pub async fn open_engine(
    org: &RunningOrg,
    user: &str,
    store: Arc<Store>,
    clock: Arc<ManualClock>,
    profile_text: &str,
) -> Engine {
    let client = client_for(org, user).await;
    engine_with_client(client, store, clock, profile_text).await
}

/// Opens an engine over `client` with small pages and quick upload retries.
pub async fn engine_with_client(
    client: Client,
    store: Arc<Store>,
    clock: Arc<ManualClock>,
    profile_text: &str,
) -> Engine {
    let source = ProfileSource::parse("profile.toml", profile_text).expect("profile parses");
    let mut tries = 0;
    let mut engine = loop {
        match Engine::open(store.clone(), client.clone(), &source, clock.clone()).await {
            Ok(e) => break e,
            Err(e) if tries < 50 => {
                tries += 1;
                let _ = e;
            }
            Err(e) => panic!("engine does not open: {e}"),
        }
    };
    engine.set_options(SyncOptions {
        overlap: chrono::Duration::minutes(5),
        page_size: 200,
        replication_log: true,
    });
    engine.set_upload_options(UploadOptions {
        max_attempts: 3,
        backoff: Backoff { base: StdDuration::from_millis(1), max: StdDuration::from_millis(5) },
        ..UploadOptions::default()
    });
    engine
}

impl Device {
    /// Follows the org's clock.
    pub fn catch_up(&self, org: &RunningOrg) {
        self.clock.set(org.clock().now());
    }

    /// One sync; the error is returned, not retried.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        self.engine.sync(SyncKind::Delta, &mut |_| {}).await
    }

    /// Syncs until one run succeeds, at most `max_runs` times; returns the runs used.
    pub async fn sync_until_ok(&self, max_runs: u32) -> u32 {
        let mut last = None;
        for run in 1..=max_runs {
            match self.sync_once().await {
                Ok(_) => return run,
                Err(e) => last = Some(e.to_string()),
            }
        }
        panic!("{}: no sync succeeded in {max_runs} runs; last error: {last:?}", self.user);
    }

    pub fn create(&self, fields: Value) -> String {
        self.edit(None, ChangeOp::Create, fields)
    }

    pub fn update(&self, id: &str, fields: Value) -> String {
        self.edit(Some(id), ChangeOp::Update, fields)
    }

    pub fn delete(&self, id: &str) -> String {
        self.edit(Some(id), ChangeOp::Delete, json!({}))
    }

    fn edit(&self, id: Option<&str>, op: ChangeOp, fields: Value) -> String {
        let fields: Map<String, Value> = serde_json::from_value(fields).unwrap();
        let now = self.clock.now();
        self.store
            .write(|tx| tx.record_edit(invariants::OBJECT, id, op, &fields, now))
            .unwrap_or_else(|e| panic!("local {op:?} refused: {e}"))
            .record_id
    }

    /// Ids this device holds, without local-only ones.
    pub fn held(&self) -> Vec<String> {
        self.store
            .read(|r| r.record_ids(invariants::OBJECT))
            .unwrap()
            .into_iter()
            .filter(|id| !store::pending::is_local_id(id))
            .collect()
    }
}
