//! A field technician's setup for the web app tests: devorg in-process with seeded
//! field-service data (with more products than one list page), tech1 signed in, the
//! describes cached, a store in a temp dir, the engine on the
//! field-service profile, an [`AppHandle`], a sync loop serving its requests, and the
//! web app on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use deltasync::app::{AppHandle, AppOptions, Identity};
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use engine::profile::ProfileSource;
use engine::{Engine, SystemClock};
use salesforce::client::{Client, ClientConfig, OAuthApp};
use serde_json::{Value, json};
use store::{Store, StoreKey};
use tempfile::TempDir;

pub const TECH1: &str = "tech1@field.example";
pub const XSS: &str = "<script>alert(1)</script>";
/// Active products in the catalogue: more than one page of the web app's lists.
pub const PRODUCTS: usize = 55;
const FIELD_SERVICE: &str = include_str!("../../../engine/profiles/field-service.toml");

/// Ids of the seeded records the tests use.
pub struct Seeded {
    pub wo: String,
    pub wo2: String,
    pub account: String,
    /// The appointment on `wo`, scheduled a day ahead.
    pub appointment: String,
}

/// Everything one test drives.
pub struct Field {
    pub org: Option<RunningOrg>,
    pub org_addr: SocketAddr,
    pub org_dir: TempDir,
    pub _store_dir: TempDir,
    pub handle: AppHandle,
    pub url: String,
    pub base: String,
    pub seeded: Seeded,
}

fn org_config(addr: SocketAddr, dir: PathBuf) -> Config {
    Config {
        addr,
        data_dir: Some(dir),
        token_ttl: Duration::from_secs(30 * 86_400),
        ..Config::default()
    }
}

fn at_days(days: i64) -> String {
    (Utc::now() + chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%S.000+0000").to_string()
}

fn seed(org: &RunningOrg) -> Seeded {
    let admin = org.admin();
    let tech1 = admin.user_id(TECH1).expect("tech1 exists");
    let create = |object: &str, record: Value| {
        admin.create(TECH1, object, record).unwrap_or_else(|e| panic!("create {object}: {e:?}"))
    };
    let account = create("Account", json!({"Name": "Acme Pumps", "BillingCity": "Lyon"}));
    let probe = create("Account", json!({"Name": XSS}));
    let contact = create("Contact", json!({"LastName": "Durand", "AccountId": account}));
    let asset = create("Asset", json!({"Name": "Pump #1", "AccountId": account}));
    let wo = create(
        "WorkOrder",
        json!({"Subject": "Fix pump", "AccountId": account, "AssetId": asset, "ContactId": contact}),
    );
    let wo2 = create("WorkOrder", json!({"Subject": "Inspect", "AccountId": probe}));
    create("WorkOrderLineItem", json!({"WorkOrderId": wo, "Subject": "Seal"}));
    create("WorkOrderLineItem", json!({"WorkOrderId": wo, "Subject": "Valve"}));
    let appointment = create(
        "ServiceAppointment",
        json!({"ParentRecordId": wo, "Technician__c": tech1, "Subject": "Visit", "SchedStartTime": at_days(1)}),
    );
    create(
        "ServiceAppointment",
        json!({"ParentRecordId": wo2, "Technician__c": tech1, "Subject": "Inspection", "SchedStartTime": at_days(2)}),
    );
    for n in 0..PRODUCTS {
        create(
            "Product2",
            json!({"Name": format!("Part {n:03}"), "ProductCode": format!("P-{n:03}"), "IsActive": true}),
        );
    }
    Seeded { wo, wo2, account, appointment }
}

impl Field {
    /// Starts everything and serves the web app; the store is primed by an initial sync.
    pub async fn start() -> anyhow::Result<Field> {
        let org_dir = TempDir::new()?;
        let org = DevOrg::start(org_config("127.0.0.1:0".parse()?, org_dir.path().into())).await?;
        let org_addr: SocketAddr = org.url().trim_start_matches("http://").parse()?;
        let seeded = seed(&org);

        let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.to_string()));
        let session = app.login_password(TECH1, DEMO_TECH_PASSWORD).await?;
        let identity = Identity {
            user_id: session.user_id.clone(),
            username: TECH1.into(),
            org_id: session.org_id.clone(),
            instance_url: session.instance_url.clone(),
        };
        let client = Client::new(session, ClientConfig::default())?;
        let store_dir = TempDir::new()?;
        let store =
            Arc::new(Store::open(&store_dir.path().join("store.db"), &StoreKey::generate())?);
        let source = ProfileSource::parse("field-service.toml", FIELD_SERVICE)?;
        let engine =
            Engine::open(store.clone(), client.clone(), &source, Arc::new(SystemClock)).await?;
        // The describes edits validate against, as sign-in caches them.
        let objects: Vec<String> =
            engine.profile().objects.iter().map(|o| o.name.clone()).collect();
        engine::edit::cache_describes(&client, &store, &objects).await?;
        let handle = AppHandle::new(Arc::new(engine), Arc::new(SystemClock), identity);

        // The real app: sync worker, scheduler and connectivity watcher, paced for tests.
        // It primes the store with an initial sync first.
        let options = AppOptions {
            tick: Duration::from_millis(100),
            check_interval: Duration::from_millis(300),
            offline_retry_min: Duration::from_millis(200),
            offline_retry_max: Duration::from_secs(1),
        };
        tokio::spawn(deltasync::app::run(handle.clone(), options, std::future::pending()));

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (url, _task) = deltasync::web::serve(handle.clone(), listener).await;
        Ok(Field {
            org: Some(org),
            org_addr,
            org_dir,
            _store_dir: store_dir,
            handle,
            url,
            base,
            seeded,
        })
    }

    /// Waits for the first sync to finish.
    pub async fn wait_synced(&self) -> anyhow::Result<()> {
        for _ in 0..300 {
            if self.handle.status().last_sync_at.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the first sync never finished: {:?}", self.handle.status())
    }

    /// Stops the org, as when the technician loses signal.
    pub async fn stop_org(&mut self) {
        if let Some(org) = self.org.take() {
            org.shutdown().await;
        }
    }

    /// Starts the org again on the same port with the same data.
    pub async fn restart_org(&mut self) -> anyhow::Result<()> {
        let org = DevOrg::start(org_config(self.org_addr, self.org_dir.path().into())).await?;
        self.org = Some(org);
        Ok(())
    }

    /// The running org.
    pub fn org(&self) -> &RunningOrg {
        self.org.as_ref().expect("the org runs")
    }
}
