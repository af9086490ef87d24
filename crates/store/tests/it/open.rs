//! Opening, keys, encryption at rest, migrations, locking and concurrent reads.

use serde_json::json;
use store::migrate::SCHEMA_VERSION;
use store::{Store, StoreError, StoreKey};

use crate::{Fixture, account, account_id, account_schema, field, t};

#[test]
fn wrong_key_is_reported_as_such() {
    let fx = Fixture::new();
    let path = fx.path();
    drop(fx.store);
    let err = Store::open(&path, &StoreKey::generate()).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("the store key does not open {}", path.display()));
    Store::open(&path, &fx.key).unwrap();
}

#[test]
fn file_on_disk_contains_no_plaintext() {
    let fx = Fixture::new();
    let secret_name = "Plaintext-Canary-Account-7f3a";
    let token = "00Dxx0000000001!SecretAccessToken-canary";
    fx.store
        .write(|tx| {
            tx.upsert_records("Account", &[account(1, secret_name)])?;
            tx.kv_set("session", &json!({"access_token": token}))
        })
        .unwrap();
    // Look at the WAL before and after the checkpoint a close does.
    let wal = fx.dir.path().join("store.db-wal");
    let mut files = vec![std::fs::read(&wal).unwrap_or_default()];
    let path = fx.path();
    drop(fx.store);
    files.push(std::fs::read(&path).unwrap());
    files.push(std::fs::read(&wal).unwrap_or_default());
    for bytes in files {
        for needle in [secret_name, token, "Energy", "CREATE TABLE", "SQLite format 3"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "'{needle}' found in plaintext on disk"
            );
        }
    }
    // And the data is still there with the key.
    let store = Store::open(&path, &fx.key).unwrap();
    let got = store.read(|r| r.get_record("Account", &account_id(1))).unwrap().unwrap();
    assert_eq!(got["Name"], json!(secret_name));
}

/// A connection keyed with SQLCipher's default settings (HMAC-SHA512 pages), as stores
/// were created before HMAC-SHA256.
fn sqlcipher_defaults_open(path: &std::path::Path, key: &StoreKey) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.to_hex())).unwrap();
    conn
}

fn opens(conn: &rusqlite::Connection) -> bool {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_ok()
}

#[test]
fn new_stores_authenticate_pages_with_hmac_sha256() {
    let fx = Fixture::new();
    let path = fx.path();
    drop(fx.store);
    assert!(!opens(&sqlcipher_defaults_open(&path, &fx.key)), "opened with HMAC-SHA512");
    assert!(opens(&rusqlite_open(&path, &fx.key)));
}

#[test]
fn a_store_with_sqlciphers_default_page_settings_still_opens() {
    let fx = Fixture::new();
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Before")])).unwrap();
    let path = fx.path();
    drop(fx.store);

    // The same store, re-encrypted with SQLCipher's defaults.
    let legacy = fx.dir.path().join("legacy.db");
    {
        let conn = rusqlite_open(&path, &fx.key);
        conn.execute_batch(&format!(
            "ATTACH DATABASE '{}' AS legacy KEY \"x'{}'\";
             PRAGMA legacy.cipher_hmac_algorithm = HMAC_SHA512;",
            legacy.display(),
            fx.key.to_hex()
        ))
        .unwrap();
        conn.query_row("SELECT sqlcipher_export('legacy')", [], |_| Ok(())).unwrap();
        // The export copies tables, not the schema version.
        let version: i64 = conn.query_row("PRAGMA main.user_version", [], |r| r.get(0)).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA legacy.user_version = {version}; DETACH DATABASE legacy;"
        ))
        .unwrap();
    }
    assert!(opens(&sqlcipher_defaults_open(&legacy, &fx.key)));
    assert!(!opens(&rusqlite_open(&legacy, &fx.key)));

    // Opened, read on the writer and on readers, written, and opened again.
    let store = Store::open(&legacy, &fx.key).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let got = store.read(|r| r.get_record("Account", &account_id(1))).unwrap().unwrap();
    assert_eq!(got["Name"], json!("Before"));
    store.write(|tx| tx.upsert_records("Account", &[account(2, "After")])).unwrap();
    let page = store.query("SELECT Name FROM Account ORDER BY Name", t(0)).unwrap();
    assert_eq!(page["totalSize"], json!(2), "{page}");
    drop(store);
    let store = Store::open(&legacy, &fx.key).unwrap();
    assert_eq!(store.read(|r| r.count("Account")).unwrap(), 2);
    assert!(opens(&sqlcipher_defaults_open(&legacy, &fx.key)), "the file kept its settings");

    // A wrong key is still a wrong key, whichever settings the file has.
    drop(store);
    let err = Store::open(&legacy, &StoreKey::generate()).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
}

#[test]
fn migrates_from_each_earlier_version() {
    for version in 0..SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let key = StoreKey::generate();
        {
            let old = Store::open_at_version(&path, &key, version).unwrap();
            assert_eq!(old.schema_version().unwrap(), version);
            if version >= 1 {
                old.ensure_object(&account_schema(), &[]).unwrap();
                old.write(|tx| {
                    tx.upsert_records("Account", &[account(1, "Kept")])?;
                    tx.kv_set("settings", &json!({"theme": "dark"}))
                })
                .unwrap();
            }
        }
        let store = Store::open(&path, &key).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION, "from version {version}");
        if version >= 1 {
            let got = store.read(|r| r.get_record("Account", &account_id(1))).unwrap().unwrap();
            assert_eq!(got["Name"], json!("Kept"), "from version {version}");
            assert_eq!(
                store.read(|r| r.kv_get("settings")).unwrap(),
                Some(json!({"theme": "dark"}))
            );
        }
        // The newest tables work after migrating.
        store.ensure_object(&account_schema(), &[]).unwrap();
        store
            .write(|tx| {
                tx.set_cursor(&store::SyncCursor { object: "Account".into(), ..Default::default() })
            })
            .unwrap();
    }
}

#[test]
fn a_newer_file_is_refused() {
    let fx = Fixture::new();
    let path = fx.path();
    drop(fx.store);
    {
        let conn = rusqlite_open(&path, &fx.key);
        conn.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1)).unwrap();
    }
    let err = Store::open(&path, &fx.key).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err:?}");
}

fn rusqlite_open(path: &std::path::Path, key: &StoreKey) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    store::key_connection(&conn, key).unwrap();
    conn
}

#[test]
fn catalog_survives_restart_and_grows_columns() {
    let fx = Fixture::new();
    let mut grown = account_schema();
    grown.fields.push(field("Rating", soql::schema::FieldType::Picklist));
    fx.store.ensure_object(&grown, &["Rating"]).unwrap();
    fx.store
        .write(|tx| {
            let mut a = account(1, "Acme");
            a.insert("Rating".into(), json!("Hot"));
            tx.upsert_records("Account", &[a])
        })
        .unwrap();
    let fx = fx.reopen();
    let catalog = fx.store.catalog();
    use soql::schema::Catalog;
    let acc = catalog.object("account").unwrap();
    assert!(acc.field("Rating").is_some());
    assert_eq!(acc.child_relationship("contacts").unwrap().child_object, "Contact");
    assert_eq!(
        catalog.object("Contact").unwrap().parent_relationship("Account").unwrap().name,
        "AccountId"
    );
    let got = fx.store.read(|r| r.get_record("Account", &account_id(1))).unwrap().unwrap();
    assert_eq!(got["Rating"], json!("Hot"));

    // Registering under another spelling replaces the entry rather than adding one.
    let mut lower = account_schema();
    lower.name = "account".into();
    fx.store.ensure_object(&lower, &[]).unwrap();
    let fx = fx.reopen();
    assert_eq!(fx.store.catalog().names(), vec!["account".to_owned(), "Contact".to_owned()]);
    assert!(fx.store.read(|r| r.get_record("Account", &account_id(1))).unwrap().is_some());
}

#[test]
fn bad_object_names_are_refused() {
    let fx = Fixture::new();
    let mut bad = account_schema();
    bad.name = "Account\"; DROP TABLE x; --".into();
    assert!(matches!(fx.store.ensure_object(&bad, &[]), Err(StoreError::InvalidSchema(_))));
    let mut bad = account_schema();
    bad.name = "_objects".into();
    assert!(matches!(fx.store.ensure_object(&bad, &[]), Err(StoreError::InvalidSchema(_))));
    assert!(matches!(
        fx.store.ensure_object(&account_schema(), &["NoSuchField"]),
        Err(StoreError::InvalidSchema(_))
    ));
}

#[test]
fn exclusive_lock_excludes_a_second_instance() {
    let dir = tempfile::tempdir().unwrap();
    let lock = Store::lock_exclusive(dir.path()).unwrap();
    assert!(matches!(Store::lock_exclusive(dir.path()), Err(StoreError::Locked { .. })));
    drop(lock);
    Store::lock_exclusive(dir.path()).unwrap();
}

#[test]
fn reads_proceed_during_a_write_and_see_committed_state() {
    let fx = Fixture::new();
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Before")]).map(drop)).unwrap();
    fx.store
        .write(|tx| {
            tx.upsert_records("Account", &[account(1, "During"), account(2, "New")])?;
            // Inside the transaction the write is visible...
            assert_eq!(tx.read().count("Account")?, 2);
            // ...while a reader (another connection) still sees the committed state.
            let name = fx.store.read(|r| r.get_record("Account", &account_id(1)))?.unwrap()["Name"]
                .clone();
            assert_eq!(name, json!("Before"));
            assert_eq!(fx.store.read(|r| r.count("Account"))?, 1);
            Ok(())
        })
        .unwrap();
    assert_eq!(fx.store.read(|r| r.count("Account")).unwrap(), 2);
    let _ = t(0);
}

#[test]
fn a_damaged_page_is_reported_as_corrupt() {
    let fx = Fixture::new();
    let many: Vec<_> = (1..=300).map(|n| account(n, &"n".repeat(200))).collect();
    fx.store.write(|tx| tx.upsert_records("Account", &many).map(drop)).unwrap();
    let path = fx.path();
    drop(fx.store);
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4096 * 8);
    // Damage every page after the first (which holds the schema).
    let pages = bytes.len() / 4096;
    for page in 1..pages {
        for b in &mut bytes[page * 4096 + 100..page * 4096 + 164] {
            *b ^= 0x5a;
        }
    }
    std::fs::write(&path, bytes).unwrap();
    let result =
        Store::open(&path, &fx.key).and_then(|s| s.query("SELECT Name FROM Account", t(0)));
    assert!(matches!(result, Err(StoreError::Corrupt(_))), "{result:?}");
}

#[test]
fn a_store_held_exclusively_elsewhere_is_locked() {
    let fx = Fixture::new();
    let path = fx.path();
    drop(fx.store);
    // Another program holds the file in exclusive locking mode.
    let other = rusqlite_open(&path, &fx.key);
    other.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;").unwrap();
    let err = Store::open(&path, &fx.key).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.is_transient());
    other.execute_batch("COMMIT; PRAGMA locking_mode = NORMAL;").unwrap();
    drop(other);
    Store::open(&path, &fx.key).unwrap();
}

#[test]
fn a_large_page_of_records_is_written_in_one_transaction() {
    let fx = Fixture::new();
    let page: Vec<_> = (1..=2000).map(|n| account(n, "Bulk")).collect();
    let out = fx.store.write(|tx| tx.upsert_records("Account", &page)).unwrap();
    assert_eq!(out.inserted.len(), 2000);
    let again = fx.store.write(|tx| tx.upsert_records("Account", &page)).unwrap();
    assert_eq!(again.unchanged.len(), 2000, "the same page again changes nothing");
    assert!(again.updated.is_empty() && again.inserted.is_empty());
    assert_eq!(fx.store.read(|r| r.count("Account")).unwrap(), 2000);
}

#[test]
fn readers_on_other_threads_never_fail_while_a_sync_writes() {
    let fx = Fixture::new();
    let store = std::sync::Arc::new(fx.store);
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for batch in 0..40u64 {
                let page: Vec<_> =
                    (batch * 25 + 1..=batch * 25 + 25).map(|n| account(n, "W")).collect();
                store.write(|tx| tx.upsert_records("Account", &page)).unwrap();
            }
        })
    };
    // Each read sees a whole number of committed pages, never a partial one.
    let mut last = 0;
    while !writer.is_finished() {
        let n = store.read(|r| r.count("Account")).unwrap();
        assert_eq!(n % 25, 0, "a reader saw part of a transaction");
        assert!(n >= last);
        last = n;
    }
    writer.join().unwrap();
    assert_eq!(store.read(|r| r.count("Account")).unwrap(), 1000);
}

/// The names of the indexes on `table`, read straight from the file.
fn indexes_of(fx: &Fixture, table: &str) -> Vec<String> {
    let conn = rusqlite_open(&fx.path(), &fx.key);
    let mut stmt = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 ORDER BY name",
        )
        .unwrap();
    let names = stmt.query_map([table], |r| r.get(0)).unwrap();
    names.collect::<Result<_, _>>().unwrap()
}

#[test]
fn system_modstamp_is_indexed_only_where_a_filter_names_it() {
    let fx = Fixture::new();
    let stamp = "_idx_Account_SystemModstamp".to_string();
    let names = indexes_of(&fx, "Account");
    assert!(names.contains(&"_idx_Account_ParentId".to_string()), "{names:?}");
    assert!(!names.contains(&stamp), "{names:?}");

    // A filter on it indexes it.
    fx.store.ensure_object(&account_schema(), &["Industry", "SystemModstamp"]).unwrap();
    assert!(indexes_of(&fx, "Account").contains(&stamp));

    // A table from a store that indexed it regardless loses that index when registered
    // again, and its records stay.
    fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Acme")])).unwrap();
    fx.store.ensure_object(&account_schema(), &["Industry"]).unwrap();
    let fx = fx.reopen();
    assert!(!indexes_of(&fx, "Account").contains(&stamp));
    assert!(indexes_of(&fx, "Account").contains(&"_idx_Account_Industry_nocase".to_string()));
    let got = fx.store.read(|r| r.get_record("Account", &account_id(1))).unwrap().unwrap();
    assert_eq!(got["Name"], json!("Acme"));
}
