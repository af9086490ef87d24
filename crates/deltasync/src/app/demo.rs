//! The self-contained demo: a devorg started in-process with field-service data, a
//! technician logged in, the store primed, and the app running on it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use devorg::{
    Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg, SeedOptions,
};
use engine::profile::ProfileSource;
use engine::{Engine, SyncEvent, SystemClock};
use salesforce::client::{Client, ClientConfig, OAuthApp, RefreshCredentials, Relogin};
use store::{InstanceLock, Store, StoreKey};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::info;

use super::{AppHandle, AppOptions, Identity, SyncRequest, Trigger};
use crate::device::FIELD_SERVICE_PROFILE;

/// The technician the demo logs in as.
pub const DEMO_USER: &str = "tech1@field.example";

/// Where and how to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The device's data folder: the store, its key and the lock; the org keeps its data
    /// in `devorg/` inside it, so a second demo run starts where the first stopped.
    pub data_dir: PathBuf,
    /// The org's port on 127.0.0.1; 0 picks a free one.
    pub org_port: u16,
    /// The app's pacing.
    pub app: AppOptions,
    /// How many records devorg's field-service seed writes into a new org.
    pub records: usize,
}

/// A running demo. Start the web app on [`Demo::handle`]; [`Demo::shutdown`] stops the
/// app and then the org.
#[derive(Debug)]
pub struct Demo {
    /// The in-process org (its URL is the instance URL).
    pub org: RunningOrg,
    /// The running app.
    pub handle: AppHandle,
    /// Held for as long as the demo runs: one app per data folder.
    pub lock: InstanceLock,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Demo {
    /// Stops the app (abandoning a sync in progress cleanly), then the org.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        let result = self.task.await.context("app task")?;
        self.org.shutdown().await;
        result
    }
}

/// Starts the demo: the org with its data, the login, the store, the engine with the
/// field-service profile, the priming (reported through `progress`), and the app.
pub async fn demo(
    options: DemoOptions,
    progress: &mut (dyn FnMut(SyncEvent) + Send),
) -> anyhow::Result<Demo> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("creating {}", options.data_dir.display()))?;
    let lock =
        Store::lock_exclusive(&options.data_dir).context("another app uses this data folder")?;

    // The org, seeded the first time.
    let org_dir = options.data_dir.join("devorg");
    let config = Config {
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], options.org_port)),
        data_dir: Some(org_dir),
        seed: Some(SeedOptions { records: options.records, seed: 1, now: None }),
        ..Config::default()
    };
    let org = DevOrg::start(config).await.context("starting devorg")?;

    // The technician's session, store and engine.
    let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.to_string()));
    let session = app.login_password(DEMO_USER, DEMO_TECH_PASSWORD).await.context("logging in")?;
    let identity = Identity {
        user_id: session.user_id.clone(),
        username: DEMO_USER.to_string(),
        org_id: session.org_id.clone(),
        instance_url: session.instance_url.clone(),
    };
    // The demo password is known, so an expired session logs in again by itself.
    let relogin = Relogin::Password {
        username: DEMO_USER.to_string(),
        password: DEMO_TECH_PASSWORD.to_string(),
    };
    let config = ClientConfig {
        login: Some(RefreshCredentials { app, relogin }),
        ..ClientConfig::default()
    };
    let client = Client::new(session, config).context("org client")?;
    // The demo's data is the seeded org's, with published passwords: its key stays in a
    // key file in the demo folder rather than adding an item to the user's keyring.
    let key = StoreKey::load_or_create(&options.data_dir.join(crate::device::KEY_FILE))
        .context("store key")?;
    let store = Arc::new(
        Store::open(&options.data_dir.join("store.db"), &key).context("opening the store")?,
    );
    let source = ProfileSource::parse("field-service.toml", FIELD_SERVICE_PROFILE)?;
    let clock = Arc::new(SystemClock);
    let engine =
        Engine::open(store, client, &source, clock.clone()).await.context("opening the engine")?;
    let handle = AppHandle::new(Arc::new(engine), clock, identity);

    // Prime before the app starts, so the caller can show progress.
    super::prepare(&handle)?;
    if !super::primed(&handle)? {
        let request = SyncRequest { triggers: vec![Trigger::Initial], objects: Vec::new() };
        super::sync_once(&handle, &request, progress).await.context("priming")?;
    }
    info!(url = %org.url(), "demo ready");

    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(super::run(handle.clone(), options.app, async move {
        let _ = stopped.await;
    }));
    Ok(Demo { org, handle, lock, stop, task })
}
