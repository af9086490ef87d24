//! Downloads, reads, checksums, cursors and settings.

use serde_json::json;
use store::records::id_checksum;
use store::{ChangeOp, StoreError, SyncCursor};

use crate::{Fixture, account, account_id, contact_id, rec, t};

#[test]
fn upsert_converts_values_and_ignores_attributes_and_parents() {
    let fx = Fixture::new();
    let out = fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Acme")])).unwrap();
    assert_eq!(out.inserted, vec![account_id(1)]);
    let got = fx.store.read(|r| r.get_record("Account", &account_id(1))).unwrap().unwrap();
    assert_eq!(got["IsActive__c"], json!(true));
    assert_eq!(got["NumberOfEmployees"], json!(12));
    assert_eq!(got["AnnualRevenue"], json!(1000.5));
    assert_eq!(got["SystemModstamp"], json!("2024-05-08T21:20:00.000+0000"));
    assert!(!got.contains_key("attributes") && !got.contains_key("Owner"));
}

#[test]
fn fifteen_character_ids_are_stored_in_eighteen_character_form() {
    let fx = Fixture::new();
    let mut a = account(1, "Short id");
    let id18 = account_id(1);
    a.insert("Id".into(), json!(&id18[..15]));
    fx.store.write(|tx| tx.upsert_records("Account", &[a])).unwrap();
    assert_eq!(fx.store.read(|r| r.record_ids("Account")).unwrap(), vec![id18.clone()]);
    assert!(fx.store.read(|r| r.get_record("Account", &id18[..15])).unwrap().is_some());
}

#[test]
fn partial_download_keeps_other_fields() {
    let fx = Fixture::new();
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Acme")])).unwrap();
    let out = fx
        .store
        .write(|tx| {
            tx.upsert_records("Account", &[rec(json!({"Id": account_id(1), "Name": "Acme 2"}))])
        })
        .unwrap();
    assert_eq!(out.updated, vec![account_id(1)]);
    let got = fx.store.read(|r| r.get_record("Account", &account_id(1))).unwrap().unwrap();
    assert_eq!(got["Name"], json!("Acme 2"));
    assert_eq!(got["Industry"], json!("Energy"));
}

#[test]
fn bad_records_are_refused_and_nothing_is_written() {
    let fx = Fixture::new();
    let err = fx
        .store
        .write(|tx| {
            tx.upsert_records("Account", &[account(1, "Fine")])?;
            tx.upsert_records(
                "Account",
                &[rec(json!({"Id": account_id(2), "NumberOfEmployees": "many"}))],
            )
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidRecord { .. }), "{err:?}");
    assert_eq!(fx.store.read(|r| r.count("Account")).unwrap(), 0, "the transaction rolled back");
    let err = fx
        .store
        .write(|tx| tx.upsert_records("Account", &[rec(json!({"Name": "no id"}))]))
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidRecord { .. }));
    let err = fx.store.write(|tx| tx.upsert_records("Nope", &[])).unwrap_err();
    assert!(matches!(err, StoreError::UnknownObject(_)));
}

#[test]
fn delete_records_removes_rows() {
    let fx = Fixture::new();
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "A"), account(2, "B")])).unwrap();
    let out = fx
        .store
        .write(|tx| tx.delete_records("Account", &[&account_id(1), &account_id(9)]))
        .unwrap();
    assert_eq!(out.removed, vec![account_id(1)]);
    assert!(out.kept.is_empty());
    assert_eq!(fx.store.read(|r| r.record_ids("Account")).unwrap(), vec![account_id(2)]);
}

#[test]
fn id_range_checksum_matches_the_server_side_computation() {
    let fx = Fixture::new();
    let accounts: Vec<_> = (1..=5).map(|n| account(n, "A")).collect();
    fx.store.write(|tx| tx.upsert_records("Account", &accounts)).unwrap();
    // A local-only record is not on the server and is not counted.
    fx.store
        .write(|tx| {
            tx.record_edit("Account", None, ChangeOp::Create, &rec(json!({"Name": "Local"})), t(0))
        })
        .unwrap();
    let server_ids: Vec<String> = (2..=4).map(account_id).collect();
    let local =
        fx.store.read(|r| r.id_range_checksum("Account", &account_id(2), &account_id(4))).unwrap();
    assert_eq!(local, id_checksum(server_ids.iter().map(String::as_str)));
    assert_eq!(local.count, 3);
    let listed = fx
        .store
        .read(|r| r.server_ids_in_range("Account", &account_id(2), &account_id(4)))
        .unwrap();
    assert_eq!(listed, server_ids);
    // One id missing on the server shows up as a difference.
    let fewer = id_checksum([account_id(2), account_id(4)].iter().map(String::as_str));
    assert_ne!(local, fewer);
}

#[test]
fn cursor_commits_with_its_rows_or_not_at_all() {
    let fx = Fixture::new();
    let cursor = SyncCursor {
        object: "Account".into(),
        modstamp: Some("2024-05-08T21:20:00.000+0000".into()),
        last_id: Some(account_id(1)),
        replication_latest: None,
        prime_state: Some(json!({"page": 2})),
        last_sync_at: Some(t(5)),
    };
    let err = fx
        .store
        .write(|tx| {
            tx.upsert_records("Account", &[account(1, "A")])?;
            tx.set_cursor(&cursor)?;
            Err::<(), _>(StoreError::Busy)
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Busy));
    assert_eq!(fx.store.read(|r| r.cursor("Account")).unwrap(), None);
    assert_eq!(fx.store.read(|r| r.count("Account")).unwrap(), 0);

    fx.store
        .write(|tx| {
            tx.upsert_records("Account", &[account(1, "A")])?;
            tx.set_cursor(&cursor)
        })
        .unwrap();
    let fx = fx.reopen();
    assert_eq!(fx.store.read(|r| r.cursor("account")).unwrap(), Some(cursor));
    assert_eq!(fx.store.read(|r| r.cursors()).unwrap().len(), 1);
    fx.store.write(|tx| tx.clear_cursor("Account")).unwrap();
    assert_eq!(fx.store.read(|r| r.cursor("Account")).unwrap(), None);
}

#[test]
fn settings_and_session_round_trip() {
    let fx = Fixture::new();
    fx.store
        .write(|tx| tx.kv_set(store::kv::keys::SESSION, &json!({"access_token": "x"})))
        .unwrap();
    let fx = fx.reopen();
    assert_eq!(fx.store.read(|r| r.kv_get("session")).unwrap(), Some(json!({"access_token": "x"})));
    assert!(fx.store.write(|tx| tx.kv_delete("session")).unwrap());
    assert_eq!(fx.store.read(|r| r.kv_get("session")).unwrap(), None);
    let _ = contact_id(1);
}

#[test]
fn scope_flags_are_kept_per_row() {
    let fx = Fixture::new();
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "A")])).unwrap();
    fx.store.write(|tx| tx.set_scope_flags("Account", &account_id(1), 0b101)).unwrap();
    let flags = fx.store.read(|r| r.record_flags("Account", &account_id(1))).unwrap().unwrap();
    assert_eq!(flags.scope_flags, 0b101);
    assert!(!flags.pending && !flags.local_only && !flags.deleted && !flags.scope_left);
    // A later download leaves them alone.
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "A2")])).unwrap();
    let flags = fx.store.read(|r| r.record_flags("Account", &account_id(1))).unwrap().unwrap();
    assert_eq!(flags.scope_flags, 0b101);
}

#[test]
fn lookup_values_are_read_in_bulk_without_local_or_deleted_records() {
    let fx = Fixture::new();
    let contact = |n: u64, account: u64| {
        rec(
            json!({"Id": contact_id(n), "LastName": format!("C{n}"), "AccountId": account_id(account)}),
        )
    };
    let contacts = [contact(1, 1), contact(2, 1), contact(3, 2), contact(4, 3)];
    fx.store.write(|tx| tx.upsert_records("Contact", &contacts)).unwrap();
    fx.store
        .write(|tx| {
            let local = rec(json!({"LastName": "Local", "AccountId": account_id(9)}));
            tx.record_edit("Contact", None, ChangeOp::Create, &local, t(0))?;
            tx.record_edit("Contact", Some(&contact_id(4)), ChangeOp::Delete, &rec(json!({})), t(0))
        })
        .unwrap();

    let values = fx.store.read(|r| r.lookup_values("Contact", "accountid")).unwrap();
    assert_eq!(values.into_iter().collect::<Vec<_>>(), vec![account_id(1), account_id(2)]);
    assert!(fx.store.read(|r| r.lookup_values("Contact", "NoSuchField")).unwrap().is_empty());

    let ids = [contact_id(1), contact_id(3), contact_id(4), contact_id(8)];
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let fields = vec!["AccountId".to_string(), "NoSuchField".to_string()];
    let lookups = fx.store.read(|r| r.lookups_of("Contact", &ids, &fields)).unwrap();
    assert_eq!(lookups.len(), 2, "deleted and absent records have no lookups: {lookups:?}");
    assert_eq!(lookups[&contact_id(1)]["AccountId"], account_id(1));
    assert_eq!(lookups[&contact_id(3)]["AccountId"], account_id(2));
    assert!(!lookups[&contact_id(3)].contains_key("NoSuchField"));
}

/// Bytes of one WAL frame: a 4,096-byte page and its 24-byte header.
const WAL_FRAME: u64 = 4096 + 24;

fn wal_len(fx: &Fixture) -> u64 {
    std::fs::metadata(fx.dir.path().join("store.db-wal")).map_or(0, |m| m.len())
}

#[test]
fn a_download_writes_only_what_changed() {
    let fx = Fixture::new();
    let accounts: Vec<_> = (1..=300)
        .map(|n| {
            let mut a = account(n, &format!("Account {n}"));
            a.insert("ParentId".into(), json!(account_id(n % 7 + 1)));
            a
        })
        .collect();
    fx.store.write(|tx| tx.upsert_records("Account", &accounts)).unwrap();

    // The same records again (an overlap window) append nothing to the log.
    let before = wal_len(&fx);
    let out = fx.store.write(|tx| tx.upsert_records("Account", &accounts)).unwrap();
    assert_eq!(out.unchanged.len(), 300);
    assert!(out.updated.is_empty() && out.inserted.is_empty());
    assert_eq!(wal_len(&fx), before, "an unchanged download wrote pages");

    // One unindexed field of one record: its table page, not the pages of the Industry
    // and ParentId indexes.
    let mut changed = accounts[150].clone();
    changed.insert("Name".into(), json!("Renamed"));
    let before = wal_len(&fx);
    fx.store.write(|tx| tx.upsert_records("Account", &[changed])).unwrap();
    let frames = (wal_len(&fx) - before) / WAL_FRAME;
    assert!((1..=2).contains(&frames), "one changed field wrote {frames} pages");
    let got = fx.store.read(|r| r.get_record("Account", &account_id(151))).unwrap().unwrap();
    assert_eq!(got["Name"], json!("Renamed"));
    assert_eq!(got["Industry"], json!("Energy"));
    assert_eq!(got["ParentId"], json!(account_id(151 % 7 + 1)));

    // A change of letter case is a change.
    let mut cased = accounts[150].clone();
    cased.insert("Name".into(), json!("RENAMED"));
    fx.store.write(|tx| tx.upsert_records("Account", &[cased])).unwrap();
    let got = fx.store.read(|r| r.get_record("Account", &account_id(151))).unwrap().unwrap();
    assert_eq!(got["Name"], json!("RENAMED"));
}
