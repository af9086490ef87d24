//! The profile's `max_records` against devorg on loopback: priming and delta never store
//! more than the cap, keep records with pending local changes, and report what they left
//! out in the run's counts and in history.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use engine::history::{self, RunEnd};
use engine::profile::ProfileSource;
use engine::{Clock, Engine, ManualClock, ObjectCounts, SyncKind, SyncOptions, SyncReport};
use salesforce::client::{Client, ClientConfig, OAuthApp};
use serde_json::{Value, json};
use store::{ChangeOp, Store, StoreKey};
use tempfile::TempDir;

const TECH1: &str = "tech1@field.example";

/// Work orders whose subject starts with "Job", at most three, with their line items, at
/// most two.
const CAPPED: &str = r#"
version = 1

[objects.WorkOrder]
fields = ["Subject"]
filter = "Subject LIKE 'Job%'"
max_records = 3
children = [{ relationship = "WorkOrderLineItems" }]

[objects.WorkOrderLineItem]
fields = ["Subject", "WorkOrderId"]
related_only = true
max_records = 2
"#;

/// A technician's appointments, their work orders, and those work orders' accounts (two
/// steps from the root, so held links bring them), at most two.
const CAPPED_LINK: &str = r#"
version = 1

[objects.ServiceAppointment]
fields = ["Subject", "ParentRecordId", "Technician__c"]
filter = "Technician__c = :user"
parents = [{ field = "ParentRecordId", object = "WorkOrder" }]

[objects.WorkOrder]
fields = ["Subject", "AccountId"]
related_only = true
parents = [{ field = "AccountId" }]

[objects.Account]
fields = ["Name"]
related_only = true
max_records = 2
"#;

/// Work orders by their own filter and through the technician's appointments, at most two.
const CAPPED_BOTH: &str = r#"
version = 1

[objects.ServiceAppointment]
fields = ["Subject", "ParentRecordId", "Technician__c"]
filter = "Technician__c = :user"
parents = [{ field = "ParentRecordId", object = "WorkOrder" }]

[objects.WorkOrder]
fields = ["Subject"]
filter = "Subject LIKE 'Job%'"
max_records = 2
"#;

/// Accounts by their own filter and as the accounts of the technician's work orders (two
/// steps from the root, so a held link brings them), at most two.
const CAPPED_FILTER_AND_LINK: &str = r#"
version = 1

[objects.ServiceAppointment]
fields = ["Subject", "ParentRecordId", "Technician__c"]
filter = "Technician__c = :user"
parents = [{ field = "ParentRecordId", object = "WorkOrder" }]

[objects.WorkOrder]
fields = ["Subject", "AccountId"]
related_only = true
parents = [{ field = "AccountId" }]

[objects.Account]
fields = ["Name"]
filter = "Name LIKE 'Key%'"
max_records = 2
"#;

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
}

struct Fixture {
    org: RunningOrg,
    _dir: TempDir,
    store: Arc<Store>,
    clock: Arc<ManualClock>,
    engine: Engine,
}

impl Fixture {
    async fn new(profile: &str) -> Fixture {
        let org = DevOrg::start(Config::default()).await.expect("devorg starts");
        org.clock().set(start_time());
        let dir = TempDir::new().unwrap();
        let store =
            Arc::new(Store::open(&dir.path().join("store.db"), &StoreKey::generate()).unwrap());
        let clock = Arc::new(ManualClock::new(start_time()));
        let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.to_string()));
        let session = app.login_password(TECH1, DEMO_TECH_PASSWORD).await.expect("tech1 logs in");
        let client = Client::new(session, ClientConfig::default()).expect("client");
        let source = ProfileSource::parse("profile.toml", profile).unwrap();
        let mut engine =
            Engine::open(store.clone(), client, &source, clock.clone()).await.expect("engine");
        engine.set_options(SyncOptions {
            overlap: Duration::minutes(5),
            page_size: 200,
            replication_log: true,
        });
        Fixture { org, _dir: dir, store, clock, engine }
    }

    fn advance(&self, by: Duration) {
        self.org.clock().advance(by);
        self.clock.advance(by);
    }

    fn create(&self, object: &str, record: Value) -> String {
        let id = self.org.admin().create(TECH1, object, record).expect("create");
        // One record per second, so stamp order is creation order.
        self.advance(Duration::seconds(1));
        id
    }

    fn held(&self, object: &str) -> Vec<String> {
        self.store.read(|r| r.record_ids(object)).unwrap()
    }

    /// Runs `kind` (or priming) and records it in history, as the app does.
    async fn run(&self, kind: Option<SyncKind>) -> (SyncReport, Value) {
        let run = history::begin(&self.store, store::SyncKind::User, self.clock.now()).unwrap();
        let report = match kind {
            None => self.engine.prime(&mut |_| {}).await,
            Some(kind) => self.engine.sync(kind, &mut |_| {}).await,
        }
        .expect("sync runs");
        let summary = run.finish(&self.store, RunEnd::Completed(&report), self.clock.now());
        let event_id = summary.expect("history written").event_id;
        let event = self.store.read(|r| r.sync_event(event_id)).unwrap().expect("event kept");
        (report, event.counts)
    }
}

fn counts(report: &SyncReport, object: &str) -> ObjectCounts {
    report.objects.get(object).copied().unwrap_or_default()
}

#[tokio::test]
async fn priming_stops_at_the_cap_and_says_how_many_were_left_out() {
    let f = Fixture::new(CAPPED).await;
    let jobs: Vec<String> =
        (1..=5).map(|i| f.create("WorkOrder", json!({"Subject": format!("Job {i}")}))).collect();
    f.create("WorkOrder", json!({"Subject": "Other"}));
    for (wo, n) in [(&jobs[0], 3), (&jobs[1], 1), (&jobs[4], 2)] {
        for i in 0..n {
            f.create(
                "WorkOrderLineItem",
                json!({"WorkOrderId": wo, "Subject": format!("Part {i}")}),
            );
        }
    }
    f.advance(Duration::hours(1));

    let (report, history) = f.run(None).await;

    // The first three jobs by SystemModstamp; the other two are counted, not stored.
    let mut held = f.held("WorkOrder");
    held.sort();
    let mut first_three = jobs[..3].to_vec();
    first_three.sort();
    assert_eq!(held, first_three);
    assert_eq!(counts(&report, "WorkOrder").new, 3);
    assert_eq!(counts(&report, "WorkOrder").over_limit, 2);

    // The jobs' six line items are in scope (the server evaluates it as a semi-join on
    // the jobs' filter); two fit.
    assert_eq!(f.held("WorkOrderLineItem").len(), 2);
    assert_eq!(counts(&report, "WorkOrderLineItem").new, 2);
    assert_eq!(counts(&report, "WorkOrderLineItem").over_limit, 4);

    assert_eq!(history["WorkOrder"]["over_limit"], json!(2));
    assert_eq!(history["WorkOrderLineItem"]["over_limit"], json!(4));
}

#[tokio::test]
async fn delta_keeps_the_cap_and_stores_a_left_out_record_once_room_frees_and_it_changes() {
    let f = Fixture::new(CAPPED).await;
    let jobs: Vec<String> =
        (1..=3).map(|i| f.create("WorkOrder", json!({"Subject": format!("Job {i}")}))).collect();
    f.advance(Duration::hours(1));
    let (primed, _) = f.run(None).await;
    assert_eq!(counts(&primed, "WorkOrder").over_limit, 0, "three fit exactly");
    assert_eq!(f.held("WorkOrder").len(), 3);

    // A job edited here and on the server while the object is full: the update is
    // stored (it is held, so it does not take room) and the local edit is kept.
    let edit = json!({"Subject": "Job 1 (checked)"});
    f.store
        .write(|tx| {
            tx.record_edit(
                "WorkOrder",
                Some(&jobs[0]),
                ChangeOp::Update,
                edit.as_object().unwrap(),
                f.clock.now(),
            )
        })
        .unwrap();
    f.org.admin().update(TECH1, "WorkOrder", &jobs[1], json!({"Subject": "Job 2b"})).unwrap();
    let late = f.create("WorkOrder", json!({"Subject": "Job 4"}));
    f.advance(Duration::minutes(10));

    let (report, history) = f.run(Some(SyncKind::Delta)).await;
    let c = counts(&report, "WorkOrder");
    assert_eq!((c.new, c.over_limit), (0, 1), "{c:?}");
    assert!(c.updated >= 1, "{c:?}");
    assert_eq!(f.held("WorkOrder").len(), 3);
    assert!(!f.held("WorkOrder").contains(&late));
    assert_eq!(history["WorkOrder"]["over_limit"], json!(1));
    let edited = f.store.read(|r| r.get_record("WorkOrder", &jobs[0])).unwrap();
    assert_eq!(edited.expect("the edited job stays")["Subject"], json!("Job 1 (checked)"));

    // A deletion frees room; the left-out job comes only once it changes again.
    f.org.admin().delete(TECH1, "WorkOrder", &jobs[2]).unwrap();
    f.advance(Duration::minutes(10));
    let (report, _) = f.run(Some(SyncKind::Delta)).await;
    assert_eq!(counts(&report, "WorkOrder").deleted, 1);
    assert!(!f.held("WorkOrder").contains(&late), "unchanged since it was left out");

    f.org.admin().update(TECH1, "WorkOrder", &late, json!({"Subject": "Job 4b"})).unwrap();
    f.advance(Duration::minutes(10));
    let (report, _) = f.run(Some(SyncKind::Delta)).await;
    let c = counts(&report, "WorkOrder");
    assert_eq!((c.new, c.over_limit), (1, 0), "{c:?}");
    assert!(f.held("WorkOrder").contains(&late));
    assert_eq!(f.held("WorkOrder").len(), 3);
}

#[tokio::test]
async fn records_held_links_bring_in_keep_the_cap_in_priming_and_delta() {
    let f = Fixture::new(CAPPED_LINK).await;
    let tech = f.org.admin().user_id(TECH1).unwrap();
    let visit = |f: &Fixture, n: u32| {
        let account = f.create("Account", json!({"Name": format!("Customer {n}")}));
        let wo =
            f.create("WorkOrder", json!({"Subject": format!("Job {n}"), "AccountId": account}));
        let sa =
            json!({"ParentRecordId": wo, "Technician__c": tech, "Subject": format!("Visit {n}")});
        f.create("ServiceAppointment", sa);
        account
    };
    let accounts: Vec<String> = (1..=3).map(|n| visit(&f, n)).collect();
    f.advance(Duration::hours(1));

    let (report, history) = f.run(None).await;
    assert_eq!(f.held("WorkOrder").len(), 3);
    assert_eq!(f.held("Account").len(), 2);
    let c = counts(&report, "Account");
    assert_eq!((c.new, c.over_limit), (2, 1), "{c:?}");
    assert_eq!(history["Account"]["over_limit"], json!(1));
    assert!(f.held("Account").iter().all(|id| accounts.contains(id)));

    // A new visit brings a work order whose account finds no room.
    let late = visit(&f, 4);
    f.advance(Duration::minutes(10));
    let (report, history) = f.run(Some(SyncKind::Delta)).await;
    assert_eq!(f.held("WorkOrder").len(), 4);
    assert_eq!(f.held("Account").len(), 2);
    assert!(!f.held("Account").contains(&late));
    let c = counts(&report, "Account");
    assert_eq!((c.new, c.over_limit), (0, 1), "{c:?}");
    assert_eq!(history["Account"]["over_limit"], json!(1));
}

#[tokio::test]
async fn a_record_both_the_filter_and_a_link_bring_in_is_left_out_once() {
    let f = Fixture::new(CAPPED_BOTH).await;
    let tech = f.org.admin().user_id(TECH1).unwrap();
    let jobs: Vec<String> =
        (1..=4).map(|i| f.create("WorkOrder", json!({"Subject": format!("Job {i}")}))).collect();
    let other = f.create("WorkOrder", json!({"Subject": "Other"}));
    // Appointments on the last job (also in by the filter) and on the other work order.
    for wo in [&jobs[3], &other] {
        let sa = json!({"ParentRecordId": wo, "Technician__c": tech, "Subject": "Visit"});
        f.create("ServiceAppointment", sa);
    }
    f.advance(Duration::hours(1));

    let (report, history) = f.run(None).await;
    assert_eq!(f.held("WorkOrder").len(), 2);
    // Left out: jobs 3 and 4 (by the filter) and the other work order (by its
    // appointment); job 4, which both bring in, counts once.
    let c = counts(&report, "WorkOrder");
    assert_eq!((c.new, c.over_limit), (2, 3), "{c:?}");
    assert_eq!(history["WorkOrder"]["over_limit"], json!(3));
}

#[tokio::test]
async fn a_record_both_the_filter_and_a_held_link_bring_in_is_left_out_once() {
    let f = Fixture::new(CAPPED_FILTER_AND_LINK).await;
    let tech = f.org.admin().user_id(TECH1).unwrap();
    let keys: Vec<String> =
        (1..=3).map(|i| f.create("Account", json!({"Name": format!("Key {i}")}))).collect();
    let plain = f.create("Account", json!({"Name": "Plain"}));
    // Visits at the third key account (also in by the filter) and at the plain one.
    for (n, account) in [&keys[2], &plain].into_iter().enumerate() {
        let wo =
            f.create("WorkOrder", json!({"Subject": format!("Job {n}"), "AccountId": account}));
        let sa = json!({"ParentRecordId": wo, "Technician__c": tech, "Subject": "Visit"});
        f.create("ServiceAppointment", sa);
    }
    f.advance(Duration::hours(1));

    let (report, history) = f.run(None).await;
    let mut held = f.held("Account");
    held.sort();
    assert_eq!(held, keys[..2].to_vec(), "the first two key accounts by stamp");
    // Left out: the third key account (by the filter and by its visit, counted once)
    // and the plain one (by its visit).
    let c = counts(&report, "Account");
    assert_eq!((c.new, c.over_limit), (2, 2), "{c:?}");
    assert_eq!(history["Account"]["over_limit"], json!(2));
}
