//! The running app against devorg on loopback, with real store files and a clock moved
//! by hand: schedules per object, same-minute grouping, the next-due message, catch-up
//! after a restart, reconnection uploads, history detail, the instance lock and shutdown.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use deltasync::app::{self, AppEvent, AppHandle, AppOptions, Identity, Trigger};
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use engine::profile::ProfileSource;
use engine::schedule::{next_sync_message, record_completion};
use engine::{Clock, Engine, ManualClock, SyncOptions};
use salesforce::client::{Client, ClientConfig, OAuthApp};
use serde_json::{Value, json};
use store::{ChangeOp, RecordAction, Store, StoreKey, SyncEvent, SyncKind, SyncOutcome};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const TECH1: &str = "tech1@field.example";
const TECH2: &str = "tech2@field.example";
const FIELD_SERVICE: &str = include_str!("../../engine/profiles/field-service.toml");

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
}

fn fast() -> AppOptions {
    AppOptions {
        tick: StdDuration::from_millis(10),
        check_interval: StdDuration::from_millis(50),
        offline_retry_min: StdDuration::from_millis(20),
        offline_retry_max: StdDuration::from_millis(100),
    }
}

struct Fixture {
    org: Option<RunningOrg>,
    org_dir: PathBuf,
    dir: TempDir,
    store: Arc<Store>,
    clock: Arc<ManualClock>,
    handle: AppHandle,
    tech1: String,
    tech2: String,
}

/// The running app: stop it with [`Running::stop`].
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = TempDir::new().unwrap();
        let org_dir = dir.path().join("devorg");
        let config = Config {
            token_ttl: StdDuration::from_secs(90 * 86_400),
            data_dir: Some(org_dir.clone()),
            ..Config::default()
        };
        let org = DevOrg::start(config).await.unwrap();
        org.clock().set(start_time());
        let admin = org.admin();
        let tech1 = admin.user_id(TECH1).unwrap();
        let tech2 = admin.user_id(TECH2).unwrap();
        let oauth = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.to_string()));
        let session = oauth.login_password(TECH1, DEMO_TECH_PASSWORD).await.unwrap();
        let client = Client::new(session, ClientConfig::default()).unwrap();
        let store =
            Arc::new(Store::open(&dir.path().join("store.db"), &StoreKey::generate()).unwrap());
        let clock = Arc::new(ManualClock::new(start_time()));
        let source = ProfileSource::parse("field-service.toml", FIELD_SERVICE).unwrap();
        let mut engine = Engine::open(store.clone(), client, &source, clock.clone()).await.unwrap();
        engine.set_options(SyncOptions { replication_log: false, ..SyncOptions::default() });
        let handle = AppHandle::new(Arc::new(engine), clock.clone(), Identity::default());
        Fixture { org: Some(org), org_dir, dir, store, clock, handle, tech1, tech2 }
    }

    fn org(&self) -> &RunningOrg {
        self.org.as_ref().expect("org running")
    }

    fn advance(&self, by: Duration) {
        self.org().clock().advance(by);
        self.clock.advance(by);
    }

    fn create(&self, user: &str, object: &str, record: Value) -> String {
        self.org().admin().create(user, object, record).unwrap()
    }

    fn at(&self, days: i64, hours: i64) -> String {
        (start_time() + Duration::days(days) + Duration::hours(hours))
            .format("%Y-%m-%dT%H:%M:%S.000+0000")
            .to_string()
    }

    fn start(&self) -> Running {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app::run(self.handle.clone(), fast(), async move {
            let _ = stopped.await;
        }));
        Running { stop, task }
    }

    fn events(&self) -> Vec<SyncEvent> {
        self.store.read(|r| r.sync_events(100, None)).unwrap()
    }

    /// Waits until `n` sync events have finished, and returns them oldest first.
    async fn finished(&self, n: usize) -> Vec<SyncEvent> {
        for _ in 0..3000 {
            let mut events = self.events();
            if events.len() >= n && events.iter().all(|e| e.ended_at.is_some()) {
                events.reverse();
                return events;
            }
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        panic!("{n} sync events did not finish: {:?}", self.events());
    }

    /// Waits for the app to settle: the loops have seen the last change and no sync runs.
    async fn settle(&self) {
        tokio::time::sleep(StdDuration::from_millis(150)).await;
        for _ in 0..3000 {
            if self.handle.status().syncing.is_none() {
                return;
            }
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
    }
}

struct Data {
    wo: String,
    item: String,
    sa2: String,
}

fn seed(f: &Fixture) -> Data {
    let account = f.create(TECH1, "Account", json!({"Name": "Acme Pumps"}));
    let account2 = f.create(TECH1, "Account", json!({"Name": "Blue Water"}));
    f.create("admin@devorg.example", "Product2", json!({"Name": "Pump", "IsActive": true}));
    let wo = f.create(TECH1, "WorkOrder", json!({"Subject": "Fix pump", "AccountId": account}));
    let wo2 = f.create(TECH1, "WorkOrder", json!({"Subject": "Inspect", "AccountId": account2}));
    let item = f.create(TECH1, "WorkOrderLineItem", json!({"WorkOrderId": wo, "Subject": "Seal"}));
    f.create(TECH1, "ServiceAppointment", json!({"ParentRecordId": wo, "Technician__c": f.tech1, "Subject": "Visit", "SchedStartTime": f.at(1, 2)}));
    let sa2 = f.create(TECH1, "ServiceAppointment", json!({"ParentRecordId": wo2, "Technician__c": f.tech1, "Subject": "Inspection", "SchedStartTime": f.at(2, 0)}));
    f.advance(Duration::minutes(1));
    Data { wo, item, sa2 }
}

fn synced_objects(event: &SyncEvent) -> BTreeSet<String> {
    event.counts.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

fn set(objects: &[&str]) -> BTreeSet<String> {
    objects.iter().map(|o| o.to_string()).collect()
}

const QUARTER: [&str; 3] = ["ServiceAppointment", "WorkOrder", "WorkOrderLineItem"];
const HOURLY: [&str; 6] =
    ["Account", "Asset", "Contact", "ServiceAppointment", "WorkOrder", "WorkOrderLineItem"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_object_syncs_on_its_own_interval() {
    let f = Fixture::new().await;
    seed(&f);
    let running = f.start();

    // The initial sync primes everything; the quarter-hourly objects come next.
    let events = f.finished(1).await;
    assert_eq!(events[0].kind, SyncKind::Initial);
    assert_eq!(events[0].outcome, Some(SyncOutcome::Succeeded));
    f.settle().await;
    let next = f.handle.status().next_due.expect("something is scheduled");
    assert_eq!(next.objects, QUARTER.map(String::from).to_vec());
    assert_eq!(next.at, f.clock.now() + Duration::minutes(15));
    assert_eq!(
        next_sync_message(Some(&next), f.clock.now(), &Utc),
        "next sync: ServiceAppointment, WorkOrder and WorkOrderLineItem at 08:16"
    );

    // Nothing happens before the interval is over.
    f.advance(Duration::minutes(14));
    f.settle().await;
    assert_eq!(f.events().len(), 1);

    // WorkOrder falls due 30 seconds after the others: same minute, same sync.
    record_completion(
        &f.store,
        &["WorkOrder".to_string()],
        f.clock.now() - Duration::minutes(14) + Duration::seconds(30),
    )
    .unwrap();
    f.advance(Duration::minutes(1));
    let events = f.finished(2).await;
    assert_eq!(events[1].kind, SyncKind::Scheduled);
    assert_eq!(synced_objects(&events[1]), set(&QUARTER));

    // Two more quarters, then the hourly objects join.
    f.settle().await;
    f.advance(Duration::minutes(15));
    let events = f.finished(3).await;
    assert_eq!(synced_objects(&events[2]), set(&QUARTER));
    f.settle().await;
    f.advance(Duration::minutes(15));
    let events = f.finished(4).await;
    assert_eq!(synced_objects(&events[3]), set(&QUARTER));
    f.settle().await;
    f.advance(Duration::minutes(15));
    let events = f.finished(5).await;
    assert_eq!(synced_objects(&events[4]), set(&HOURLY));
    assert!(
        events
            .iter()
            .all(|e| e.kind != SyncKind::Scheduled || !synced_objects(e).contains("Product2"))
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scheduled_sync_is_retried_after_a_pause_not_an_interval() {
    let f = Fixture::new().await;
    seed(&f);
    let running = f.start();
    f.finished(1).await;
    f.settle().await;
    let primed_at = f.clock.now();

    // The org refuses every request (its daily limit is used up): the scheduled sync fails,
    // and the failure is not the network's.
    f.org().set_faults(devorg::FaultConfig { limit_burst: 100_000, ..Default::default() });
    f.advance(Duration::minutes(15));
    let events = f.finished(2).await;
    assert_eq!(events[1].kind, SyncKind::Scheduled);
    assert_eq!(events[1].outcome, Some(SyncOutcome::Failed), "{:?}", events[1]);
    f.settle().await;
    let failed_at = events[1].ended_at.unwrap();
    let entry = f.store.read(|r| r.schedule_for("ServiceAppointment")).unwrap().unwrap();
    assert_eq!(entry.last_sync_at, Some(primed_at), "the last success is kept");
    assert_eq!(
        entry.next_due_at,
        Some(failed_at + Duration::seconds(engine::schedule::FAILED_SYNC_RETRY_SECS as i64)),
        "retried after the pause, not a whole interval later"
    );
    assert!(f.handle.status().online, "a refused request is not a lost connection");

    // The org recovers; the retry comes after the pause and succeeds.
    f.org().set_faults(devorg::FaultConfig::default());
    f.advance(Duration::minutes(10));
    let events = f.finished(3).await;
    assert_eq!(events[2].outcome, Some(SyncOutcome::Succeeded), "{:?}", events[2]);
    assert_eq!(synced_objects(&events[2]), set(&QUARTER));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_objects_catch_up_after_a_restart() {
    let f = Fixture::new().await;
    seed(&f);
    let running = f.start();
    f.finished(1).await;
    f.settle().await;
    running.stop().await;

    // Two hours pass while the app is not running.
    f.advance(Duration::hours(2));
    let running = f.start();
    let events = f.finished(2).await;
    assert_eq!(events[1].kind, SyncKind::Scheduled);
    assert_eq!(synced_objects(&events[1]), set(&HOURLY));
    f.settle().await;
    assert_eq!(f.events().len(), 2, "the catch-up is one sync");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_made_offline_uploads_when_the_org_is_back() {
    let mut f = Fixture::new().await;
    let data = seed(&f);
    let running = f.start();
    f.finished(1).await;
    f.settle().await;
    assert!(f.handle.status().online);

    // The org goes away; the app notices.
    let org = f.org.take().unwrap();
    let addr = org.url().trim_start_matches("http://").parse().unwrap();
    org.shutdown().await;
    let mut events = f.handle.subscribe();
    for _ in 0..500 {
        if !f.handle.status().online {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    assert!(!f.handle.status().online);

    // A local edit while offline stays queued.
    let edit = json!({"Subject": "Fix pump (seal replaced)"});
    f.store
        .write(|tx| {
            tx.record_edit(
                "WorkOrder",
                Some(&data.wo),
                ChangeOp::Update,
                edit.as_object().unwrap(),
                f.clock.now(),
            )
        })
        .unwrap();
    f.handle.local_edit_made();
    assert_eq!(f.handle.status().pending, 1);
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    assert_eq!(f.events().len(), 1, "no sync is tried while offline");

    // The org comes back on the same port with the same data.
    let config = Config {
        addr,
        token_ttl: StdDuration::from_secs(90 * 86_400),
        data_dir: Some(f.org_dir.clone()),
        ..Config::default()
    };
    let org = DevOrg::start(config).await.unwrap();
    org.clock().set(f.clock.now());
    f.org = Some(org);
    let finished = f.finished(2).await;
    assert_eq!(finished[1].kind, SyncKind::Automatic);
    assert_eq!(finished[1].outcome, Some(SyncOutcome::Succeeded));
    assert!(synced_objects(&finished[1]).is_empty(), "nothing was due: upload only");
    let rows = f.store.read(|r| r.sync_event_records(finished[1].id)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].action, RecordAction::Uploaded);
    assert_eq!(rows[0].display_name.as_deref(), Some("Fix pump (seal replaced)"));
    let server = f.org().admin().retrieve(TECH1, "WorkOrder", &data.wo).unwrap();
    assert_eq!(server["Subject"], "Fix pump (seal replaced)");
    f.settle().await;
    assert_eq!(f.handle.status().pending, 0);

    let mut saw_online = false;
    while let Ok(event) = events.try_recv() {
        saw_online |= matches!(event, AppEvent::Connectivity { online: true });
    }
    assert!(saw_online, "subscribers hear the org come back");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_priming_deletes_scope_exits_and_upload_failures() {
    let f = Fixture::new().await;
    let data = seed(&f);
    let running = f.start();
    let events = f.finished(1).await;

    // Priming lists every stored record by name.
    let rows = f.store.read(|r| r.sync_event_records(events[0].id)).unwrap();
    assert!(rows.iter().all(|r| r.action == RecordAction::New));
    let names: BTreeSet<_> = rows.iter().filter_map(|r| r.display_name.clone()).collect();
    for name in ["Acme Pumps", "Blue Water", "Fix pump", "Inspect", "Seal", "Visit", "Pump"] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    f.settle().await;

    // A delete and a scope exit on the server, and two local edits: one the server
    // refuses (its record is gone) and one that meets a server change (manual policy).
    f.org().admin().delete(TECH1, "WorkOrderLineItem", &data.item).unwrap();
    f.org()
        .admin()
        .update(TECH1, "ServiceAppointment", &data.sa2, json!({"Technician__c": f.tech2}))
        .unwrap();
    f.advance(Duration::minutes(1));
    f.handle.request_sync(Trigger::User, &[]);
    let events = f.finished(2).await;
    assert_eq!(events[1].kind, SyncKind::User);
    let rows = f.store.read(|r| r.sync_event_records(events[1].id)).unwrap();
    let has = |action, name: &str| {
        rows.iter().any(|r| r.action == action && r.display_name.as_deref() == Some(name))
    };
    assert!(has(RecordAction::Deleted, "Seal"), "{rows:?}");
    assert!(has(RecordAction::LeftScope, "Inspection"), "{rows:?}");
    assert!(has(RecordAction::LeftScope, "Inspect"), "the work order follows: {rows:?}");
    f.settle().await;

    let wo_edit = json!({"Subject": "Fix pump today"});
    f.store
        .write(|tx| {
            tx.record_edit(
                "WorkOrder",
                Some(&data.wo),
                ChangeOp::Update,
                wo_edit.as_object().unwrap(),
                f.clock.now(),
            )
        })
        .unwrap();
    f.org()
        .admin()
        .update(TECH1, "WorkOrder", &data.wo, json!({"Subject": "Fix pump tomorrow"}))
        .unwrap();
    let doomed = f.store.read(|r| r.record_ids("ServiceAppointment")).unwrap()[0].clone();
    let sa_edit = json!({"Subject": "Visit moved"});
    f.store
        .write(|tx| {
            tx.record_edit(
                "ServiceAppointment",
                Some(&doomed),
                ChangeOp::Update,
                sa_edit.as_object().unwrap(),
                f.clock.now(),
            )
        })
        .unwrap();
    f.org().admin().delete(TECH1, "ServiceAppointment", &doomed).unwrap();
    // A value the org refuses (longer than the field allows): that change fails alone.
    let account = f.store.read(|r| r.record_ids("Account")).unwrap()[0].clone();
    let too_long = json!({"Name": "x".repeat(300)});
    f.store
        .write(|tx| {
            tx.record_edit(
                "Account",
                Some(&account),
                ChangeOp::Update,
                too_long.as_object().unwrap(),
                f.clock.now(),
            )
        })
        .unwrap();
    f.advance(Duration::minutes(1));
    f.handle.request_sync(Trigger::User, &[]);
    let events = f.finished(3).await;
    let rows = f.store.read(|r| r.sync_event_records(events[2].id)).unwrap();
    let actions: Vec<_> = rows.iter().map(|r| (r.object.clone(), r.action)).collect();
    assert!(actions.contains(&("WorkOrder".to_string(), RecordAction::Conflict)), "{rows:?}");
    // The appointment's policy is server-wins: its edit is dropped, and said so.
    let dropped = rows
        .iter()
        .find(|r| r.object == "ServiceAppointment")
        .unwrap_or_else(|| panic!("no appointment row: {rows:?}"));
    assert_eq!(dropped.action, RecordAction::Conflict);
    assert!(dropped.detail.as_deref().unwrap_or_default().contains("dropped"), "{dropped:?}");
    let refused = rows
        .iter()
        .find(|r| r.object == "Account")
        .unwrap_or_else(|| panic!("no account row: {rows:?}"));
    assert_eq!(refused.action, RecordAction::Failed);
    assert!(
        refused.detail.as_deref().unwrap_or_default().contains("max length=255"),
        "{refused:?}"
    );
    assert_eq!(events[2].upload_counts["failed"], 1);
    assert_eq!(events[2].outcome, Some(SyncOutcome::Partial));
    assert_eq!(events[2].upload_counts["conflicts"], 2);
    assert_eq!(events[2].upload_counts["uploaded"], 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_sync_leaves_the_store_consistent() {
    let f = Fixture::new().await;
    seed(&f);
    let mut events = f.handle.subscribe();
    let running = f.start();

    // Stop as soon as the initial sync is downloading.
    loop {
        match events.recv().await.unwrap() {
            AppEvent::Downloading { .. } | AppEvent::SyncFinished { .. } => break,
            _ => {}
        }
    }
    running.stop().await;
    let history = f.events();
    assert_eq!(history.len(), 1);
    assert!(history[0].ended_at.is_some(), "the abandoned run is closed");
    assert!(f.handle.status().syncing.is_none());

    // The next start finishes the priming and carries on.
    let running = f.start();
    let history = f.finished(2).await;
    assert_eq!(history.last().unwrap().outcome, Some(SyncOutcome::Succeeded));
    assert!(app::primed(&f.handle).unwrap());
    running.stop().await;
    let _ = &f.dir;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_and_holds_its_data_folder() {
    let dir = TempDir::new().unwrap();
    let options = app::DemoOptions {
        data_dir: dir.path().to_path_buf(),
        org_port: 0,
        app: fast(),
        records: 400,
    };
    let mut seen = 0;
    let demo = app::demo(options.clone(), &mut |_| seen += 1).await.unwrap();
    assert!(seen > 0, "priming reports progress");
    assert!(app::primed(&demo.handle).unwrap());
    // The seed assigns every technician appointments; the demo technician's are on the device.
    let count = demo.handle.store().read(|r| r.count("ServiceAppointment")).unwrap();
    assert!(count > 0, "the demo technician has no appointments on the device");
    let work_orders = demo.handle.store().read(|r| r.count("WorkOrder")).unwrap();
    assert!(work_orders > 0, "the appointments' work orders did not come along");

    // A second app on the same folder is refused.
    let second = app::demo(options.clone(), &mut |_| {}).await;
    assert!(second.is_err());
    assert!(Store::lock_exclusive(dir.path()).is_err());
    demo.shutdown().await.unwrap();
    Store::lock_exclusive(dir.path()).unwrap();
}
