//! What the sync history says of an upload's conflicts, against a devorg on loopback
//! with a real store file: a conflict the profile's policy settled is listed as a
//! conflict with how it was settled, not as a plain upload, and leaves the run whole.

mod upload_support;

use std::collections::BTreeMap;

use engine::history::{self, RunEnd, RunSummary};
use engine::profile::ConflictPolicy;
use engine::{Clock, SyncKind, SyncReport, UploadCounts};
use serde_json::json;
use store::{ChangeOp, EventRecord, RecordAction, SyncOutcome};
use upload_support::{ADMIN, Env};

/// One upload recorded as a sync run, as `Engine::sync` records it.
async fn recorded_upload(env: &Env) -> (RunSummary, Vec<EventRecord>) {
    let run = history::begin(&env.store, store::SyncKind::User, env.clock.now()).unwrap();
    let upload = env.upload().await;
    let report = SyncReport {
        kind: SyncKind::Delta,
        started_at: env.clock.now(),
        finished_at: env.clock.now(),
        upload: UploadCounts::from(&upload),
        objects: BTreeMap::new(),
        records: Vec::new(),
    };
    let summary = run.finish(&env.store, RunEnd::Completed(&report), env.clock.now()).unwrap();
    let rows = env.store.read(|r| r.sync_event_records(summary.event_id)).unwrap();
    (summary, rows)
}

/// An Account on the org and the device; the device edits Phone (and Name), then the org
/// edits Phone; `policy` settles Phone.
async fn phone_edited_on_both_sides(policy: ConflictPolicy) -> (Env, String) {
    let mut env = Env::start(false).await;
    env.profile.objects[0].conflict = policy;
    let id = env.server_record("Account", json!({"Name": "Both Sides", "Phone": "100"}));
    env.edit("Account", Some(&id), ChangeOp::Update, json!({"Phone": "local"}));
    env.org.admin().update(ADMIN, "Account", &id, json!({"Phone": "server"})).unwrap();
    (env, id)
}

#[tokio::test]
async fn a_conflict_settled_by_client_wins_is_listed_as_a_conflict() {
    let (env, id) = phone_edited_on_both_sides(ConflictPolicy::ClientWins).await;
    let (summary, rows) = recorded_upload(&env).await;
    assert_eq!(env.server("Account", &id)["Phone"], "local");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].record_id.as_str(), rows[0].action), (id.as_str(), RecordAction::Conflict));
    assert_eq!(
        rows[0].detail.as_deref(),
        Some("changed on the server too; settled by policy (Phone: this device's value sent)")
    );
    assert_eq!(summary.outcome, SyncOutcome::Succeeded, "a settled conflict leaves the run whole");
    assert_eq!((summary.upload.uploaded, summary.upload.settled), (1, 1));
    assert_eq!(summary.upload.conflicts, 0);
}

#[tokio::test]
async fn a_conflict_settled_by_server_wins_is_listed_as_a_conflict() {
    let (env, id) = phone_edited_on_both_sides(ConflictPolicy::ServerWins).await;
    let (summary, rows) = recorded_upload(&env).await;
    assert_eq!(env.local("Account", &id).unwrap()["Phone"], "server");
    assert_eq!(rows[0].action, RecordAction::Conflict, "{rows:?}");
    assert!(rows[0].detail.as_deref().unwrap().contains("Phone: the server's value kept"));
    assert_eq!(summary.outcome, SyncOutcome::Succeeded);
}

#[tokio::test]
async fn a_record_created_again_is_listed_as_a_conflict_and_a_plain_edit_as_an_upload() {
    let mut env = Env::start(false).await;
    env.profile.objects[0].conflict = ConflictPolicy::ClientWins;
    let gone = env.server_record("Account", json!({"Name": "Deleted There"}));
    let kept = env.server_record("Account", json!({"Name": "Still There"}));
    env.edit("Account", Some(&gone), ChangeOp::Update, json!({"Phone": "1"}));
    env.edit("Account", Some(&kept), ChangeOp::Update, json!({"Phone": "2"}));
    env.org.admin().delete(ADMIN, "Account", &gone).unwrap();

    let (summary, rows) = recorded_upload(&env).await;
    let row = |id: &str| rows.iter().find(|r| r.record_id == id).unwrap().clone();
    assert_eq!(row(&gone).action, RecordAction::Conflict, "{rows:?}");
    assert_eq!(
        row(&gone).detail.as_deref(),
        Some("deleted on the server; created again with this device's values (client wins)")
    );
    assert_eq!((row(&kept).action, row(&kept).detail), (RecordAction::Uploaded, None));
    assert_eq!(summary.outcome, SyncOutcome::Succeeded);
    assert_eq!(env.server_ids("Account", "Name = 'Deleted There'").await.len(), 1);
}
