//! Offline SOQL over stored records, through the shared compiler.

use serde_json::json;
use store::{ChangeOp, StoreError};

use crate::{Fixture, account, account_id, contact_id, rec, t};

fn seeded() -> Fixture {
    let fx = Fixture::new();
    fx.store
        .write(|tx| {
            tx.upsert_records("Account", &[account(1, "Acme"), account(2, "Globex"), account(3, "Initech")])?;
            tx.upsert_records(
                "Contact",
                &[
                    rec(json!({"Id": contact_id(1), "LastName": "Ames", "AccountId": account_id(1)})),
                    rec(json!({"Id": contact_id(2), "LastName": "Bolt", "AccountId": account_id(1)})),
                    rec(json!({"Id": contact_id(3), "LastName": "Cole", "AccountId": account_id(2)})),
                ],
            )
        })
        .unwrap();
    fx
}

#[test]
fn query_filters_orders_and_follows_parents() {
    let fx = seeded();
    let out = fx
        .store
        .query("SELECT LastName, Account.Name FROM Contact WHERE Account.Name LIKE 'A%' ORDER BY LastName DESC", t(0))
        .unwrap();
    assert_eq!(out["totalSize"], json!(2));
    assert_eq!(out["done"], json!(true));
    let records = out["records"].as_array().unwrap();
    assert_eq!(records[0]["LastName"], json!("Bolt"));
    assert_eq!(records[0]["Account"]["Name"], json!("Acme"));
    assert_eq!(records[0]["attributes"]["type"], json!("Contact"));
}

#[test]
fn query_fills_child_subqueries() {
    let fx = seeded();
    let out = fx
        .store
        .query("SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name", t(0))
        .unwrap();
    let records = out["records"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["Contacts"]["totalSize"], json!(2));
    assert_eq!(records[0]["Contacts"]["records"][1]["LastName"], json!("Bolt"));
    assert_eq!(records[1]["Contacts"]["records"][0]["LastName"], json!("Cole"));
    assert_eq!(records[2]["Contacts"], json!(null));
}

#[test]
fn query_sees_local_edits_and_hides_local_deletes() {
    let fx = seeded();
    fx.store
        .write(|tx| {
            tx.record_edit(
                "Account",
                Some(&account_id(2)),
                ChangeOp::Update,
                &rec(json!({"Name": "Globex Local"})),
                t(1),
            )?;
            tx.record_edit(
                "Account",
                Some(&account_id(3)),
                ChangeOp::Delete,
                &rec(json!({})),
                t(1),
            )?;
            tx.record_edit(
                "Account",
                None,
                ChangeOp::Create,
                &rec(json!({"Name": "Offline Co"})),
                t(1),
            )
        })
        .unwrap();
    let out = fx.store.query("SELECT Name FROM Account ORDER BY Name", t(2)).unwrap();
    let names: Vec<_> =
        out["records"].as_array().unwrap().iter().map(|r| r["Name"].clone()).collect();
    assert_eq!(names, vec![json!("Acme"), json!("Globex Local"), json!("Offline Co")]);
    let count = fx.store.query("SELECT COUNT() FROM Account", t(2)).unwrap();
    assert_eq!(count["totalSize"], json!(3));
    assert_eq!(count["records"], json!([]));
}

#[test]
fn query_errors_carry_the_compiler_error() {
    let fx = seeded();
    let err = fx.store.query("SELECT Nme FROM Account", t(0)).unwrap_err();
    let StoreError::Query(e) = err else { panic!("{err:?}") };
    assert_eq!(e.kind, soql::ErrorKind::InvalidField);
    assert!(matches!(fx.store.query("SELECT Id FORM Account", t(0)), Err(StoreError::Query(_))));
}

#[test]
fn filters_on_lookups_and_indexed_fields_use_indexes() {
    let fx = seeded();
    let plan = |soql: &str| fx.store.read(|r| r.query_plan(soql, t(0))).unwrap();
    let uses = |soql: &str, index: &str| {
        let details = plan(soql);
        assert!(details.iter().any(|d| d.contains(index)), "{soql}: {details:?}");
    };

    let acme = account_id(1);
    uses(
        &format!("SELECT LastName FROM Contact WHERE AccountId = '{acme}'"),
        "_idx_Contact_AccountId",
    );
    uses(
        &format!("SELECT LastName FROM Contact WHERE AccountId = '{}'", acme.to_lowercase()),
        "_idx_Contact_AccountId",
    );
    uses("SELECT Name FROM Account WHERE Industry = 'tech'", "_idx_Account_Industry_nocase");
    uses(
        "SELECT LastName, Account.Name FROM Contact WHERE Account.Industry = 'Tech'",
        "_idx_Account_Industry_nocase",
    );

    // An id typed in lower case, or in its 15-character form, still finds the records.
    for id in [acme.to_lowercase(), acme[..15].to_string()] {
        let out = fx
            .store
            .query(&format!("SELECT Id FROM Contact WHERE AccountId = '{id}'"), t(0))
            .unwrap();
        assert_eq!(out["totalSize"], json!(2), "{id}");
    }
}
