//! query, queryAll, queryMore, parent paths and child subqueries.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn q(api: &Api, soql: &str) -> (StatusCode, Value) {
    let resp = api
        .http
        .get(api.url("/query"))
        .query(&[("q", soql)])
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// The first page of `soql` with pages of 200 records (`Sforce-Query-Options`).
async fn q200(api: &Api, soql: &str) -> Value {
    let resp = api
        .http
        .get(api.url("/query"))
        .query(&[("q", soql)])
        .header("Sforce-Query-Options", "batchSize=200")
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    resp.json().await.unwrap()
}

#[tokio::test]
async fn query_returns_records_with_parents_and_children() {
    let org = start().await;
    let api = admin(&org).await;
    let acc = api.create("Account", json!({"Name": "Acme"})).await;
    api.create("Contact", json!({"LastName": "Ng", "FirstName": "Ana", "AccountId": acc})).await;
    api.create("Contact", json!({"LastName": "Ito", "AccountId": acc})).await;

    let (status, body) =
        q(&api, "SELECT Id, Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account")
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totalSize"], 1);
    assert_eq!(body["done"], true);
    let rec = &body["records"][0];
    assert_eq!(rec["attributes"]["type"], "Account");
    assert_eq!(rec["Contacts"]["totalSize"], 2);
    assert_eq!(rec["Contacts"]["records"][0]["LastName"], "Ito");

    let (_, body) = q(&api, "SELECT Name, Account.Name FROM Contact WHERE FirstName = 'Ana'").await;
    assert_eq!(body["records"][0]["Name"], "Ana Ng");
    assert_eq!(body["records"][0]["Account"]["Name"], "Acme");

    let (_, body) = q(&api, "SELECT COUNT() FROM Contact").await;
    assert_eq!(body["totalSize"], 2);
}

#[tokio::test]
async fn bad_soql_is_a_400_with_the_soql_code() {
    let org = start().await;
    let api = admin(&org).await;
    let (status, body) = q(&api, "SELECT Id FORM Account").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "MALFORMED_QUERY");
    let (status, body) = q(&api, "SELECT Nme FROM Account").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "INVALID_FIELD");
    assert!(body[0]["message"].as_str().unwrap().contains("Nme"));
}

#[tokio::test]
async fn query_all_includes_deleted_rows() {
    let org = start().await;
    let api = admin(&org).await;
    let id = api.create("Account", json!({"Name": "Gone"})).await;
    api.delete(&format!("/sobjects/Account/{id}")).await;
    let (_, body) = q(&api, "SELECT Id FROM Account").await;
    assert_eq!(body["totalSize"], 0);
    let (status, body) = api.get("/queryAll/?q=SELECT+Id,IsDeleted+FROM+Account").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totalSize"], 1);
    assert_eq!(body["records"][0]["IsDeleted"], true);
}

#[tokio::test]
async fn pages_follow_next_records_url_and_batch_size() {
    let org = start().await;
    let api = admin(&org).await;
    let records: Vec<Value> = (0..200)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("A{i:03}")}))
        .collect();
    for chunk in [&records[..], &records[..50]] {
        let (status, body) =
            api.post("/composite/sobjects", json!({"allOrNone": true, "records": chunk})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let first = q200(&api, "SELECT Name FROM Account ORDER BY Name").await;
    assert_eq!(first["totalSize"], 250);
    assert_eq!(first["done"], false);
    assert_eq!(first["records"].as_array().unwrap().len(), 200);
    let next = first["nextRecordsUrl"].as_str().unwrap();
    assert!(next.starts_with("/services/data/v62.0/query/01g"));
    let locator = next.rsplit('/').next().unwrap();
    assert!(!locator.contains('/'));

    let (status, second) = api.get(next).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["done"], true);
    assert!(second.get("nextRecordsUrl").is_none());
    assert_eq!(second["records"].as_array().unwrap().len(), 50);
    assert_eq!(second["records"][49]["Name"], "A199");

    let (status, body) = api.get("/query/01gNOPE-200").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "INVALID_QUERY_LOCATOR");
}

#[tokio::test]
async fn later_pages_keep_parents_children_limit_and_sharing() {
    let org = start().await;
    let t1 = login(&org, "tech1@field.example").await;
    let parent = t1.create("Account", json!({"Name": "Group"})).await;
    let records: Vec<Value> = (0..200)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("B{i:03}"), "ParentId": parent}))
        .collect();
    for chunk in [&records[..], &records[..60]] {
        let (status, body) =
            t1.post("/composite/sobjects", json!({"allOrNone": true, "records": chunk})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, b) = q(&t1, "SELECT Id FROM Account WHERE Name = 'B150'").await;
    let b150 = b["records"][0]["Id"].as_str().unwrap().to_string();
    t1.create("Contact", json!({"LastName": "Kid", "AccountId": b150})).await;
    // Accounts are private: tech2's rows must never show up in tech1's pages.
    org.admin().set_sharing("Account", devorg::Sharing::Private).unwrap();
    let t2 = login(&org, "tech2@field.example").await;
    t2.create("Account", json!({"Name": "B999"})).await;

    let soql = "SELECT Name, Parent.Name, (SELECT LastName FROM Contacts) FROM Account WHERE Name LIKE 'B%' ORDER BY Name DESC LIMIT 250 OFFSET 5";
    let first = q200(&t1, soql).await;
    assert_eq!(first["totalSize"], 250, "{first}");
    // Names B199 (x2) ... the 60 duplicates sort in; check order and content instead.
    let page2 = t1.get(first["nextRecordsUrl"].as_str().unwrap()).await.1;
    let mut names: Vec<String> = first["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Name"].as_str().unwrap().to_string())
        .collect();
    names.extend(
        page2["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Name"].as_str().unwrap().to_string()),
    );
    assert_eq!(names.len(), 250);
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted);
    assert!(!names.contains(&"B999".to_string()));
    let p2 = page2["records"].as_array().unwrap();
    assert!(
        p2.iter().all(|r| r["Parent"]["Name"] == "Group"),
        "parents stay visible on later pages"
    );
    assert!(first["records"].as_array().unwrap().iter().all(|r| r["Parent"]["Name"] == "Group"));
    let with_kid: Vec<&Value> = first["records"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2.iter())
        .filter(|r| !r["Contacts"].is_null())
        .collect();
    assert_eq!(with_kid.len(), 1);
    assert_eq!(with_kid[0]["Contacts"]["records"][0]["LastName"], "Kid");
}

/// Opens a 250-row query with 200-row pages as `api`'s user; returns its `nextRecordsUrl`.
async fn open_cursor(api: &Api) -> String {
    let first = q200(api, "SELECT Name FROM Account").await;
    first["nextRecordsUrl"].as_str().expect("a second page").to_string()
}

#[tokio::test]
async fn a_user_keeps_ten_cursors_and_other_users_cursors_do_not_evict_them() {
    let org = start().await;
    let t1 = login(&org, "tech1@field.example").await;
    let t2 = login(&org, "tech2@field.example").await;
    let records: Vec<Value> = (0..200)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("C{i:03}")}))
        .collect();
    for chunk in [&records[..], &records[..50]] {
        let (status, body) =
            t1.post("/composite/sobjects", json!({"allOrNone": true, "records": chunk})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Ten cursors of one user and ten of another all stay open.
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..devorg::query_cursor::MAX_CURSORS_PER_USER {
        mine.push(open_cursor(&t1).await);
        theirs.push(open_cursor(&t2).await);
    }

    // An eleventh cursor of the same user closes that user's oldest one only.
    mine.push(open_cursor(&t1).await);
    let (status, body) = t1.get(&mine[0]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "INVALID_QUERY_LOCATOR");
    for next in &mine[1..] {
        assert_eq!(t1.get(next).await.0, StatusCode::OK);
    }
    for next in &theirs {
        assert_eq!(t2.get(next).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_semi_join_result_pages_through_every_record_once() {
    let org = start().await;
    let t1 = login(&org, "tech1@field.example").await;
    let accounts: Vec<Value> = (0..250)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("S{i:03}")}))
        .collect();
    let mut ids = Vec::new();
    for chunk in accounts.chunks(200) {
        let (status, body) =
            t1.post("/composite/sobjects", json!({"allOrNone": true, "records": chunk})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.extend(body.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()));
    }
    // Every account but the first ten has a contact.
    let contacts: Vec<Value> = ids[10..]
        .iter()
        .map(|id| json!({"attributes": {"type": "Contact"}, "LastName": "C", "AccountId": id}))
        .collect();
    for chunk in contacts.chunks(200) {
        let (status, body) =
            t1.post("/composite/sobjects", json!({"allOrNone": true, "records": chunk})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let soql = "SELECT Id, Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact) AND Name LIKE 'S%' ORDER BY Name";
    let first = q200(&t1, soql).await;
    assert_eq!(first["totalSize"], 240, "{first}");
    let second = t1.get(first["nextRecordsUrl"].as_str().unwrap()).await.1;
    assert_eq!(second["done"], true);
    let names: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|p| p["records"].as_array().unwrap().iter())
        .map(|r| r["Name"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (10..250).map(|i| format!("S{i:03}")).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn a_query_bounded_to_one_page_answers_like_a_paged_one() {
    let org = start().await;
    let t1 = login(&org, "tech1@field.example").await;
    org.admin().set_sharing("Account", devorg::Sharing::Private).unwrap();
    let parent = t1.create("Account", json!({"Name": "Group"})).await;
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(t1.create("Account", json!({"Name": format!("C{i}"), "ParentId": parent})).await);
    }
    let t2 = login(&org, "tech2@field.example").await;
    let theirs = t2.create("Account", json!({"Name": "C9"})).await;

    // An id list names another user's private record: it is left out, as on any page.
    let list: Vec<String> = mine.iter().chain([&theirs]).map(|id| format!("'{id}'")).collect();
    let by_ids = format!(
        "SELECT Id, Name, Parent.Name FROM Account WHERE Id IN ({}) ORDER BY Name DESC",
        list.join(",")
    );
    let (status, body) = q(&t1, &by_ids).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totalSize"], 5, "{body}");
    assert_eq!(body["done"], true);
    assert!(body.get("nextRecordsUrl").is_none());
    let names: Vec<&str> =
        body["records"].as_array().unwrap().iter().map(|r| r["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["C4", "C3", "C2", "C1", "C0"]);
    assert_eq!(body["records"][0]["Parent"]["Name"], "Group");
    assert_eq!(body["records"][0]["attributes"]["type"], "Account");

    // The same filter without a bound runs through a cursor and gives the same answer.
    let unbounded =
        "SELECT Id, Name, Parent.Name FROM Account WHERE Name LIKE 'C%' ORDER BY Name DESC";
    assert_eq!(q(&t1, unbounded).await.1["records"], body["records"]);

    // LIMIT and OFFSET bound it too; nothing found is an empty page.
    let (_, page) =
        q(&t1, "SELECT Name FROM Account WHERE Name LIKE 'C%' ORDER BY Name LIMIT 2 OFFSET 1")
            .await;
    let names: Vec<&str> =
        page["records"].as_array().unwrap().iter().map(|r| r["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["C1", "C2"]);
    assert_eq!(page["totalSize"], 2);
    let (_, none) = q(&t1, &format!("SELECT Id FROM Account WHERE Id = '{theirs}'")).await;
    assert_eq!(none["totalSize"], 0);
    assert_eq!(none["records"], json!([]));
}
