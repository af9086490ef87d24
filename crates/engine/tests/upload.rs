//! The upload path against a devorg on loopback, through a fault-injecting proxy, with a
//! real store file.

mod upload_support;

use std::collections::BTreeMap;
use std::time::Duration;

use engine::Clock;
use engine::profile::ConflictPolicy;
use engine::upload::conflict::is_deleted_on_server;
use engine::upload::{ConflictSettlement, UploadOptions};
use serde_json::{Value, json};
use store::{ChangeOp, ChangeState, Record, Resolution};
use upload_support::{ADMIN, Env, Fault};

const COLLECTIONS: &str = "/services/data/v62.0/composite/sobjects";

fn record(v: Value) -> Record {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn a_create_and_its_updates_reach_the_org_as_one_create() {
    let env = Env::start(false).await;
    let (local, _) =
        env.edit("Account", None, ChangeOp::Create, json!({"Name": "Coalesce Co", "Phone": "1"}));
    env.edit("Account", Some(&local), ChangeOp::Update, json!({"Phone": "2"}));
    env.edit("Account", Some(&local), ChangeOp::Update, json!({"Name": "Coalesce Co Ltd"}));
    assert_eq!(env.queue().len(), 1);

    let report = env.upload().await;
    assert_eq!((report.sent, report.succeeded, report.requests), (1, 1, 1));
    assert_eq!(env.proxy.log(), vec![format!("POST {COLLECTIONS}")]);
    assert_eq!(report.id_remaps.len(), 1);
    assert_eq!(report.id_remaps[0].local_id, local);
    let id = report.id_remaps[0].server_id.clone();

    assert_eq!(env.server_ids("Account", "Name LIKE 'Coalesce%'").await, vec![id.clone()]);
    let server = env.server("Account", &id);
    assert_eq!(
        (server["Name"].as_str(), server["Phone"].as_str()),
        (Some("Coalesce Co Ltd"), Some("2"))
    );
    assert!(env.queue().is_empty());
    assert!(env.local("Account", &local).is_none());
    assert_eq!(env.local("Account", &id).unwrap()["Name"], "Coalesce Co Ltd");
}

#[tokio::test]
async fn a_parent_and_child_created_offline_upload_together_with_references_remapped() {
    let env = Env::start(false).await;
    let (account, _) =
        env.edit("Account", None, ChangeOp::Create, json!({"Name": "Offline Parent"}));
    let (contact, contact_seq) = env.edit(
        "Contact",
        None,
        ChangeOp::Create,
        json!({"LastName": "Offline Child", "AccountId": account}),
    );
    assert_eq!(env.change(contact_seq).state, ChangeState::Blocked);

    let report = env.upload().await;
    assert_eq!((report.succeeded, report.requests), (2, 2));
    assert!(report.failed.is_empty() && report.blocked.is_empty());
    let remaps: BTreeMap<&str, &str> =
        report.id_remaps.iter().map(|r| (r.local_id.as_str(), r.server_id.as_str())).collect();
    let account_id = remaps[account.as_str()];
    let contact_id = remaps[contact.as_str()];

    assert_eq!(env.server("Contact", contact_id)["AccountId"], account_id);
    assert_eq!(env.local("Contact", contact_id).unwrap()["AccountId"], account_id);
    assert!(env.queue().is_empty());
}

#[tokio::test]
async fn offline_records_that_refer_to_each_other_upload_with_the_circle_broken() {
    let env = Env::start(false).await;
    let (first, first_seq) =
        env.edit("Account", None, ChangeOp::Create, json!({"Name": "Circle One"}));
    let (second, _) = env.edit(
        "Account",
        None,
        ChangeOp::Create,
        json!({"Name": "Circle Two", "ParentId": first}),
    );
    env.edit("Account", Some(&first), ChangeOp::Update, json!({"ParentId": second}));
    assert_eq!(env.change(first_seq).state, ChangeState::Blocked);

    let report = env.upload().await;
    assert!(report.blocked.is_empty() && report.failed.is_empty(), "{report:?}");
    assert_eq!(report.id_remaps.len(), 2);
    let server_id = |local: &str| {
        report.id_remaps.iter().find(|r| r.local_id == local).unwrap().server_id.clone()
    };
    let (one, two) = (server_id(&first), server_id(&second));
    assert_eq!(env.server("Account", &one)["ParentId"], two.as_str());
    assert_eq!(env.server("Account", &two)["ParentId"], one.as_str());
    assert_eq!(env.server_ids("Account", "Name LIKE 'Circle%'").await.len(), 2);
    // Two creates, then the reference left out as an update.
    let log = env.proxy.log();
    let creates = log.iter().filter(|l| **l == format!("POST {COLLECTIONS}")).count();
    let updates = log.iter().filter(|l| **l == format!("PATCH {COLLECTIONS}")).count();
    assert_eq!((creates, updates), (2, 1), "{log:?}");
    assert!(env.queue().is_empty(), "{:?}", env.queue());
    assert_eq!(env.local("Account", &one).unwrap()["ParentId"], two.as_str());
    assert_eq!(env.local("Account", &two).unwrap()["ParentId"], one.as_str());
}

#[tokio::test]
async fn one_batch_with_successes_and_failures_fails_only_the_bad_records() {
    let env = Env::start(false).await;
    let (_, good_seq) = env.edit("Account", None, ChangeOp::Create, json!({"Name": "Good"}));
    let (bad, bad_seq) = env.edit("Account", None, ChangeOp::Create, json!({"Phone": "5"}));
    let (_, child_seq) = env.edit(
        "Contact",
        None,
        ChangeOp::Create,
        json!({"LastName": "Orphan", "AccountId": bad}),
    );
    let (_, other_seq) = env.edit("Contact", None, ChangeOp::Create, json!({"LastName": "Fine"}));

    let report = env.upload().await;
    assert_eq!(report.succeeded, 2, "{report:?}");
    assert_eq!(report.requests, 2);
    assert_eq!(report.failed.len(), 1);
    let (seq, code, message) = &report.failed[0];
    assert_eq!((*seq, code.as_str()), (bad_seq, "REQUIRED_FIELD_MISSING"));
    assert!(!message.is_empty());

    let failed = env.change(bad_seq);
    assert_eq!(failed.state, ChangeState::Failed);
    assert_eq!(failed.error.as_ref().unwrap()["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(report.blocked.len(), 1);
    assert_eq!(report.blocked[0].0, child_seq);
    assert!(report.blocked[0].1.contains(&bad), "{}", report.blocked[0].1);
    assert!(report.blocked[0].1.contains("failed"), "{}", report.blocked[0].1);
    let remaining: Vec<i64> = env.queue().iter().map(|c| c.seq).collect();
    assert_eq!(remaining, vec![bad_seq, child_seq]);
    assert!(!remaining.contains(&good_seq) && !remaining.contains(&other_seq));
}

#[tokio::test]
async fn transient_faults_are_retried_with_growing_delays() {
    let env = Env::start(false).await;
    let id = env.server_record("Account", json!({"Name": "Retry", "Phone": "0"}));
    env.edit("Account", Some(&id), ChangeOp::Update, json!({"Phone": "9"}));
    let unavailable = json!([{"message": "try later", "errorCode": "SERVER_UNAVAILABLE"}]);
    let limit = json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]);
    env.proxy.inject("PATCH", COLLECTIONS, Fault::Status(503, unavailable), 1);
    env.proxy.inject("PATCH", COLLECTIONS, Fault::Status(403, limit), 1);
    env.proxy.inject("PATCH", COLLECTIONS, Fault::LockRows, 1);

    let report = env.upload().await;
    assert_eq!((report.sent, report.succeeded), (1, 1), "{report:?}");
    assert_eq!(report.requests, 5, "one retrieve and four updates");
    assert_eq!(env.server("Account", &id)["Phone"], "9");
    let delays = env.delays();
    assert_eq!(delays.len(), 3);
    let bounds = [(100, 150), (200, 300), (400, 600)];
    for (delay, (low, high)) in delays.iter().zip(bounds) {
        assert!(
            *delay >= Duration::from_millis(low) && *delay <= Duration::from_millis(high),
            "{delays:?}"
        );
    }
}

#[tokio::test]
async fn an_outage_leaves_changes_waiting_for_the_next_run() {
    let mut env = Env::start(false).await;
    env.opts = UploadOptions { max_attempts: 3, ..env.opts.clone() };
    let id = env.server_record("Account", json!({"Name": "Outage", "Phone": "0"}));
    let (_, seq) = env.edit("Account", Some(&id), ChangeOp::Update, json!({"Phone": "7"}));
    let down = json!([{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}]);
    env.proxy.inject("PATCH", COLLECTIONS, Fault::Status(503, down), 3);

    let report = env.upload().await;
    assert_eq!(report.succeeded, 0);
    assert_eq!(report.deferred, vec![seq]);
    assert!(report.interrupted.as_deref().unwrap().contains("3 attempts"), "{report:?}");
    assert_eq!(env.delays().len(), 2);
    assert_eq!(env.change(seq).state, ChangeState::Waiting);
    assert_eq!(env.server("Account", &id)["Phone"], "0");

    let report = env.upload().await;
    assert_eq!(report.succeeded, 1);
    assert_eq!(env.server("Account", &id)["Phone"], "7");
    assert!(env.queue().is_empty());
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_found_on_the_org_not_sent_twice() {
    let env = Env::start(false).await;
    let (local, _) =
        env.edit("Contact", None, ChangeOp::Create, json!({"LastName": "Lost Answer"}));
    env.proxy.inject("POST", COLLECTIONS, Fault::DropAfterForward, 1);

    let report = env.upload().await;
    assert_eq!((report.succeeded, report.adopted), (1, 1), "{report:?}");
    let log = env.proxy.log();
    assert_eq!(log.iter().filter(|l| l.starts_with("POST")).count(), 1, "{log:?}");
    assert!(log[1].starts_with("GET /services/data/v62.0/query"), "{log:?}");
    let ids = env.server_ids("Contact", "LastName = 'Lost Answer'").await;
    assert_eq!(ids.len(), 1);
    assert_eq!(report.id_remaps[0].local_id, local);
    assert_eq!(report.id_remaps[0].server_id, ids[0]);
    assert!(env.queue().is_empty());
}

#[tokio::test]
async fn an_upsert_whose_answer_is_lost_is_sent_again_without_duplicating() {
    let env = Env::start(true).await;
    env.edit("Account", None, ChangeOp::Create, json!({"Name": "Upsert Once"}));
    env.proxy.inject("PATCH", "/External_Id__c", Fault::DropAfterForward, 1);

    let report = env.upload().await;
    assert_eq!((report.sent, report.succeeded), (1, 1), "{report:?}");
    assert_eq!(report.requests, 2);
    let ids = env.server_ids("Account", "Name = 'Upsert Once'").await;
    assert_eq!(ids, vec![report.id_remaps[0].server_id.clone()]);
    let ext = env.server("Account", &ids[0])["External_Id__c"].as_str().unwrap().to_owned();
    assert_eq!(ext.len(), 32);
}

#[tokio::test]
async fn a_kill_after_the_org_committed_creates_no_duplicate_after_restart() {
    let env = Env::start(false).await;
    let now = env.clock.now();
    let (committed, committed_seq) = env.edit(
        "Contact",
        None,
        ChangeOp::Create,
        json!({"LastName": "Committed", "FirstName": "Ann"}),
    );
    let (_, unsent_seq) =
        env.edit("Contact", None, ChangeOp::Create, json!({"LastName": "Unsent"}));
    let (_, twin_seq) = env.edit("Contact", None, ChangeOp::Create, json!({"LastName": "Twin"}));

    // What a run that died leaves: all three uploading; the org committed the first; two
    // records the second run cannot tell apart look like the third.
    env.store
        .write(|tx| {
            for seq in [committed_seq, unsent_seq, twin_seq] {
                tx.mark_uploading(seq, now)?;
            }
            Ok(())
        })
        .unwrap();
    let body = record(json!({"LastName": "Committed", "FirstName": "Ann"}));
    let created = env.client.create_many("Contact", &[body], false).await.unwrap();
    let committed_id = created[0].id.clone().unwrap();
    for _ in 0..2 {
        env.org.admin().create(ADMIN, "Contact", json!({"LastName": "Twin"})).unwrap();
    }

    let report = env.upload().await;
    assert_eq!(report.adopted, 1, "{report:?}");
    assert_eq!(report.succeeded, 2);
    assert!(
        report.id_remaps.iter().any(|r| r.local_id == committed && r.server_id == committed_id)
    );
    assert_eq!(
        env.server_ids("Contact", "LastName = 'Committed'").await,
        vec![committed_id.clone()]
    );
    assert_eq!(env.server_ids("Contact", "LastName = 'Unsent'").await.len(), 1);
    assert_eq!(env.server_ids("Contact", "LastName = 'Twin'").await.len(), 2);

    assert_eq!(report.failed.len(), 1);
    assert_eq!((report.failed[0].0, report.failed[0].1.as_str()), (twin_seq, "AMBIGUOUS_CREATE"));
    let twin = env.change(twin_seq);
    assert_eq!(twin.state, ChangeState::Failed);
    assert!(twin.error.unwrap()["message"].as_str().unwrap().contains("2 records"));
    assert_eq!(env.local("Contact", &committed_id).unwrap()["FirstName"], "Ann");
}

#[tokio::test]
async fn a_kill_after_an_upsert_committed_creates_no_duplicate_after_restart() {
    let env = Env::start(true).await;
    let now = env.clock.now();
    let (local, seq) = env.edit("Account", None, ChangeOp::Create, json!({"Name": "Upserted"}));
    env.store
        .write(|tx| {
            tx.set_external_id_value(seq, "crash-test-value-1")?;
            tx.mark_uploading(seq, now)?;
            Ok(())
        })
        .unwrap();
    let body = record(json!({"Name": "Upserted", "External_Id__c": "crash-test-value-1"}));
    let first = env.client.upsert_many("Account", "External_Id__c", &[body], false).await.unwrap();
    assert_eq!(first[0].created, Some(true));

    let report = env.upload().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(report.adopted, 0);
    assert!(env.proxy.log().iter().all(|l| !l.contains("/query")), "no search needed");
    let ids = env.server_ids("Account", "Name = 'Upserted'").await;
    assert_eq!(ids, vec![first[0].id.clone().unwrap()]);
    assert_eq!(report.id_remaps[0].local_id, local);
}

#[tokio::test]
async fn a_create_edited_after_it_was_sent_is_found_by_the_values_sent_not_sent_twice() {
    let env = Env::start(false).await;
    let now = env.clock.now();
    let sent = json!({"LastName": "As Sent", "Title": "Surveyor"});
    let (local, seq) = env.edit("Contact", None, ChangeOp::Create, sent.clone());

    // A run marked the create uploading and the org committed it; the process died before
    // the answer was recorded. Then the user edited the record.
    env.store.write(|tx| tx.mark_uploading(seq, now).map(|_| ())).unwrap();
    let created = env.client.create_many("Contact", &[record(sent)], false).await.unwrap();
    let server_id = created[0].id.clone().unwrap();
    env.edit("Contact", Some(&local), ChangeOp::Update, json!({"LastName": "Edited Later"}));
    env.proxy.clear_log();

    let report = env.upload().await;
    assert_eq!(report.adopted, 1, "{report:?}");
    assert_eq!(report.id_remaps[0].local_id, local);
    assert_eq!(report.id_remaps[0].server_id, server_id);
    assert_eq!(env.server_ids("Contact", "Title = 'Surveyor'").await, vec![server_id.clone()]);
    // The later edit went as an update of that record, not as a second create.
    let log = env.proxy.log();
    assert!(!log.contains(&format!("POST {COLLECTIONS}")), "{log:?}");
    assert!(log.contains(&format!("PATCH {COLLECTIONS}")), "{log:?}");
    assert_eq!(env.server("Contact", &server_id)["LastName"], "Edited Later");
    assert!(env.queue().is_empty(), "{:?}", env.queue());
    assert_eq!(env.local("Contact", &server_id).unwrap()["LastName"], "Edited Later");
}

#[tokio::test]
async fn a_create_deleted_after_it_was_sent_is_found_and_deleted_on_the_org() {
    let env = Env::start(false).await;
    let now = env.clock.now();
    let sent = json!({"LastName": "Sent Then Deleted"});
    let (local, seq) = env.edit("Contact", None, ChangeOp::Create, sent.clone());
    env.store.write(|tx| tx.mark_uploading(seq, now).map(|_| ())).unwrap();
    let created = env.client.create_many("Contact", &[record(sent)], false).await.unwrap();
    let server_id = created[0].id.clone().unwrap();
    // Another record of the same user, made since: it must not be taken for this one.
    env.client
        .create_many("Contact", &[record(json!({"LastName": "Other"}))], false)
        .await
        .unwrap();
    env.edit("Contact", Some(&local), ChangeOp::Delete, json!({}));

    let report = env.upload().await;
    assert_eq!(report.adopted, 1, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(env.server_ids("Contact", "LastName = 'Sent Then Deleted'").await.is_empty());
    assert_eq!(env.server_ids("Contact", "LastName = 'Other'").await.len(), 1);
    assert!(env.org.admin().retrieve(ADMIN, "Contact", &server_id).is_err());
    assert!(env.queue().is_empty(), "{:?}", env.queue());
}

/// A record on the org and in the store; the user edits `local` fields, then someone
/// edits `server` fields on the org; then the upload runs.
async fn conflict_case(
    policy: ConflictPolicy,
    per_field: &[(&str, ConflictPolicy)],
    local: Value,
    server: Value,
) -> (Env, String, i64, engine::upload::UploadReport) {
    let mut env = Env::start(false).await;
    let account = &mut env.profile.objects[0];
    account.conflict = policy;
    account.field_conflicts = per_field.iter().map(|(f, p)| (f.to_string(), *p)).collect();
    let id = env.server_record("Account", json!({"Name": "Base", "Phone": "100"}));
    let (_, seq) = env.edit("Account", Some(&id), ChangeOp::Update, local);
    env.org.admin().update(ADMIN, "Account", &id, server).unwrap();
    let report = env.upload().await;
    (env, id, seq, report)
}

#[tokio::test]
async fn server_wins_keeps_the_server_value_locally() {
    let (env, id, _, report) = conflict_case(
        ConflictPolicy::ServerWins,
        &[],
        json!({"Phone": "local"}),
        json!({"Phone": "server"}),
    )
    .await;
    assert_eq!(report.conflicts.len(), 1);
    let conflict = &report.conflicts[0];
    assert_eq!(conflict.settlement, ConflictSettlement::Merged);
    let field = &conflict.fields[0];
    assert_eq!(
        (field.field.as_str(), &field.local, &field.base, &field.server, field.policy),
        ("Phone", &json!("local"), &json!("100"), &json!("server"), ConflictPolicy::ServerWins)
    );
    assert_eq!(report.requests, 1, "only the retrieve");
    assert_eq!(env.server("Account", &id)["Phone"], "server");
    assert_eq!(env.local("Account", &id).unwrap()["Phone"], "server");
    assert!(env.queue().is_empty());
}

#[tokio::test]
async fn client_wins_sends_the_local_value() {
    let (env, id, _, report) = conflict_case(
        ConflictPolicy::ClientWins,
        &[],
        json!({"Phone": "local"}),
        json!({"Phone": "server"}),
    )
    .await;
    assert_eq!(report.conflicts[0].settlement, ConflictSettlement::Merged);
    assert_eq!(report.succeeded, 1);
    assert_eq!(env.server("Account", &id)["Phone"], "local");
    assert!(env.queue().is_empty());
}

#[tokio::test]
async fn manual_conflicts_wait_for_the_user_then_upload() {
    let (env, id, seq, report) = conflict_case(
        ConflictPolicy::Manual,
        &[],
        json!({"Phone": "local"}),
        json!({"Phone": "server"}),
    )
    .await;
    assert_eq!(report.conflicts[0].settlement, ConflictSettlement::Parked);
    let change = env.change(seq);
    assert_eq!(change.state, ChangeState::Conflict);
    assert_eq!(change.server_values["Phone"], "server");
    assert_eq!(change.base["Phone"], "100");
    assert_eq!(env.server("Account", &id)["Phone"], "server");
    assert_eq!(env.local("Account", &id).unwrap()["Phone"], "local");

    let choices = BTreeMap::from([("Phone".to_string(), Resolution::KeepLocal)]);
    env.store.write(|tx| tx.resolve(seq, &choices, env.clock.now())).unwrap();
    let report = env.upload().await;
    assert!(report.conflicts.is_empty(), "{report:?}");
    assert_eq!(report.succeeded, 1);
    assert_eq!(env.server("Account", &id)["Phone"], "local");
}

#[tokio::test]
async fn per_field_policies_override_the_object_default() {
    let (env, id, _, report) = conflict_case(
        ConflictPolicy::ServerWins,
        &[("Phone", ConflictPolicy::ClientWins)],
        json!({"Phone": "local", "Name": "Local Name"}),
        json!({"Phone": "server", "Name": "Server Name"}),
    )
    .await;
    assert_eq!(report.conflicts[0].fields.len(), 2);
    let server = env.server("Account", &id);
    assert_eq!(
        (server["Name"].as_str(), server["Phone"].as_str()),
        (Some("Server Name"), Some("local"))
    );
    let local = env.local("Account", &id).unwrap();
    assert_eq!(
        (local["Name"].as_str(), local["Phone"].as_str()),
        (Some("Server Name"), Some("local"))
    );
    assert!(env.queue().is_empty());
}

#[tokio::test]
async fn edits_to_different_fields_merge_without_conflict() {
    let (env, id, _, report) = conflict_case(
        ConflictPolicy::Manual,
        &[],
        json!({"Phone": "local"}),
        json!({"Name": "Server Name"}),
    )
    .await;
    assert!(report.conflicts.is_empty());
    assert_eq!(report.succeeded, 1);
    let server = env.server("Account", &id);
    assert_eq!(
        (server["Name"].as_str(), server["Phone"].as_str()),
        (Some("Server Name"), Some("local"))
    );
}

#[tokio::test]
async fn a_record_deleted_on_the_server_while_edited_is_a_conflict() {
    let env = Env::start(false).await;
    let id = env.server_record("Account", json!({"Name": "Gone"}));
    let (_, seq) = env.edit("Account", Some(&id), ChangeOp::Update, json!({"Phone": "1"}));
    env.org.admin().delete(ADMIN, "Account", &id).unwrap();

    let report = env.upload().await;
    assert_eq!(report.conflicts.len(), 1);
    assert!(report.conflicts[0].deleted_on_server);
    assert_eq!(report.conflicts[0].settlement, ConflictSettlement::Parked);
    let change = env.change(seq);
    assert_eq!(change.state, ChangeState::Conflict);
    assert!(is_deleted_on_server(&change));

    // Dropping the edit is one way out for the user.
    env.store.write(|tx| tx.discard(seq, env.clock.now())).unwrap();
    assert!(env.queue().is_empty());
}

#[tokio::test]
async fn server_wins_drops_an_edit_of_a_record_deleted_on_the_server() {
    let mut env = Env::start(false).await;
    env.profile.objects[0].conflict = ConflictPolicy::ServerWins;
    let id = env.server_record("Account", json!({"Name": "Gone Too"}));
    env.edit("Account", Some(&id), ChangeOp::Update, json!({"Phone": "1"}));
    env.org.admin().delete(ADMIN, "Account", &id).unwrap();

    let report = env.upload().await;
    assert_eq!(report.conflicts[0].settlement, ConflictSettlement::EditDropped);
    assert!(env.queue().is_empty());
    assert!(env.local("Account", &id).is_none());
}

#[tokio::test]
async fn deleting_a_record_the_org_already_deleted_succeeds() {
    let env = Env::start(false).await;
    let id = env.server_record("Account", json!({"Name": "Twice Deleted"}));
    env.edit("Account", Some(&id), ChangeOp::Delete, json!({}));
    env.org.admin().delete(ADMIN, "Account", &id).unwrap();

    let report = env.upload().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert!(report.failed.is_empty());
    assert!(env.queue().is_empty());
    assert!(env.store.read(|r| r.record_flags("Account", &id)).unwrap().is_none());
}

#[tokio::test]
async fn ten_thousand_updates_take_about_fifty_five_requests() {
    let env = Env::start(false).await;
    let mut ids = Vec::new();
    for chunk in 0..50 {
        let bodies: Vec<Record> = (0..200)
            .map(|i| record(json!({"Name": format!("Bulk {}", chunk * 200 + i)})))
            .collect();
        let results = env.client.create_many("Account", &bodies, false).await.unwrap();
        ids.extend(results.into_iter().map(|r| r.id.unwrap()));
    }
    let mut pager = env.client.query_pages("SELECT Id, Name, Phone FROM Account", 2000);
    while let Some(page) = pager.next_page().await.unwrap() {
        env.store.write(|tx| tx.upsert_records("Account", &page.records)).unwrap();
    }
    let now = env.clock.now();
    let phone = record(json!({"Phone": "555"}));
    env.store
        .write(|tx| {
            for id in &ids {
                tx.record_edit("Account", Some(id), ChangeOp::Update, &phone, now)?;
            }
            Ok(())
        })
        .unwrap();

    let before = env.proxy.log().len();
    let report = env.upload().await;
    assert_eq!(report.succeeded, 10_000, "{:?}", report.failed.first());
    assert_eq!(report.requests, 55, "5 retrieves of 2000 and 50 updates of 200");
    assert_eq!(env.proxy.log().len() - before, 55);
    assert!(env.queue().is_empty());
    assert_eq!(env.server("Account", &ids[9_999])["Phone"], "555");
}

#[tokio::test]
async fn an_update_the_org_refuses_fails_without_holding_back_the_others() {
    let env = Env::start(false).await;
    let good = env.server_record("Account", json!({"Name": "Keeps Name"}));
    let bad = env.server_record("Account", json!({"Name": "Loses Name"}));
    env.edit("Account", Some(&good), ChangeOp::Update, json!({"Phone": "1"}));
    let (_, bad_seq) = env.edit("Account", Some(&bad), ChangeOp::Update, json!({"Name": null}));

    let report = env.upload().await;
    assert_eq!(report.requests, 2, "one retrieve, one update of both");
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, bad_seq);
    assert_eq!(env.change(bad_seq).state, ChangeState::Failed);
    assert_eq!(env.server("Account", &good)["Phone"], "1");
    assert_eq!(env.server("Account", &bad)["Name"], "Loses Name");
}

#[tokio::test]
async fn a_refused_session_stops_the_upload_and_keeps_the_changes() {
    let env = Env::start(false).await;
    let (_, seq) = env.edit("Account", None, ChangeOp::Create, json!({"Name": "No Session"}));
    env.org.admin().expire_tokens(None).unwrap();

    let result =
        engine::upload::upload(&env.client, &env.store, &env.profile, &env.clock, &env.opts).await;
    let error = result.unwrap_err();
    assert!(matches!(error, engine::upload::UploadError::Session(_)), "{error}");
    assert!(!error.is_transient());
    assert_eq!(env.change(seq).state, ChangeState::Waiting);
    assert!(env.delays().is_empty(), "a refused session is not retried");
}

#[tokio::test]
async fn the_upload_reports_its_progress_after_each_batch() {
    let mut env = Env::start(false).await;
    env.opts.batch_size = 2;
    for n in 0..5 {
        env.edit("Account", None, ChangeOp::Create, json!({"Name": format!("Batch {n}")}));
    }
    let mut seen = Vec::new();
    let report = engine::sync::upload_step::upload_pending(
        &env.client,
        &env.store,
        &env.profile,
        &env.clock,
        &env.opts,
        &mut |event| seen.push(event),
    )
    .await
    .unwrap();
    assert_eq!(report.uploaded, 5);
    let done: Vec<(u64, u64)> = seen
        .iter()
        .filter_map(|e| match e {
            engine::SyncEvent::Uploaded { done, total } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(done, vec![(2, 5), (4, 5), (5, 5)], "one report per batch of two");
}
