//! The self-contained demo: a devorg started in-process with field-service data, a
//! technician logged in, the store primed, and the app running on it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::{Duration, Utc};
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use engine::profile::ProfileSource;
use engine::{Engine, SyncEvent, SystemClock};
use salesforce::client::{Client, ClientConfig, OAuthApp};
use serde_json::json;
use store::{InstanceLock, Store, StoreKey};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::info;

use super::{AppHandle, AppOptions, Identity, SyncRequest, Trigger};

/// The technician the demo logs in as.
pub const DEMO_USER: &str = "tech1@field.example";

/// The field-service profile the demo syncs with.
pub const FIELD_SERVICE_PROFILE: &str = include_str!("../../../engine/profiles/field-service.toml");

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
    let fresh = !org_dir.join("devorg.db").exists();
    let config = Config {
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], options.org_port)),
        data_dir: Some(org_dir),
        ..Config::default()
    };
    let org = DevOrg::start(config).await.context("starting devorg")?;
    if fresh {
        seed(&org).context("seeding field-service data")?;
    }

    // The technician's session, store and engine.
    let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.to_string()));
    let session = app.login_password(DEMO_USER, DEMO_TECH_PASSWORD).await.context("logging in")?;
    let identity = Identity {
        user_id: session.user_id.clone(),
        username: DEMO_USER.to_string(),
        org_id: session.org_id.clone(),
        instance_url: session.instance_url.clone(),
    };
    let client = Client::new(session, ClientConfig::default()).context("org client")?;
    let key = StoreKey::load_or_create(&options.data_dir.join("store.key")).context("store key")?;
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

/// A small field-service data set for the demo technician: accounts, contacts, an asset,
/// work orders with line items, and service appointments around today.
// FIXME: devorg now has a built-in field-service seed (`devorg::Config::seed`); the demo
// should use it so its data and devorg's own demo data agree (the demo test counts the
// three appointments written here).
fn seed(org: &RunningOrg) -> anyhow::Result<()> {
    let admin = org.admin();
    let tech = admin.user_id(DEMO_USER).context("demo technician missing")?;
    let create = |object: &str, record: serde_json::Value| {
        admin
            .create(DEMO_USER, object, record)
            .map_err(|e| anyhow::anyhow!("create {object}: {e:?}"))
    };
    let at = |days: i64, hours: i64| {
        (Utc::now() + Duration::days(days) + Duration::hours(hours))
            .format("%Y-%m-%dT%H:%M:%S.000+0000")
            .to_string()
    };
    let product = admin
        .create(
            "admin@devorg.example",
            "Product2",
            json!({"Name": "Pump", "ProductCode": "P-100", "IsActive": true}),
        )
        .map_err(|e| anyhow::anyhow!("create Product2: {e:?}"))?;
    let sites = [
        ("Acme Pumps", "Lyon", "Durand"),
        ("Blue Water", "Nantes", "Martin"),
        ("Cascade", "Lille", "Petit"),
    ];
    for (i, (name, city, contact)) in sites.iter().enumerate() {
        let account = create(
            "Account",
            json!({"Name": name, "BillingCity": city, "Phone": "+33 1 00 00 00 0"}),
        )?;
        let contact = create(
            "Contact",
            json!({"FirstName": "Ana", "LastName": contact, "AccountId": account}),
        )?;
        let asset = create(
            "Asset",
            json!({"Name": format!("{name} pump"), "SerialNumber": format!("SN-{i:04}"), "AccountId": account, "Product2Id": product}),
        )?;
        let wo = create(
            "WorkOrder",
            json!({"Subject": format!("Service {name}"), "AccountId": account, "AssetId": asset, "ContactId": contact}),
        )?;
        create("WorkOrderLineItem", json!({"WorkOrderId": wo, "Subject": "Replace seal"}))?;
        create("WorkOrderLineItem", json!({"WorkOrderId": wo, "Subject": "Check pressure"}))?;
        create(
            "ServiceAppointment",
            json!({"ParentRecordId": wo, "Technician__c": tech, "Subject": format!("Visit {name}"), "SchedStartTime": at(i as i64, 9)}),
        )?;
    }
    Ok(())
}
