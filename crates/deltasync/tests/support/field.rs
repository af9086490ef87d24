//! A field technician's setup for the web app tests: devorg in-process with seeded
//! field-service data, tech1 signed in, a store in a temp dir, the engine on the
//! field-service profile, an [`AppHandle`], a sync loop serving its requests, and the
//! web app on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use deltasync::app::{AppEvent, AppHandle, Identity, NextDue, Trigger};
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use engine::profile::ProfileSource;
use engine::{Engine, SyncKind, SyncOptions, SystemClock};
use salesforce::client::{Client, ClientConfig, OAuthApp};
use serde_json::{Value, json};
use store::{EventRecord, RecordAction, Store, StoreKey, SyncOutcome};
use tempfile::TempDir;

pub const TECH1: &str = "tech1@field.example";
pub const XSS: &str = "<script>alert(1)</script>";
const FIELD_SERVICE: &str = include_str!("../../../engine/profiles/field-service.toml");

/// Ids of the seeded records the tests use.
pub struct Seeded {
    pub wo: String,
    pub wo2: String,
    pub account: String,
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
    create(
        "ServiceAppointment",
        json!({"ParentRecordId": wo, "Technician__c": tech1, "Subject": "Visit", "SchedStartTime": at_days(1)}),
    );
    create(
        "ServiceAppointment",
        json!({"ParentRecordId": wo2, "Technician__c": tech1, "Subject": "Inspection", "SchedStartTime": at_days(2)}),
    );
    Seeded { wo, wo2, account }
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
        let mut engine = Engine::open(store, client, &source, Arc::new(SystemClock)).await?;
        // devorg serves no replication resources: sync by stamps.
        engine.set_options(SyncOptions { replication_log: false, ..SyncOptions::default() });
        let engine = Arc::new(engine);
        let handle = AppHandle::new(engine.clone(), Arc::new(SystemClock), identity);

        let now = Utc::now();
        let profile = engine.profile().clone();
        handle.store().write(|tx| {
            for o in &profile.objects {
                tx.set_sync_interval(&o.name, o.interval_secs, now)?;
            }
            Ok(())
        })?;
        tokio::spawn(sync_loop(handle.clone(), org.url().to_string()));
        handle.request_sync(Trigger::Initial, &[]);

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

// FIXME: this loop stands in for `app::run` (sync worker, scheduler, connectivity watcher)
// until it lands; the tests should start that instead.
async fn sync_loop(handle: AppHandle, org_url: String) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("client");
    loop {
        // Connectivity: the org answering at all counts as online.
        let up = http.get(format!("{org_url}/services/data")).send().await.is_ok();
        if handle.status().online != up {
            handle.update_status(|s| s.online = up);
            if up && handle.status().pending > 0 {
                handle.request_sync(Trigger::Automatic, &[]);
            }
        }
        if up && let Some(request) = handle.take_requests() {
            run_sync(&handle, &request.triggers).await;
        }
        tokio::select! {
            _ = handle.requested() => {}
            _ = tokio::time::sleep(Duration::from_millis(300)) => {}
        }
    }
}

async fn run_sync(handle: &AppHandle, triggers: &[Trigger]) {
    let kind = [Trigger::User, Trigger::Initial, Trigger::Automatic, Trigger::Scheduled]
        .into_iter()
        .find(|t| triggers.contains(t))
        .unwrap_or(Trigger::User);
    let started = Utc::now();
    handle.update_status(|s| s.syncing = Some(kind.as_str()));
    handle.publish(AppEvent::SyncStarted { trigger: kind.as_str() });
    let event_id = handle.store().write(|tx| tx.begin_sync_event(kind, started)).ok();
    let before = pending_records(handle);
    let progress_handle = handle.clone();
    let mut progress = move |e: engine::SyncEvent| {
        if let engine::SyncEvent::Progress { object, done, total } = e {
            progress_handle.publish(AppEvent::Downloading { object, done, total });
        }
    };
    let total = before.len() as u64;
    handle.publish(AppEvent::Uploading { done: 0, total });
    let result = handle.engine().sync(SyncKind::Delta, &mut progress).await;
    handle.publish(AppEvent::Uploading { done: total, total });
    let ended = Utc::now();
    let after = pending_records(handle);
    let (outcome, reason, counts, upload) = match &result {
        Ok(report) => (
            SyncOutcome::Succeeded,
            None,
            serde_json::to_value(&report.objects).unwrap_or_default(),
            serde_json::to_value(report.upload).unwrap_or_default(),
        ),
        Err(e) => {
            eprintln!("sync failed: {e}");
            (SyncOutcome::Failed, Some(e.to_string()), json!({}), json!({}))
        }
    };
    let uploaded: Vec<EventRecord> = before
        .iter()
        .filter(|(o, id, _)| !after.iter().any(|(ao, aid, _)| ao == o && aid == id))
        .map(|(object, id, name)| EventRecord {
            object: object.clone(),
            record_id: id.clone(),
            display_name: name.clone(),
            action: RecordAction::Uploaded,
            detail: None,
        })
        .collect();
    if let Some(id) = event_id {
        let _ = handle.store().write(|tx| {
            tx.add_sync_event_records(id, &uploaded)?;
            tx.finish_sync_event(id, ended, outcome, reason.as_deref(), &counts, &upload)?;
            if outcome == SyncOutcome::Succeeded {
                for entry in tx.read().schedule()? {
                    tx.record_scheduled_sync(&entry.object, ended)?;
                }
            }
            Ok(())
        });
    }
    let schedule = handle.store().read(|r| r.schedule()).unwrap_or_default();
    let next_due = schedule.iter().filter_map(|e| e.next_due_at).min().map(|at| NextDue {
        objects: schedule
            .iter()
            .filter(|e| e.next_due_at == Some(at))
            .map(|e| e.object.clone())
            .collect(),
        at,
    });
    let pending = after.len() as u64;
    handle.update_status(|s| {
        s.syncing = None;
        s.pending = pending;
        if result.is_ok() {
            s.last_sync_at = Some(ended);
            s.next_due = next_due.clone();
        } else {
            s.online = false;
        }
        s.last_outcome = Some(outcome.as_str().to_string());
    });
    handle.publish(AppEvent::SyncFinished {
        event_id,
        outcome: outcome.as_str().to_string(),
        next_due,
    });
}

fn pending_records(handle: &AppHandle) -> Vec<(String, String, Option<String>)> {
    let changes =
        handle.store().read(|r| r.pending_changes(&Default::default())).unwrap_or_default();
    changes
        .into_iter()
        .map(|c| {
            let record =
                handle.store().read(|r| r.get_record(&c.object, &c.record_id)).ok().flatten();
            let name = record
                .as_ref()
                .and_then(|r| r.get("Subject").or(r.get("Name")))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            (c.object, c.record_id, name)
        })
        .collect()
}
