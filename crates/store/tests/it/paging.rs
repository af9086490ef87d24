//! Offline queries page like the REST query resource: `done`, `nextRecordsUrl` and
//! `Store::query_more`, read by keyset over a real SQLite file.

use serde_json::{Value, json};
use store::StoreError;

use crate::{Fixture, account_id, contact_id, rec, t};

/// Accounts stored: enough for five pages of 200.
const ACCOUNTS: u64 = 1000;

/// Accounts whose names repeat (so equal sort keys straddle page boundaries), with
/// NULLs in `NumberOfEmployees` and `Industry`; every third has a contact.
fn seeded() -> Fixture {
    let fx = Fixture::new();
    let industries =
        [Value::from("Energy"), Value::from("banking"), Value::Null, Value::from("Banking")];
    let accounts: Vec<_> = (1..=ACCOUNTS)
        .map(|n| {
            let employees = if n.is_multiple_of(5) { Value::Null } else { Value::from(n % 13) };
            rec(json!({
                "Id": account_id(n),
                "Name": format!("{} Corp", ["Acme", "acme", "Globex", "Initech"][(n % 4) as usize]),
                "Industry": industries[(n % 7 % 4) as usize],
                "NumberOfEmployees": employees,
            }))
        })
        .collect();
    let contacts: Vec<_> = (1..=ACCOUNTS)
        .filter(|n| n.is_multiple_of(3))
        .map(|n| rec(json!({"Id": contact_id(n), "LastName": format!("L{n}"), "AccountId": account_id(n)})))
        .collect();
    fx.store
        .write(|tx| {
            tx.upsert_records("Account", &accounts)?;
            tx.upsert_records("Contact", &contacts)
        })
        .unwrap();
    fx
}

fn ids(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page of `soql` at 200 records a page, checking each page's shape on the way.
fn walk(fx: &Fixture, soql: &str) -> Vec<Value> {
    let mut pages = vec![fx.store.query_batched(soql, t(0), 200).unwrap()];
    while let Some(next) = pages.last().unwrap()["nextRecordsUrl"].as_str().map(str::to_owned) {
        let locator = next.strip_prefix("/services/data/v62.0/query/").expect("REST path");
        assert!(!locator.is_empty() && !locator.contains('/'), "{next}");
        assert_eq!(pages.last().unwrap()["done"], json!(false));
        assert_eq!(pages.last().unwrap()["records"].as_array().unwrap().len(), 200);
        pages.push(fx.store.query_more(&next).unwrap());
        assert!(pages.len() <= 10, "the pages never end: {soql}");
    }
    let last = pages.last().unwrap();
    assert_eq!(last["done"], json!(true));
    let total = pages[0]["totalSize"].clone();
    assert!(pages.iter().all(|p| p["totalSize"] == total), "totalSize stays the first page's");
    pages
}

/// The whole result in one page (it fits in the default 2,000), as the reference order.
fn whole(fx: &Fixture, soql: &str) -> Value {
    let answer = fx.store.query(soql, t(0)).unwrap();
    assert_eq!(answer["done"], json!(true));
    assert!(answer.get("nextRecordsUrl").is_none());
    answer
}

#[test]
fn pages_hold_every_row_once_in_the_query_order() {
    let fx = seeded();
    for soql in [
        "SELECT Id, Name FROM Account",
        "SELECT Id, Name FROM Account ORDER BY Name",
        "SELECT Id, Name FROM Account ORDER BY Name DESC",
        "SELECT Id FROM Account ORDER BY NumberOfEmployees DESC NULLS LAST, Name",
        "SELECT Id FROM Account ORDER BY NumberOfEmployees NULLS LAST",
        "SELECT Id FROM Account ORDER BY NumberOfEmployees DESC NULLS FIRST",
        "SELECT Id FROM Account ORDER BY Industry, NumberOfEmployees DESC, Name DESC",
        "SELECT Id FROM Account WHERE Name LIKE 'acme%' ORDER BY Industry DESC NULLS FIRST",
        "SELECT Id FROM Contact ORDER BY Account.Name DESC, Account.NumberOfEmployees",
    ] {
        let pages = walk(&fx, soql);
        let walked: Vec<String> = pages.iter().flat_map(ids).collect();
        let reference = whole(&fx, soql);
        assert_eq!(walked, ids(&reference), "{soql}");
        assert_eq!(reference["totalSize"], json!(walked.len()), "{soql}");
        let mut unique = walked.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), walked.len(), "a row repeated: {soql}");
    }
    assert_eq!(walk(&fx, "SELECT Id FROM Account").len(), 5);
}

#[test]
fn limit_and_offset_bound_all_pages_together() {
    let fx = seeded();
    let soql = "SELECT Id FROM Account ORDER BY Name DESC, NumberOfEmployees LIMIT 450 OFFSET 30";
    let pages = walk(&fx, soql);
    assert_eq!(pages.iter().map(|p| ids(p).len()).collect::<Vec<_>>(), [200, 200, 50]);
    assert_eq!(pages[0]["totalSize"], json!(450));
    let walked: Vec<String> = pages.iter().flat_map(ids).collect();
    assert_eq!(walked, ids(&whole(&fx, soql)));

    // A LIMIT that ends on a page boundary leaves no empty last page.
    let pages = walk(&fx, "SELECT Id FROM Account LIMIT 400");
    assert_eq!(pages.len(), 2);
}

#[test]
fn child_subqueries_fill_in_on_every_page() {
    let fx = seeded();
    let soql = "SELECT Id, Name, (SELECT LastName FROM Contacts) FROM Account ORDER BY Name";
    let number: std::collections::HashMap<String, u64> =
        (1..=ACCOUNTS).map(|n| (account_id(n), n)).collect();
    let mut with_contacts = 0;
    for page in walk(&fx, soql) {
        for record in page["records"].as_array().unwrap() {
            let n = number[record["Id"].as_str().unwrap()];
            if n.is_multiple_of(3) {
                assert_eq!(record["Contacts"]["records"][0]["LastName"], json!(format!("L{n}")));
                with_contacts += 1;
            } else {
                assert_eq!(record["Contacts"], Value::Null, "{n}");
            }
        }
    }
    assert_eq!(with_contacts, ACCOUNTS / 3);
}

#[test]
fn each_page_is_a_fresh_read() {
    let fx = seeded();
    let first = fx.store.query_batched("SELECT Id FROM Account", t(0), 200).unwrap();
    let next = first["nextRecordsUrl"].as_str().unwrap().to_owned();

    // Written after the first page: a row past the boundary appears, a removed one goes.
    fx.store
        .write(|tx| {
            tx.upsert_records("Account", &[rec(json!({"Id": account_id(5000), "Name": "Late"}))])?;
            tx.delete_records("Account", &[account_id(700).as_str()])
        })
        .unwrap();
    let mut walked = ids(&first);
    let mut page = fx.store.query_more(&next).unwrap();
    loop {
        walked.extend(ids(&page));
        let Some(next) = page["nextRecordsUrl"].as_str().map(str::to_owned) else { break };
        page = fx.store.query_more(&next).unwrap();
    }
    assert!(walked.contains(&account_id(5000)));
    assert!(!walked.contains(&account_id(700)));
    assert_eq!(walked.len() as u64, ACCOUNTS);
    assert_eq!(page["totalSize"], json!(ACCOUNTS), "the total counted with the first page");
}

#[test]
fn batch_sizes_come_within_the_rest_limits() {
    let fx = seeded();
    let small = fx.store.query_batched("SELECT Id FROM Account", t(0), 5).unwrap();
    assert_eq!(ids(&small).len(), 200, "at least 200");
    let default = fx.store.query("SELECT Id FROM Account", t(0)).unwrap();
    assert_eq!(ids(&default).len(), ACCOUNTS as usize, "a result within 2,000 is one page");
    let count = fx.store.query_batched("SELECT COUNT() FROM Account", t(0), 200).unwrap();
    assert_eq!(count["totalSize"], json!(ACCOUNTS));
    assert_eq!(count["done"], json!(true));
}

#[test]
fn a_bad_locator_is_refused_with_a_clear_error() {
    let fx = seeded();
    let first = fx.store.query_batched("SELECT Id FROM Account", t(0), 200).unwrap();
    let next = first["nextRecordsUrl"].as_str().unwrap();
    let cut = &next[..next.len() - 7];
    for locator in ["", "nonsense", "/services/data/v62.0/query/01gD0000002HU6KIAW-2000", cut] {
        let err = fx.store.query_more(locator).unwrap_err();
        assert!(matches!(err, StoreError::BadLocator(_)), "{locator}: {err:?}");
        assert!(err.to_string().starts_with("invalid query locator: "), "{err}");
    }
}
