//! Membership checks over candidate ids and lookup values, batched into `IN (...)` lists.

use std::collections::BTreeSet;

use serde_json::json;
use store::{ChangeOp, StoreError};

use crate::{Fixture, account, account_id, contact_id, rec, t};

/// Four accounts and 1,200 contacts (more than one `IN` list's worth), contact `n`
/// under account `n % 3`; contact 7 is deleted locally, and a contact created locally
/// points to account 3.
fn filled() -> Fixture {
    let fx = Fixture::new();
    let accounts: Vec<_> = (0..4).map(|n| account(n, &format!("A{n}"))).collect();
    let contacts: Vec<_> = (0..1200)
        .map(|n| {
            rec(json!({
                "Id": contact_id(n),
                "LastName": format!("C{n}"),
                "AccountId": account_id(n % 3),
                "SystemModstamp": "2024-05-08T21:20:00.000+0000",
            }))
        })
        .collect();
    fx.store
        .write(|tx| {
            tx.upsert_records("Account", &accounts)?;
            tx.upsert_records("Contact", &contacts)?;
            tx.record_edit(
                "Contact",
                Some(&contact_id(7)),
                ChangeOp::Delete,
                &rec(json!({})),
                t(1),
            )?;
            let local = rec(json!({"LastName": "Offline", "AccountId": account_id(3)}));
            tx.record_edit("Contact", None, ChangeOp::Create, &local, t(2))?;
            Ok(())
        })
        .unwrap();
    fx
}

fn set(ids: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    ids.into_iter().collect()
}

#[test]
fn stored_among_lists_only_the_held_candidates() {
    let fx = filled();
    let mut candidates: Vec<String> = (1195..1210).map(contact_id).collect();
    candidates.push(contact_id(7));
    candidates.push(contact_id(3)[..15].to_string());
    let held = fx.store.read(|r| r.stored_among("Contact", &candidates)).unwrap();
    let mut want: BTreeSet<String> = (1195..1200).map(contact_id).collect();
    want.insert(contact_id(7));
    want.insert(contact_id(3));
    assert_eq!(held, want);
    let all: Vec<String> = (0..1300).map(contact_id).collect();
    assert_eq!(fx.store.read(|r| r.stored_among("Contact", &all)).unwrap().len(), 1200);
    assert!(fx.store.read(|r| r.stored_among("Contact", &[])).unwrap().is_empty());
}

#[test]
fn values_among_lists_the_parents_some_visible_child_points_to() {
    let fx = filled();
    let candidates: Vec<String> = (0..5).map(account_id).collect();
    let pointed = fx.store.read(|r| r.values_among("Contact", "accountid", &candidates)).unwrap();
    assert_eq!(pointed, set((0..3).map(account_id)), "local records do not count");
}

#[test]
fn references_pair_every_server_record_with_its_value() {
    let fx = filled();
    let pairs = fx.store.read(|r| r.references("Contact", "AccountId")).unwrap();
    assert_eq!(pairs.len(), 1199);
    assert!(pairs.contains(&(contact_id(4), account_id(1))));
    assert!(!pairs.iter().any(|(id, _)| *id == contact_id(7)));
    assert!(fx.store.read(|r| r.references("Account", "ParentId")).unwrap().is_empty());
}

#[test]
fn ids_referencing_lists_visible_children_of_the_parents() {
    let fx = filled();
    let children =
        fx.store.read(|r| r.ids_referencing("Contact", "AccountId", &[account_id(1)])).unwrap();
    let want = set((0..1200).filter(|n| n % 3 == 1 && *n != 7).map(contact_id));
    assert_eq!(children.len(), 399);
    assert_eq!(children, want);
    let none = fx.store.read(|r| r.ids_referencing("Contact", "AccountId", &[account_id(3)]));
    assert!(none.unwrap().is_empty());
}

#[test]
fn field_of_reads_one_column_of_the_candidates() {
    let fx = filled();
    let ids = vec![contact_id(1), contact_id(7), contact_id(5000)];
    let stamps = fx.store.read(|r| r.field_of("Contact", "SystemModstamp", &ids)).unwrap();
    assert_eq!(stamps.len(), 1, "{stamps:?}");
    assert_eq!(stamps[&contact_id(1)].as_deref(), Some("2024-05-08T21:20:00.000+0000"));
    let emails = fx.store.read(|r| r.field_of("Contact", "Email", &[contact_id(2)])).unwrap();
    assert_eq!(emails[&contact_id(2)], None);
}

#[test]
fn unknown_objects_and_fields_are_errors() {
    let fx = filled();
    let ids = vec![contact_id(1)];
    let e = fx.store.read(|r| r.values_among("Contact", "Nope", &ids)).unwrap_err();
    assert!(matches!(e, StoreError::InvalidSchema(_)), "{e}");
    let e = fx.store.read(|r| r.stored_among("Lead", &ids)).unwrap_err();
    assert!(matches!(e, StoreError::UnknownObject(_)), "{e}");
}
