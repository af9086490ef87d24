//! Records the server deleted while edited here, created again on a new local id, and
//! creates sent with some fields held back.

use serde_json::json;
use store::pending::{DELETED_ON_SERVER, is_local_id};
use store::{ChangeOp, ChangeState, PendingFilter, StoreError};

use crate::{Fixture, account, account_id, contact_id, rec, t};

fn all(fx: &Fixture) -> Vec<store::PendingChange> {
    fx.store.read(|r| r.pending_changes(&PendingFilter::default())).unwrap()
}

/// An Account and a Contact under it, downloaded; the Account edited here, then found
/// deleted on the server. Returns the Account change's seq.
fn deleted_while_edited(fx: &Fixture) -> i64 {
    let mut contact =
        rec(json!({"Id": contact_id(1), "LastName": "Under", "AccountId": account_id(1)}));
    contact.insert("SystemModstamp".into(), json!("2026-05-01T08:00:00.000+0000"));
    fx.store
        .write(|tx| {
            tx.upsert_records("Account", &[account(1, "Acme")])?;
            tx.upsert_records("Contact", &[contact])
        })
        .unwrap();
    fx.store
        .write(|tx| {
            let out = tx.record_edit(
                "Account",
                Some(&account_id(1)),
                ChangeOp::Update,
                &rec(json!({"Name": "Acme Local"})),
                t(1),
            )?;
            let seq = out.seq.unwrap();
            tx.mark_uploading(seq, t(2))?;
            tx.mark_conflict(seq, &rec(json!({ DELETED_ON_SERVER: true })), t(2))?;
            Ok(seq)
        })
        .unwrap()
}

#[test]
fn a_record_the_server_deleted_becomes_a_create_on_a_new_local_id() {
    let fx = Fixture::new();
    let seq = deleted_while_edited(&fx);
    let values = rec(json!({"Name": "Acme Local", "Industry": "Energy"}));
    let local = fx.store.write(|tx| tx.recreate(seq, &values, t(3))).unwrap();
    assert!(is_local_id(&local));

    let change = &all(&fx)[0];
    assert_eq!((change.op, change.state), (ChangeOp::Create, ChangeState::Waiting));
    assert_eq!(change.record_id, local);
    assert_eq!(change.fields, values);
    assert!(change.base.is_empty() && change.server_values.is_empty());
    let flags = fx.store.read(|r| r.record_flags("Account", &local)).unwrap().unwrap();
    assert!(flags.local_only && flags.pending);
    assert!(fx.store.read(|r| r.get_record("Account", &account_id(1))).unwrap().is_none());
    let contact = fx.store.read(|r| r.get_record("Contact", &contact_id(1))).unwrap().unwrap();
    assert_eq!(contact["AccountId"], json!(local), "references follow the record");
}

#[test]
fn only_a_conflict_over_a_deleted_record_can_be_created_again() {
    let fx = Fixture::new();
    fx.store.write(|tx| tx.upsert_records("Account", &[account(2, "Here")])).unwrap();
    let seq = fx
        .store
        .write(|tx| {
            let out = tx.record_edit(
                "Account",
                Some(&account_id(2)),
                ChangeOp::Update,
                &rec(json!({"Name": "Edited"})),
                t(1),
            )?;
            Ok(out.seq.unwrap())
        })
        .unwrap();
    let err = fx.store.write(|tx| tx.recreate(seq, &rec(json!({"Name": "x"})), t(2))).unwrap_err();
    assert!(matches!(err, StoreError::InvalidTransition { .. }), "{err}");
    assert_eq!(all(&fx)[0].op, ChangeOp::Update);
}

#[test]
fn discarding_a_conflict_over_a_deleted_record_removes_the_record() {
    let fx = Fixture::new();
    let seq = deleted_while_edited(&fx);
    fx.store.write(|tx| tx.discard(seq, t(3))).unwrap();
    assert!(all(&fx).is_empty());
    assert!(fx.store.read(|r| r.get_record("Account", &account_id(1))).unwrap().is_none());
}

#[test]
fn fields_held_back_from_a_create_stay_queued_as_an_update() {
    let fx = Fixture::new();
    let other = fx
        .store
        .write(|tx| {
            tx.record_edit("Account", None, ChangeOp::Create, &rec(json!({"Name": "B"})), t(1))
        })
        .unwrap();
    let out = fx
        .store
        .write(|tx| {
            let fields = rec(json!({"Name": "A", "ParentId": other.record_id}));
            tx.record_edit("Account", None, ChangeOp::Create, &fields, t(1))
        })
        .unwrap();
    let seq = out.seq.unwrap();
    assert_eq!(all(&fx)[1].state, ChangeState::Blocked);

    let server = account_id(9);
    fx.store
        .write(|tx| {
            let sent = tx.mark_uploading_without(seq, &["ParentId".into()], t(2))?;
            assert_eq!(sent.sent_values(), Some(&rec(json!({"Name": "A"}))));
            tx.remap_id(&out.record_id, &server, t(2))?;
            tx.complete(seq, t(2))
        })
        .unwrap();
    let change = fx.store.read(|r| r.pending_change(seq)).unwrap();
    assert_eq!((change.op, change.state), (ChangeOp::Update, ChangeState::Blocked));
    assert_eq!(change.record_id, server);
    assert_eq!(change.fields, rec(json!({"ParentId": other.record_id})));
    // A blocked change cannot go with its reference still in.
    let refused = fx.store.write(|tx| tx.mark_uploading(seq, t(3)).map(|_| ()));
    assert!(matches!(refused, Err(StoreError::InvalidTransition { .. })));
}
