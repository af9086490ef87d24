//! The engine against devorg on loopback: priming, resume, delta, deletions, scope exits
//! and entries, profile errors and profile changes, with real HTTP and real SQLite files.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg, RunningOrg};
use engine::profile::ProfileSource;
use engine::{
    Clock, Engine, ManualClock, ObjectCounts, SyncError, SyncEvent, SyncKind, SyncOptions,
};
use salesforce::client::{Client, ClientConfig, OAuthApp};
use serde_json::{Value, json};
use store::{Store, StoreKey};
use tempfile::TempDir;

const TECH1: &str = "tech1@field.example";
const TECH2: &str = "tech2@field.example";
const FIELD_SERVICE: &str = include_str!("../profiles/field-service.toml");

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
}

/// A running org, a store on disk and an engine clock that moves with the org's clock.
struct Fixture {
    org: RunningOrg,
    _dir: TempDir,
    store: Arc<Store>,
    client: Client,
    clock: Arc<ManualClock>,
    tech1: String,
    tech2: String,
}

impl Fixture {
    async fn new() -> Fixture {
        // Tokens outlive the days the tests move the clock by.
        let config =
            Config { token_ttl: std::time::Duration::from_secs(90 * 86_400), ..Config::default() };
        let org = DevOrg::start(config).await.expect("devorg starts");
        org.clock().set(start_time());
        let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.to_string()));
        let session = app.login_password(TECH1, DEMO_TECH_PASSWORD).await.expect("tech1 logs in");
        let client = Client::new(session, ClientConfig::default()).expect("client");
        let dir = TempDir::new().unwrap();
        let store =
            Arc::new(Store::open(&dir.path().join("store.db"), &StoreKey::generate()).unwrap());
        let admin = org.admin();
        let tech1 = admin.user_id(TECH1).unwrap();
        let tech2 = admin.user_id(TECH2).unwrap();
        Fixture {
            org,
            _dir: dir,
            store,
            client,
            clock: Arc::new(ManualClock::new(start_time())),
            tech1,
            tech2,
        }
    }

    /// Moves both clocks forward.
    fn advance(&self, by: Duration) {
        self.org.clock().advance(by);
        self.clock.advance(by);
    }

    fn create(&self, user: &str, object: &str, record: Value) -> String {
        self.org
            .admin()
            .create(user, object, record)
            .unwrap_or_else(|e| panic!("create {object}: {e:?}"))
    }

    fn update(&self, user: &str, object: &str, id: &str, record: Value) {
        self.org
            .admin()
            .update(user, object, id, record)
            .unwrap_or_else(|e| panic!("update {object}: {e:?}"));
    }

    fn delete(&self, user: &str, object: &str, id: &str) {
        self.org
            .admin()
            .delete(user, object, id)
            .unwrap_or_else(|e| panic!("delete {object}: {e:?}"));
    }

    async fn engine(&self, profile: &str) -> Result<Engine, SyncError> {
        let source = ProfileSource::parse("profile.toml", profile)?;
        let mut engine =
            Engine::open(self.store.clone(), self.client.clone(), &source, self.clock.clone())
                .await?;
        // Where the org has no replication log for an object (devorg answers NOT_FOUND
        // for the replication resources), the engine falls back to stamp queries and
        // queryAll for deletions; these assertions hold either way.
        engine.set_options(SyncOptions {
            overlap: Duration::minutes(5),
            page_size: 200,
            replication_log: true,
        });
        Ok(engine)
    }

    fn held(&self, object: &str) -> Vec<String> {
        self.store.read(|r| r.record_ids(object)).unwrap()
    }

    fn field(&self, object: &str, id: &str, field: &str) -> Value {
        let record = self.store.read(|r| r.get_record(object, id)).unwrap().expect("record held");
        record.get(field).cloned().unwrap_or(Value::Null)
    }

    fn at(&self, days: i64, hours: i64) -> String {
        let t = start_time() + Duration::days(days) + Duration::hours(hours);
        t.format("%Y-%m-%dT%H:%M:%S.000+0000").to_string()
    }
}

/// The field-service records: tech1 has two appointments in the window and one outside,
/// tech2 has one; each work order has line items, an account, an asset and a contact.
struct Data {
    account: String,
    other_account: String,
    contact: String,
    asset: String,
    wo: String,
    wo2: String,
    far_wo: String,
    tech2_wo: String,
    spare_wo: String,
    items: Vec<String>,
    canceled_item: String,
    sa: String,
    sa2: String,
    far_sa: String,
    tech2_sa: String,
}

fn seed(f: &Fixture) -> Data {
    let account = f.create(
        TECH1,
        "Account",
        json!({"Name": "Acme Pumps", "BillingCity": "Lyon", "Industry": "Energy"}),
    );
    let other_account = f.create(TECH1, "Account", json!({"Name": "Other Co"}));
    let contact = f.create(TECH1, "Contact", json!({"LastName": "Durand", "AccountId": account}));
    let product =
        f.create("admin@devorg.example", "Product2", json!({"Name": "Pump", "IsActive": true}));
    f.create("admin@devorg.example", "Product2", json!({"Name": "Old pump", "IsActive": false}));
    let asset = f.create(
        TECH1,
        "Asset",
        json!({"Name": "Pump #1", "AccountId": account, "Product2Id": product}),
    );
    let wo = f.create(TECH1, "WorkOrder", json!({"Subject": "Fix pump", "AccountId": account, "AssetId": asset, "ContactId": contact}));
    let wo2 = f.create(TECH1, "WorkOrder", json!({"Subject": "Inspect", "AccountId": account}));
    let far_wo =
        f.create(TECH1, "WorkOrder", json!({"Subject": "Later", "AccountId": other_account}));
    let spare_wo =
        f.create(TECH1, "WorkOrder", json!({"Subject": "Spare", "AccountId": other_account}));
    let tech2_wo = f.create(TECH2, "WorkOrder", json!({"Subject": "Theirs"}));
    let items = vec![
        f.create(TECH1, "WorkOrderLineItem", json!({"WorkOrderId": wo, "Subject": "Seal"})),
        f.create(TECH1, "WorkOrderLineItem", json!({"WorkOrderId": wo, "Subject": "Valve"})),
    ];
    let canceled_item = f.create(
        TECH1,
        "WorkOrderLineItem",
        json!({"WorkOrderId": wo, "Subject": "Nope", "Status": "Canceled"}),
    );
    f.create(TECH1, "WorkOrderLineItem", json!({"WorkOrderId": spare_wo, "Subject": "Spare part"}));
    let sa = f.create(TECH1, "ServiceAppointment", json!({"ParentRecordId": wo, "Technician__c": f.tech1, "Subject": "Visit", "SchedStartTime": f.at(1, 2)}));
    let sa2 = f.create(TECH1, "ServiceAppointment", json!({"ParentRecordId": wo2, "Technician__c": f.tech1, "Subject": "Inspection", "SchedStartTime": f.at(-2, 0)}));
    let far_sa = f.create(TECH1, "ServiceAppointment", json!({"ParentRecordId": far_wo, "Technician__c": f.tech1, "Subject": "Far", "SchedStartTime": f.at(40, 0)}));
    let tech2_sa = f.create(TECH2, "ServiceAppointment", json!({"ParentRecordId": tech2_wo, "Technician__c": f.tech2, "Subject": "Theirs", "SchedStartTime": f.at(1, 0)}));
    // Priming happens well after the data was written, as on a real device.
    f.advance(Duration::hours(1));
    Data {
        account,
        other_account,
        contact,
        asset,
        wo,
        wo2,
        far_wo,
        tech2_wo,
        spare_wo,
        items,
        canceled_item,
        sa,
        sa2,
        far_sa,
        tech2_sa,
    }
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn counts(report: &engine::SyncReport, object: &str) -> ObjectCounts {
    report.objects.get(object).copied().unwrap_or_default()
}

#[tokio::test]
async fn priming_downloads_exactly_the_scope() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let report = engine.prime(&mut move |e| sink.lock().unwrap().push(e)).await.unwrap();

    assert_eq!(sorted(f.held("ServiceAppointment")), sorted(vec![d.sa.clone(), d.sa2.clone()]));
    assert_eq!(sorted(f.held("WorkOrder")), sorted(vec![d.wo.clone(), d.wo2.clone()]));
    assert_eq!(sorted(f.held("WorkOrderLineItem")), sorted(d.items.clone()));
    assert_eq!(f.held("Account"), vec![d.account.clone()]);
    assert_eq!(f.held("Asset"), vec![d.asset.clone()]);
    assert_eq!(f.held("Contact"), vec![d.contact.clone()]);
    assert_eq!(f.held("Product2").len(), 1, "only active products");
    assert_eq!(counts(&report, "ServiceAppointment").new, 2);
    assert_eq!(f.field("Account", &d.account, "BillingCity"), json!("Lyon"));

    // Offline queries read what was primed; the run is in the sync history.
    let answer =
        engine.query("SELECT Id, Subject FROM ServiceAppointment WHERE Subject = 'Visit'").unwrap();
    assert_eq!(answer["totalSize"], json!(1));
    let history = f.store.read(|r| r.sync_events(10, None)).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].kind, store::SyncKind::Initial);
    assert_eq!(history[0].outcome, Some(store::SyncOutcome::Succeeded));
    assert_eq!(history[0].counts["ServiceAppointment"]["new"], json!(2));

    let events = events.lock().unwrap();
    assert!(events.contains(&SyncEvent::ObjectStarted {
        object: "ServiceAppointment".into(),
        total: Some(2)
    }));
    assert!(events.contains(&SyncEvent::Progress {
        object: "ServiceAppointment".into(),
        done: 2,
        total: Some(2)
    }));
    let _ = (
        &d.far_sa,
        &d.far_wo,
        &d.tech2_sa,
        &d.tech2_wo,
        &d.other_account,
        &d.canceled_item,
        &d.spare_wo,
    );
}

#[tokio::test]
async fn interrupted_priming_resumes_without_downloading_again() {
    let f = Fixture::new().await;
    for i in 0..450 {
        f.create(
            "admin@devorg.example",
            "Product2",
            json!({"Name": format!("Part {i}"), "IsActive": true}),
        );
    }
    let profile =
        "[objects.Product2]\nfields = [\"Name\", \"IsActive\"]\nfilter = \"IsActive = true\"\n";
    let engine = f.engine(profile).await.unwrap();

    // Stop priming right after its first page is committed.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let mut on_event = move |e: SyncEvent| {
        if matches!(e, SyncEvent::Progress { .. })
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(());
        }
    };
    tokio::select! {
        _ = engine.prime(&mut on_event) => panic!("priming should have been interrupted"),
        _ = rx => {}
    }
    let after_first = f.held("Product2").len();
    assert_eq!(after_first, 200);

    let report = engine.prime(&mut |_| {}).await.unwrap();
    assert_eq!(f.held("Product2").len(), 450);
    assert_eq!(counts(&report, "Product2").new, 250, "the first page is not read again");
    assert_eq!(counts(&report, "Product2").updated, 0);
}

#[tokio::test]
async fn delta_brings_updates_and_deletions_only() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();

    f.advance(Duration::minutes(20));
    f.update(TECH1, "ServiceAppointment", &d.sa, json!({"Subject": "Visit (moved)"}));
    f.delete(TECH1, "WorkOrderLineItem", &d.items[1]);
    f.advance(Duration::minutes(1));
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();

    assert_eq!(f.field("ServiceAppointment", &d.sa, "Subject"), json!("Visit (moved)"));
    assert_eq!(counts(&report, "ServiceAppointment").updated, 1);
    assert_eq!(counts(&report, "ServiceAppointment").new, 0);
    assert_eq!(counts(&report, "WorkOrderLineItem").deleted, 1);
    assert_eq!(f.held("WorkOrderLineItem"), vec![d.items[0].clone()]);
    assert_eq!(counts(&report, "Account"), ObjectCounts::default());

    // Nothing changed: nothing moves.
    f.advance(Duration::minutes(20));
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    for (object, c) in &report.objects {
        assert_eq!(c.new + c.deleted + c.left_scope + c.entered_scope, 0, "{object}: {c:?}");
    }
}

#[tokio::test]
async fn records_leave_scope_by_filter_owner_and_parent() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();

    // By filter: the appointment moves out of the window; its work order, line items,
    // asset and contact follow; the account stays through the other work order.
    f.advance(Duration::minutes(20));
    f.update(TECH1, "ServiceAppointment", &d.sa, json!({"SchedStartTime": f.at(30, 0)}));
    f.advance(Duration::minutes(1));
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(counts(&report, "ServiceAppointment").left_scope, 1);
    assert_eq!(f.held("ServiceAppointment"), vec![d.sa2.clone()]);
    assert_eq!(f.held("WorkOrder"), vec![d.wo2.clone()]);
    assert!(f.held("WorkOrderLineItem").is_empty());
    assert!(f.held("Asset").is_empty());
    assert!(f.held("Contact").is_empty());
    assert_eq!(f.held("Account"), vec![d.account.clone()]);

    // By owner: the other appointment goes to another technician.
    f.advance(Duration::minutes(20));
    f.update(
        "admin@devorg.example",
        "ServiceAppointment",
        &d.sa2,
        json!({"Technician__c": f.tech2}),
    );
    f.advance(Duration::minutes(1));
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(counts(&report, "ServiceAppointment").left_scope, 1);
    assert!(f.held("ServiceAppointment").is_empty());
    assert!(f.held("WorkOrder").is_empty());
    assert!(f.held("Account").is_empty(), "no held work order points at the account any more");
}

#[tokio::test]
async fn a_child_leaves_by_its_rule_filter() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();

    f.advance(Duration::minutes(20));
    f.update(TECH1, "WorkOrderLineItem", &d.items[0], json!({"Status": "Canceled"}));
    f.advance(Duration::minutes(1));
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(counts(&report, "WorkOrderLineItem").left_scope, 1);
    assert_eq!(f.held("WorkOrderLineItem"), vec![d.items[1].clone()]);
}

#[tokio::test]
async fn records_enter_scope_through_a_parent() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();
    assert!(!f.held("WorkOrder").contains(&d.spare_wo));

    // A new appointment on a work order that has not changed in a long time: the work
    // order, its unchanged line item and its account come along.
    f.advance(Duration::minutes(20));
    f.create(TECH1, "ServiceAppointment", json!({"ParentRecordId": d.spare_wo, "Technician__c": f.tech1, "SchedStartTime": f.at(2, 0)}));
    f.advance(Duration::minutes(1));
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(counts(&report, "ServiceAppointment").new, 1);
    assert_eq!(counts(&report, "WorkOrder").entered_scope, 1);
    assert!(f.held("WorkOrder").contains(&d.spare_wo));
    assert_eq!(counts(&report, "WorkOrderLineItem").entered_scope, 1);
    assert!(f.held("Account").contains(&d.other_account));
    assert_eq!(counts(&report, "Account").entered_scope, 1);
}

#[tokio::test]
async fn a_record_with_pending_changes_is_kept_and_flagged() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();

    // A local edit the org refuses (closing without a resolution note) stays pending.
    let mut edit = serde_json::Map::new();
    edit.insert("Status".into(), json!("Closed"));
    f.store
        .write(|tx| {
            tx.record_edit("WorkOrder", Some(&d.wo), store::ChangeOp::Update, &edit, f.clock.now())
        })
        .unwrap();
    f.advance(Duration::minutes(20));
    f.update(
        "admin@devorg.example",
        "ServiceAppointment",
        &d.sa,
        json!({"Technician__c": f.tech2}),
    );
    f.advance(Duration::minutes(1));
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(report.upload.failed, 1);

    // Its appointment left, so the work order left scope, but it is kept and flagged.
    assert_eq!(counts(&report, "ServiceAppointment").left_scope, 1);
    assert_eq!(counts(&report, "WorkOrder").kept_pending, 1);
    let flags = f.store.read(|r| r.record_flags("WorkOrder", &d.wo)).unwrap().unwrap();
    assert!(flags.scope_left && flags.pending);
    assert_eq!(f.field("WorkOrder", &d.wo, "Status"), json!("Closed"));
}

#[tokio::test]
async fn sync_uploads_local_edits_before_downloading() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();

    let mut edit = serde_json::Map::new();
    edit.insert("Subject".into(), json!("Visit: bring the seal kit"));
    f.store
        .write(|tx| {
            tx.record_edit(
                "ServiceAppointment",
                Some(&d.sa),
                store::ChangeOp::Update,
                &edit,
                f.clock.now(),
            )
        })
        .unwrap();
    f.advance(Duration::minutes(20));
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(report.upload.uploaded, 1);
    let server = f.org.admin().retrieve(TECH1, "ServiceAppointment", &d.sa).unwrap();
    assert_eq!(server["Subject"], json!("Visit: bring the seal kit"));
    let flags = f.store.read(|r| r.record_flags("ServiceAppointment", &d.sa)).unwrap().unwrap();
    assert!(!flags.pending);
    assert_eq!(f.field("ServiceAppointment", &d.sa, "Subject"), json!("Visit: bring the seal kit"));
}

#[tokio::test]
async fn profile_errors_name_their_line() {
    let f = Fixture::new().await;
    let text = "version = 1\n\n[objects.WorkOrdr]\nfields = \"*\"\n";
    let err = f.engine(text).await.unwrap_err();
    assert_eq!(err.to_string(), "profile.toml: line 3: unknown object 'WorkOrdr'");
    let text = "[objects.Account]\nfields = [\"Name\", \"Nmae\"]\n";
    let err = f.engine(text).await.unwrap_err();
    assert_eq!(err.to_string(), "profile.toml: line 2: unknown field 'Nmae' on Account");
}

#[tokio::test]
async fn profile_change_primes_added_and_drops_removed_objects() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let mut engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();
    assert_eq!(f.held("Contact"), vec![d.contact.clone()]);

    // Drop contacts, add cases, narrow products to none.
    f.create(TECH1, "Case", json!({"Subject": "Leak", "AccountId": d.account}));
    let start = FIELD_SERVICE.find("[objects.Contact]").unwrap();
    let end = FIELD_SERVICE.find("[objects.Product2]").unwrap();
    let changed = format!(
        "{}{}\n[objects.Case]\nfields = [\"Subject\", \"Status\"]\nfilter = \"Status = 'New'\"\n",
        &FIELD_SERVICE[..start],
        FIELD_SERVICE[end..].replace("IsActive = true", "IsActive = false")
    )
    .replace("    { field = \"ContactId\" },\n", "")
    .replace(
        "[\"Name\", \"Phone\", \"BillingCity\"]",
        "[\"Name\", \"Phone\", \"BillingCity\", \"Industry\"]",
    );
    let source = ProfileSource::parse("profile.toml", &changed).unwrap();
    let change = engine.change_profile(&source, &mut |_| {}).await.unwrap();
    assert_eq!(change.diff.removed, ["Contact"]);
    assert_eq!(change.diff.added, ["Case"]);
    // A field added to a primed object is filled in for the records already held.
    assert_eq!(f.field("Account", &d.account, "Industry"), json!("Energy"));
    assert!(f.held("Contact").is_empty());
    let product = change.rescoped.get("Product2").copied().unwrap_or_default();
    assert_eq!(product.left_scope, 1);
    assert_eq!(product.entered_scope, 1, "the inactive product enters");
    // Objects whose scope did not move are not touched at all.
    assert!(!change.rescoped.contains_key("ServiceAppointment"));

    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(counts(&report, "Case").new, 1);
    assert_eq!(counts(&report, "ServiceAppointment").new, 0, "nothing downloaded again");
    assert_eq!(counts(&report, "WorkOrder").new, 0);
}

#[tokio::test]
async fn full_sync_catches_records_a_moving_date_filter_drops() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();
    assert!(f.held("ServiceAppointment").contains(&d.sa2));

    // Six days on, the appointment two days in the past is eight days old: out of the
    // LAST_N_DAYS:7 window without having changed.
    f.advance(Duration::days(6));
    let report = engine.sync(SyncKind::Full, &mut |_| {}).await.unwrap();
    assert_eq!(counts(&report, "ServiceAppointment").left_scope, 1);
    assert_eq!(f.held("ServiceAppointment"), vec![d.sa.clone()]);
}

/// API calls a delta sync makes.
async fn delta_calls(f: &Fixture, engine: &Engine) -> u64 {
    let before = f.client.api_usage().expect("usage reported").used;
    engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    f.client.api_usage().expect("usage reported").used - before
}

#[tokio::test]
async fn delta_cost_follows_changes_not_store_size() {
    let f = Fixture::new().await;
    let admin = "admin@devorg.example";
    for i in 0..250 {
        f.create(admin, "Product2", json!({"Name": format!("Part {i}"), "IsActive": true}));
    }
    let profile =
        "[objects.Product2]\nfields = [\"Name\", \"IsActive\"]\nfilter = \"IsActive = true\"\n";
    let engine = f.engine(profile).await.unwrap();
    f.advance(Duration::hours(1));
    engine.prime(&mut |_| {}).await.unwrap();
    f.advance(Duration::hours(1));
    let small = delta_calls(&f, &engine).await;

    // Four times the records; once they are in, an idle delta costs the same.
    for i in 0..750 {
        f.create(admin, "Product2", json!({"Name": format!("More {i}"), "IsActive": true}));
    }
    f.advance(Duration::hours(1));
    engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(f.held("Product2").len(), 1000);
    f.advance(Duration::hours(1));
    assert_eq!(delta_calls(&f, &engine).await, small);
}

#[tokio::test]
async fn deletions_older_than_the_recycle_bin_are_found_by_reconciling() {
    let f = Fixture::new().await;
    let admin = "admin@devorg.example";
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(f.create(
            admin,
            "Product2",
            json!({"Name": format!("Part {i}"), "IsActive": true}),
        ));
    }
    let profile =
        "[objects.Product2]\nfields = [\"Name\", \"IsActive\"]\nfilter = \"IsActive = true\"\n";
    let engine = f.engine(profile).await.unwrap();
    f.advance(Duration::hours(1));
    engine.prime(&mut |_| {}).await.unwrap();

    // Twenty days offline: the deletion is out of every log's reach.
    f.delete(admin, "Product2", &ids[7]);
    f.advance(Duration::days(20));
    f.org.admin().purge_recycle_bin(None).unwrap();
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(counts(&report, "Product2").deleted, 1);
    assert_eq!(f.held("Product2").len(), 29);
    assert!(!f.held("Product2").contains(&ids[7]));
}

/// Objects in the field-service profile, all due on every delta.
const PROFILE_OBJECTS: u64 = 7;

#[tokio::test]
async fn an_idle_delta_costs_at_most_one_request_per_object() {
    let f = Fixture::new().await;
    seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();

    f.advance(Duration::minutes(20));
    let idle = delta_calls(&f, &engine).await;
    assert!(idle <= PROFILE_OBJECTS, "an idle delta made {idle} requests");
    // Every object's first reads fit one Composite call.
    assert_eq!(idle, 1, "an idle delta made {idle} requests");
}

#[tokio::test]
async fn a_delta_with_deletions_updates_and_a_late_commit_converges() {
    let f = Fixture::new().await;
    let d = seed(&f);
    let engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.prime(&mut |_| {}).await.unwrap();

    // A write to a held line item begins (and takes its stamp) before the changes the
    // next delta reads, and commits only after that delta.
    let held = f
        .org
        .admin()
        .begin_held_write(
            TECH1,
            "WorkOrderLineItem",
            vec![json!({"Id": d.items[0], "Subject": "Committed late"})],
        )
        .unwrap();
    f.advance(Duration::minutes(20));
    f.update(TECH1, "ServiceAppointment", &d.sa, json!({"Subject": "Visit (moved)"}));
    f.update(TECH1, "Account", &d.account, json!({"Phone": "+33 4 00 00 00 00"}));
    f.delete(TECH1, "WorkOrderLineItem", &d.items[1]);
    let added =
        f.create(TECH1, "WorkOrderLineItem", json!({"WorkOrderId": d.wo, "Subject": "Gasket"}));
    f.advance(Duration::minutes(1));
    let calls = delta_calls(&f, &engine).await;
    assert!(calls <= PROFILE_OBJECTS, "a delta with changes made {calls} requests");

    assert_eq!(f.field("ServiceAppointment", &d.sa, "Subject"), json!("Visit (moved)"));
    assert_eq!(f.field("Account", &d.account, "Phone"), json!("+33 4 00 00 00 00"));
    assert_eq!(f.field("WorkOrderLineItem", &added, "Subject"), json!("Gasket"));
    assert!(!f.held("WorkOrderLineItem").contains(&d.items[1]));
    assert_eq!(f.field("WorkOrderLineItem", &d.items[0], "Subject"), json!("Seal"));

    // The late commit carries a stamp older than what the last delta read; the next
    // delta still brings it, and then the store equals the server's scope.
    held.commit().unwrap();
    f.advance(Duration::minutes(20));
    engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(f.field("WorkOrderLineItem", &d.items[0], "Subject"), json!("Committed late"));
    assert_eq!(
        sorted(f.held("WorkOrderLineItem")),
        sorted(vec![d.items[0].clone(), added.clone()])
    );
    let report = engine.sync(SyncKind::Full, &mut |_| {}).await.unwrap();
    for (object, c) in &report.objects {
        assert_eq!(c.new + c.deleted + c.left_scope + c.entered_scope, 0, "{object}: {c:?}");
    }
}

#[tokio::test]
async fn a_device_clock_ahead_of_the_org_misses_no_change() {
    let f = Fixture::new().await;
    let d = seed(&f);
    // The device's clock runs an hour ahead of the org's, and the org keeps no
    // replication log: the sync marks come from the clocks alone.
    f.clock.advance(Duration::hours(1));
    let mut engine = f.engine(FIELD_SERVICE).await.unwrap();
    engine.set_options(SyncOptions {
        overlap: Duration::minutes(5),
        page_size: 200,
        replication_log: false,
    });
    engine.prime(&mut |_| {}).await.unwrap();

    // Changed ten minutes later by the org's clock: still long before the device's.
    f.advance(Duration::minutes(10));
    f.update(TECH1, "ServiceAppointment", &d.sa, json!({"Subject": "Visit (moved)"}));
    f.advance(Duration::minutes(1));
    let report = engine.sync(SyncKind::Delta, &mut |_| {}).await.unwrap();
    assert_eq!(f.field("ServiceAppointment", &d.sa, "Subject"), json!("Visit (moved)"));
    assert_eq!(counts(&report, "ServiceAppointment").updated, 1);
}
