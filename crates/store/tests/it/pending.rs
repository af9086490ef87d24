//! Local edits, coalescing, the upload life of a change, overlay rules and id remapping.

use std::collections::BTreeMap;

use serde_json::json;
use store::pending::{LOCAL_ID_PREFIX, is_local_id};
use store::{ChangeOp, ChangeState, PendingFilter, Resolution, StoreError};

use crate::{Fixture, account, account_id, contact_id, rec, t};

fn all(fx: &Fixture) -> Vec<store::PendingChange> {
    fx.store.read(|r| r.pending_changes(&PendingFilter::default())).unwrap()
}

fn edit(
    fx: &Fixture,
    id: Option<&str>,
    op: ChangeOp,
    fields: serde_json::Value,
) -> store::EditOutcome {
    fx.store.write(|tx| tx.record_edit("Account", id, op, &rec(fields), t(1))).unwrap()
}

fn get(fx: &Fixture, id: &str) -> Option<store::Record> {
    fx.store.read(|r| r.get_record("Account", id)).unwrap()
}

fn seeded() -> Fixture {
    let fx = Fixture::new();
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Acme")])).unwrap();
    fx
}

#[test]
fn local_ids_cannot_be_server_ids() {
    let fx = Fixture::new();
    let out = edit(&fx, None, ChangeOp::Create, json!({"Name": "New"}));
    assert!(out.record_id.starts_with(LOCAL_ID_PREFIX) && is_local_id(&out.record_id));
    assert_eq!(out.record_id.len(), LOCAL_ID_PREFIX.len() + 12);
    assert!(salesforce::SfId::parse(&out.record_id).is_err());
    let flags = fx.store.read(|r| r.record_flags("Account", &out.record_id)).unwrap().unwrap();
    assert!(flags.local_only && flags.pending);
}

#[test]
fn create_then_updates_coalesce_into_one_create_with_final_values() {
    let fx = Fixture::new();
    let id =
        edit(&fx, None, ChangeOp::Create, json!({"Name": "First", "Industry": "Energy"})).record_id;
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Second"}));
    edit(&fx, Some(&id), ChangeOp::Update, json!({"NumberOfEmployees": 3}));
    let changes = all(&fx);
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(c.op, ChangeOp::Create);
    assert_eq!(
        c.fields,
        rec(json!({"Name": "Second", "Industry": "Energy", "NumberOfEmployees": 3}))
    );
    assert!(c.base.is_empty());
    assert_eq!(c.external_id_value.as_deref(), Some(id.as_str()));
    assert_eq!(get(&fx, &id).unwrap()["Name"], json!("Second"));
}

#[test]
fn update_then_update_keeps_the_first_base_per_field() {
    let fx = seeded();
    let id = account_id(1);
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "B"}));
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "C", "Industry": "Banking"}));
    let changes = all(&fx);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].op, ChangeOp::Update);
    assert_eq!(changes[0].fields, rec(json!({"Name": "C", "Industry": "Banking"})));
    assert_eq!(changes[0].base, rec(json!({"Name": "Acme", "Industry": "Energy"})));
    assert_eq!(changes[0].change_count, 2);
}

#[test]
fn an_update_edited_back_to_its_base_is_dropped() {
    let fx = seeded();
    let id = account_id(1);
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "B"}));
    let out = edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Acme"}));
    assert_eq!(out.seq, None);
    assert!(all(&fx).is_empty());
    assert!(!fx.store.read(|r| r.record_flags("Account", &id)).unwrap().unwrap().pending);
    // An edit that changes nothing queues nothing.
    assert_eq!(edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Acme"})).seq, None);
}

#[test]
fn create_then_delete_leaves_nothing() {
    let fx = Fixture::new();
    let id = edit(&fx, None, ChangeOp::Create, json!({"Name": "Gone"})).record_id;
    let out = edit(&fx, Some(&id), ChangeOp::Delete, json!({}));
    assert_eq!(out.seq, None);
    assert!(all(&fx).is_empty());
    assert!(fx.store.read(|r| r.record_flags("Account", &id)).unwrap().is_none(), "row removed");
}

#[test]
fn update_then_delete_becomes_a_delete_and_discard_restores_the_record() {
    let fx = seeded();
    let id = account_id(1);
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "B"}));
    edit(&fx, Some(&id), ChangeOp::Delete, json!({}));
    let changes = all(&fx);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].op, ChangeOp::Delete);
    assert!(get(&fx, &id).is_none(), "hidden from the user");
    assert_eq!(fx.store.read(|r| r.count("Account")).unwrap(), 0);
    let err = fx.store.write(|tx| {
        tx.record_edit("Account", Some(&id), ChangeOp::Update, &rec(json!({"Name": "X"})), t(2))
    });
    assert!(matches!(err, Err(StoreError::InvalidEdit { .. })));

    fx.store.write(|tx| tx.discard(changes[0].seq, t(3))).unwrap();
    assert_eq!(get(&fx, &id).unwrap()["Name"], json!("Acme"));
    assert!(all(&fx).is_empty());
}

#[test]
fn discarding_a_create_drops_the_local_record() {
    let fx = Fixture::new();
    let out = edit(&fx, None, ChangeOp::Create, json!({"Name": "Draft"}));
    fx.store.write(|tx| tx.discard(out.seq.unwrap(), t(2))).unwrap();
    assert!(fx.store.read(|r| r.record_flags("Account", &out.record_id)).unwrap().is_none());
}

#[test]
fn pending_record_survives_a_download_and_a_removal() {
    let fx = seeded();
    let id = account_id(1);
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Local name"}));

    // The server sends new values for the edited field and another one.
    let mut server = account(1, "Server name");
    server.insert("Industry".into(), json!("Banking"));
    let out = fx.store.write(|tx| tx.upsert_records("Account", &[server])).unwrap();
    assert_eq!(out.merged.len(), 1);
    assert_eq!(out.merged[0].fields, vec!["Name".to_owned()]);
    let got = get(&fx, &id).unwrap();
    assert_eq!(got["Name"], json!("Local name"), "pending field keeps its local value");
    assert_eq!(got["Industry"], json!("Banking"), "other fields take the server's");
    let change = &all(&fx)[0];
    assert_eq!(change.server_values["Name"], json!("Server name"));

    // The server removes it: the record stays, flagged.
    let out = fx.store.write(|tx| tx.delete_records("Account", &[&id])).unwrap();
    assert_eq!(out.kept, vec![id.clone()]);
    assert!(out.removed.is_empty());
    assert!(fx.store.read(|r| r.record_flags("Account", &id)).unwrap().unwrap().scope_left);
    assert_eq!(get(&fx, &id).unwrap()["Name"], json!("Local name"));

    // Discarding the change now lets the removal happen.
    fx.store.write(|tx| tx.discard(change.seq, t(4))).unwrap();
    assert!(fx.store.read(|r| r.record_flags("Account", &id)).unwrap().is_none());
}

#[test]
fn discard_after_a_download_restores_the_newer_server_value() {
    let fx = seeded();
    let id = account_id(1);
    let seq = edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Local"})).seq.unwrap();
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Server v2")])).unwrap();
    fx.store.write(|tx| tx.discard(seq, t(2))).unwrap();
    assert_eq!(get(&fx, &id).unwrap()["Name"], json!("Server v2"));
}

#[test]
fn remap_rewrites_a_parent_and_child_created_offline() {
    let fx = Fixture::new();
    let parent = edit(&fx, None, ChangeOp::Create, json!({"Name": "Offline parent"}));
    let child = fx
        .store
        .write(|tx| {
            tx.record_edit(
                "Contact",
                None,
                ChangeOp::Create,
                &rec(json!({"LastName": "Kid", "AccountId": parent.record_id})),
                t(2),
            )
        })
        .unwrap();
    let changes = all(&fx);
    assert_eq!(changes[0].state, ChangeState::Waiting);
    assert_eq!(changes[1].state, ChangeState::Blocked, "the child waits for its parent's id");

    // Upload the parent, then give it its server id.
    let server_parent = account_id(77);
    fx.store
        .write(|tx| {
            let sent = tx.mark_uploading(parent.seq.unwrap(), t(3))?;
            assert_eq!(sent.fields["Name"], json!("Offline parent"));
            tx.remap_id(&parent.record_id, &server_parent, t(3))?;
            tx.complete(parent.seq.unwrap(), t(3))
        })
        .unwrap();
    let flags = fx.store.read(|r| r.record_flags("Account", &server_parent)).unwrap().unwrap();
    assert!(!flags.local_only && !flags.pending);
    assert!(fx.store.read(|r| r.record_flags("Account", &parent.record_id)).unwrap().is_none());

    let kid = fx.store.read(|r| r.get_record("Contact", &child.record_id)).unwrap().unwrap();
    assert_eq!(kid["AccountId"], json!(server_parent));
    let changes = all(&fx);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].fields["AccountId"], json!(server_parent));
    assert_eq!(changes[0].state, ChangeState::Waiting, "unblocked");

    // Then the child.
    let server_child = contact_id(5);
    fx.store
        .write(|tx| {
            tx.mark_uploading(changes[0].seq, t(4))?;
            tx.remap_id(&child.record_id, &server_child, t(4))?;
            tx.complete(changes[0].seq, t(4))
        })
        .unwrap();
    assert!(all(&fx).is_empty());
    assert!(fx.store.read(|r| r.get_record("Contact", &server_child)).unwrap().is_some());
}

#[test]
fn completing_a_create_without_a_server_id_is_refused() {
    let fx = Fixture::new();
    let out = edit(&fx, None, ChangeOp::Create, json!({"Name": "N"}));
    let seq = out.seq.unwrap();
    let err = fx
        .store
        .write(|tx| {
            tx.mark_uploading(seq, t(2))?;
            tx.complete(seq, t(2))
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidTransition { .. }));
}

#[test]
fn an_edit_during_upload_is_not_lost_when_the_upload_completes() {
    let fx = seeded();
    let id = account_id(1);
    let seq = edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Sent"})).seq.unwrap();
    let sent = fx.store.write(|tx| tx.mark_uploading(seq, t(2))).unwrap();
    assert_eq!(sent.state, ChangeState::Uploading);

    // While the request is in flight the user edits again.
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Later", "Industry": "Banking"}));
    fx.store.write(|tx| tx.complete(seq, t(3))).unwrap();

    let changes = all(&fx);
    assert_eq!(changes.len(), 1, "the later edit is still queued");
    let c = &changes[0];
    assert_eq!(c.state, ChangeState::Waiting);
    assert_eq!(c.fields, rec(json!({"Name": "Later", "Industry": "Banking"})));
    assert_eq!(c.base["Name"], json!("Sent"), "what was uploaded is the new base");
    assert_eq!(c.base["Industry"], json!("Energy"));

    // Without a later edit, completing removes the change.
    fx.store
        .write(|tx| {
            tx.mark_uploading(c.seq, t(4))?;
            tx.complete(c.seq, t(4))
        })
        .unwrap();
    assert!(all(&fx).is_empty());
    assert!(!fx.store.read(|r| r.record_flags("Account", &id)).unwrap().unwrap().pending);
}

#[test]
fn failed_changes_wait_for_retry() {
    let fx = seeded();
    let seq = edit(&fx, Some(&account_id(1)), ChangeOp::Update, json!({"Name": "X"})).seq.unwrap();
    fx.store
        .write(|tx| {
            tx.mark_uploading(seq, t(2))?;
            tx.mark_failed(seq, json!({"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION"}), t(2))
        })
        .unwrap();
    let c = fx.store.read(|r| r.pending_change(seq)).unwrap();
    assert_eq!(c.state, ChangeState::Failed);
    assert_eq!(c.attempts, 1);
    assert_eq!(c.error.unwrap()["errorCode"], json!("FIELD_CUSTOM_VALIDATION_EXCEPTION"));
    let failed = PendingFilter { states: vec![ChangeState::Failed], ..Default::default() };
    assert_eq!(fx.store.read(|r| r.pending_changes(&failed)).unwrap().len(), 1);
    // A failed change is not uploaded again by accident.
    assert!(matches!(
        fx.store.write(|tx| tx.mark_uploading(seq, t(3))),
        Err(StoreError::InvalidTransition { .. })
    ));
    fx.store.write(|tx| tx.retry(seq, t(3))).unwrap();
    let c = fx.store.read(|r| r.pending_change(seq)).unwrap();
    assert_eq!((c.state, c.error), (ChangeState::Waiting, None));
}

#[test]
fn conflicts_resolve_field_by_field() {
    let fx = seeded();
    let id = account_id(1);
    let seq =
        edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Mine", "Industry": "Mine too"}))
            .seq
            .unwrap();
    fx.store
        .write(|tx| {
            tx.mark_uploading(seq, t(2))?;
            tx.mark_conflict(
                seq,
                &rec(json!({
                    "attributes": {"type": "Account"},
                    "Name": "Theirs",
                    "Industry": "Theirs too",
                    "NumberOfEmployees": 99,
                    "AnnualRevenue": 5,
                })),
                t(2),
            )
        })
        .unwrap();
    assert_eq!(fx.store.read(|r| r.pending_change(seq)).unwrap().state, ChangeState::Conflict);

    let mut choices = BTreeMap::new();
    choices.insert("Name".to_owned(), Resolution::TakeServer);
    let left = fx.store.write(|tx| tx.resolve(seq, &choices, t(3))).unwrap();
    assert_eq!(left, Some(seq));
    let got = get(&fx, &id).unwrap();
    assert_eq!(got["Name"], json!("Theirs"));
    assert_eq!(got["Industry"], json!("Mine too"));
    assert_eq!(got["NumberOfEmployees"], json!(99), "unedited fields take the server's value");
    assert_eq!(got["AnnualRevenue"], json!(5.0));
    let c = fx.store.read(|r| r.pending_change(seq)).unwrap();
    assert_eq!(c.state, ChangeState::Waiting);
    assert_eq!(c.fields, rec(json!({"Industry": "Mine too"})));
    assert_eq!(
        c.base,
        rec(json!({"Industry": "Theirs too"})),
        "the next upload is against the server's value"
    );
}

#[test]
fn the_queue_survives_a_restart_in_order() {
    let fx = seeded();
    edit(&fx, Some(&account_id(1)), ChangeOp::Update, json!({"Name": "1"}));
    let created = edit(&fx, None, ChangeOp::Create, json!({"Name": "2"}));
    let fx = fx.reopen();
    let changes = all(&fx);
    assert_eq!(changes.len(), 2);
    assert!(changes[0].seq < changes[1].seq);
    assert_eq!(changes[0].record_id, account_id(1));
    assert_eq!(changes[1].record_id, created.record_id);
    assert_eq!(fx.store.read(|r| r.pending_counts()).unwrap(), vec![(ChangeState::Waiting, 2)]);
    let by_object = PendingFilter { object: Some("contact".into()), ..Default::default() };
    assert!(fx.store.read(|r| r.pending_changes(&by_object)).unwrap().is_empty());
}

#[test]
fn remap_merges_a_downloaded_copy_of_the_new_record() {
    let fx = Fixture::new();
    let out =
        edit(&fx, None, ChangeOp::Create, json!({"Name": "Made offline", "Industry": "Energy"}));
    let seq = out.seq.unwrap();
    let server = account_id(50);
    fx.store.write(|tx| tx.mark_uploading(seq, t(2)).map(drop)).unwrap();
    // A download raced the upload's answer and brought the new record first.
    let mut copy = account(50, "Made offline");
    copy.insert("Industry".into(), json!("Server default"));
    fx.store.write(|tx| tx.upsert_records("Account", &[copy])).unwrap();
    fx.store
        .write(|tx| {
            tx.remap_id(&out.record_id, &server, t(3))?;
            tx.complete(seq, t(3))
        })
        .unwrap();
    let got = get(&fx, &server).unwrap();
    assert_eq!(got["Industry"], json!("Energy"), "the uploaded value stays");
    assert_eq!(
        got["SystemModstamp"],
        json!("2024-05-08T21:20:00.000+0000"),
        "server-only fields arrive"
    );
    assert_eq!(fx.store.read(|r| r.record_ids("Account")).unwrap(), vec![server]);
    assert!(all(&fx).is_empty());
}

#[test]
fn a_change_cannot_be_discarded_while_uploading() {
    let fx = seeded();
    let seq = edit(&fx, Some(&account_id(1)), ChangeOp::Update, json!({"Name": "X"})).seq.unwrap();
    fx.store.write(|tx| tx.mark_uploading(seq, t(2)).map(drop)).unwrap();
    assert!(matches!(
        fx.store.write(|tx| tx.discard(seq, t(3))),
        Err(StoreError::InvalidTransition { .. })
    ));
    assert!(matches!(
        fx.store.write(|tx| tx.discard(999, t(3))),
        Err(StoreError::NoSuchChange(999))
    ));
    // A transient failure puts it back in the queue without parking it.
    fx.store.write(|tx| tx.mark_waiting(seq, t(3))).unwrap();
    assert_eq!(fx.store.read(|r| r.pending_change(seq)).unwrap().state, ChangeState::Waiting);
}

#[test]
fn an_edit_fixes_a_failed_change_back_into_the_queue() {
    let fx = seeded();
    let id = account_id(1);
    let seq = edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": ""})).seq.unwrap();
    fx.store
        .write(|tx| {
            tx.mark_uploading(seq, t(2))?;
            tx.mark_failed(seq, json!({"errorCode": "REQUIRED_FIELD_MISSING"}), t(2))
        })
        .unwrap();
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Fixed"}));
    let c = fx.store.read(|r| r.pending_change(seq)).unwrap();
    assert_eq!((c.state, c.error), (ChangeState::Waiting, None));
    assert_eq!(c.base["Name"], json!("Acme"));
}

#[test]
fn a_create_deleted_while_uploading_is_deleted_on_the_server_afterwards() {
    let fx = Fixture::new();
    let out = edit(&fx, None, ChangeOp::Create, json!({"Name": "Short-lived"}));
    let seq = out.seq.unwrap();
    fx.store.write(|tx| tx.mark_uploading(seq, t(2)).map(drop)).unwrap();
    assert_eq!(edit(&fx, Some(&out.record_id), ChangeOp::Delete, json!({})).seq, Some(seq));
    assert!(get(&fx, &out.record_id).is_none());

    // The create lands: the delete is what is left to send, on the server id.
    let server = account_id(9);
    fx.store
        .write(|tx| {
            tx.remap_id(&out.record_id, &server, t(3))?;
            tx.complete(seq, t(3))
        })
        .unwrap();
    let c = fx.store.read(|r| r.pending_change(seq)).unwrap();
    assert_eq!(
        (c.op, c.state, c.record_id.as_str()),
        (ChangeOp::Delete, ChangeState::Waiting, server.as_str())
    );
}

#[test]
fn a_refused_create_deleted_while_uploading_leaves_nothing() {
    let fx = Fixture::new();
    let out = edit(&fx, None, ChangeOp::Create, json!({"Name": "Short-lived"}));
    let seq = out.seq.unwrap();
    fx.store.write(|tx| tx.mark_uploading(seq, t(2)).map(drop)).unwrap();
    edit(&fx, Some(&out.record_id), ChangeOp::Delete, json!({}));
    fx.store
        .write(|tx| tx.mark_failed(seq, json!({"errorCode": "REQUIRED_FIELD_MISSING"}), t(3)))
        .unwrap();
    assert!(all(&fx).is_empty());
    assert!(fx.store.read(|r| r.record_flags("Account", &out.record_id)).unwrap().is_none());
}

#[test]
fn setting_a_field_back_is_judged_against_the_latest_server_value() {
    let fx = seeded();
    let id = account_id(1);
    let seq = edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Mine"})).seq.unwrap();
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Server v2")])).unwrap();
    // Back to the original: the server has moved on, so this is still a change to send.
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Acme"}));
    let c = fx.store.read(|r| r.pending_change(seq)).unwrap();
    assert_eq!(c.fields, rec(json!({"Name": "Acme"})));
    // To the server's value: nothing left to send.
    assert_eq!(edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Server v2"})).seq, None);
    assert!(all(&fx).is_empty());
}

#[test]
fn a_download_agreeing_with_a_local_edit_settles_it() {
    let fx = seeded();
    let id = account_id(1);
    edit(&fx, Some(&id), ChangeOp::Update, json!({"Name": "Same", "Industry": "Mine"}));
    let out = fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Same")])).unwrap();
    assert_eq!(out.merged[0].settled, vec!["Name".to_owned()]);
    assert_eq!(out.merged[0].fields, vec!["Industry".to_owned()]);
    let c = &all(&fx)[0];
    assert_eq!(c.fields, rec(json!({"Industry": "Mine"})));

    let mut agreeing = account(1, "Same");
    agreeing.insert("Industry".into(), json!("Mine"));
    fx.store.write(|tx| tx.upsert_records("Account", &[agreeing])).unwrap();
    assert!(all(&fx).is_empty(), "nothing is left to upload");
    assert!(!fx.store.read(|r| r.record_flags("Account", &id)).unwrap().unwrap().pending);
}

#[test]
fn values_compare_in_their_stored_form() {
    let fx = seeded();
    let id = account_id(1);
    // 2 and 2.0 are the same currency amount; so are two spellings of one instant.
    edit(
        &fx,
        Some(&id),
        ChangeOp::Update,
        json!({"AnnualRevenue": 2, "SystemModstamp": "2024-06-01T10:00:00Z"}),
    );
    let c = &all(&fx)[0];
    assert_eq!(c.fields["AnnualRevenue"], json!(2.0));
    assert_eq!(c.fields["SystemModstamp"], json!("2024-06-01T10:00:00.000+0000"));
    let mut server = account(1, "Acme");
    server.insert("AnnualRevenue".into(), json!(2));
    server.insert("SystemModstamp".into(), json!("2024-06-01T12:00:00.000+0200"));
    fx.store.write(|tx| tx.upsert_records("Account", &[server])).unwrap();
    assert!(all(&fx).is_empty(), "the server holds both values already");
}
