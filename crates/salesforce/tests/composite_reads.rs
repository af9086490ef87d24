//! Several reads in one Composite call, against devorg over loopback: the answers equal
//! the direct calls', per-subrequest errors map to the same errors, the call counts as
//! one API request, the query limit is kept, and an expired session is renewed.

use chrono::Duration;
use devorg::{Config, DEMO_ADMIN_PASSWORD, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DevOrg, RunningOrg};
use salesforce::client::{Read, ReadAnswer};
use salesforce::wire::{CompositeRequest, CompositeSubrequest};
use salesforce::{Client, ClientConfig, Error, OAuthApp, RefreshCredentials, Relogin};
use serde_json::json;

const ADMIN: &str = "admin@devorg.example";

async fn client(org: &RunningOrg) -> Client {
    let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.into()));
    let session = app.login_password(ADMIN, DEMO_ADMIN_PASSWORD).await.unwrap();
    let relogin =
        Relogin::Password { username: ADMIN.into(), password: DEMO_ADMIN_PASSWORD.into() };
    let config = ClientConfig {
        login: Some(RefreshCredentials { app, relogin }),
        ..ClientConfig::default()
    };
    Client::new(session, config).unwrap()
}

fn used(client: &Client) -> u64 {
    client.api_usage().expect("usage reported").used
}

/// 450 accounts written in one transaction, one of them deleted, then two minutes on.
fn seed(org: &RunningOrg) -> (chrono::DateTime<chrono::Utc>, String) {
    let admin = org.admin();
    let start = org.clock().now() - Duration::minutes(5);
    let records = (0..450).map(|i| json!({"Name": format!("Batch {i}")})).collect();
    let ids = admin.create_many(ADMIN, "Account", records).unwrap();
    admin.delete(ADMIN, "Account", &ids[7]).unwrap();
    org.clock().advance(Duration::minutes(2));
    (start, ids[7].clone())
}

#[tokio::test]
async fn reads_answer_as_their_direct_calls_do() {
    let org = DevOrg::start(Config::default()).await.unwrap();
    let client = client(&org).await;
    let (start, deleted_id) = seed(&org);
    let end = org.clock().now();
    let soql = "SELECT Id FROM Account WHERE Name LIKE 'Batch%' ORDER BY Id";
    let reads = vec![
        Read::Deleted { object: "Account".into(), start, end },
        Read::Updated { object: "Account".into(), start, end },
        Read::Query { soql: soql.into(), include_deleted: false, batch_size: 200 },
        Read::Query { soql: soql.into(), include_deleted: true, batch_size: 2000 },
        Read::Updated { object: "NoSuchObject".into(), start, end },
        Read::Deleted { object: "Account".into(), start: start - Duration::days(40), end },
    ];
    client.limits().await.unwrap();
    let before = used(&client);
    let answers = client.composite_reads(&reads).await.unwrap();
    assert_eq!(used(&client), before + 1, "the whole composite call is one API request");
    assert_eq!(answers.len(), reads.len());

    let mut answers = answers.into_iter();
    let Some(Ok(ReadAnswer::Deleted(deleted))) = answers.next() else { panic!("deleted") };
    assert_eq!(deleted, client.deleted("Account", start, end).await.unwrap());
    assert_eq!(deleted.deleted_records.len(), 1);
    assert_eq!(deleted.deleted_records[0].id, deleted_id);
    let Some(Ok(ReadAnswer::Updated(updated))) = answers.next() else { panic!("updated") };
    assert_eq!(updated, client.updated("Account", start, end).await.unwrap());
    assert_eq!(updated.ids.len(), 449);

    // The first page keeps the batch size asked for; the rest follows its locator.
    let Some(Ok(ReadAnswer::Page(first))) = answers.next() else { panic!("query") };
    assert_eq!((first.records.len(), first.total_size, first.done), (200, 449, false));
    let mut pager = client.pages_from(first, 200);
    let mut ids = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        ids.extend(page.records.iter().map(|r| r["Id"].as_str().unwrap().to_owned()));
    }
    let direct = client.query_pages(soql, 2000).next_page().await.unwrap().unwrap();
    let direct: Vec<String> =
        direct.records.iter().map(|r| r["Id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, direct);
    let Some(Ok(ReadAnswer::Page(all))) = answers.next() else { panic!("queryAll") };
    assert_eq!(all.total_size, 450, "queryAll sees the deleted row");

    // Errors are the direct calls' errors.
    let Some(Err(missing)) = answers.next() else { panic!("an unknown object fails") };
    let direct = client.updated("NoSuchObject", start, end).await.unwrap_err();
    assert_eq!(missing.error_code(), Some("NOT_FOUND"));
    assert_eq!((missing.status(), missing.error_code()), (direct.status(), direct.error_code()));
    let Some(Err(too_old)) = answers.next() else { panic!("an old window fails") };
    assert_eq!(too_old.error_code(), Some("INVALID_REPLICATION_DATE"));
    assert!(matches!(too_old, Error::Api { status: 400, .. }));
}

#[tokio::test]
async fn at_most_five_queries_go_in_one_call() {
    let org = DevOrg::start(Config::default()).await.unwrap();
    let client = client(&org).await;
    let query = Read::Query {
        soql: "SELECT Id FROM Account".into(),
        include_deleted: false,
        batch_size: 2000,
    };
    client.limits().await.unwrap();
    let before = used(&client);
    let six = vec![query.clone(); 6];
    assert!(matches!(client.composite_reads(&six).await, Err(Error::TooMany { max: 5 })));
    assert_eq!(used(&client), before, "refused before sending");
    assert_eq!(client.composite_reads(&six[..5]).await.unwrap().len(), 5);

    // The org refuses a sixth query itself, with Salesforce's error.
    let subrequest = |i: usize| CompositeSubrequest {
        method: "GET".into(),
        url: format!("/services/data/v62.0/query/?q=SELECT+Id+FROM+Account+LIMIT+{}", i + 1),
        reference_id: format!("q{i}"),
        body: None,
        http_headers: None,
    };
    let request = CompositeRequest {
        all_or_none: false,
        collate_subrequests: Some(false),
        composite_request: (0..6).map(subrequest).collect(),
    };
    let e = client.composite(&request).await.unwrap_err();
    assert!(matches!(e, Error::Api { status: 400, .. }), "{e:?}");
    assert_eq!(e.error_code(), Some("LIMIT_EXCEEDED"));
}

#[tokio::test]
async fn an_expired_session_is_renewed_once_and_the_reads_replayed() {
    let org = DevOrg::start(Config::default()).await.unwrap();
    let client = client(&org).await;
    let (start, _) = seed(&org);
    let end = org.clock().now();
    let before = client.session().access_token;
    org.admin().expire_tokens(None).unwrap();
    let reads = vec![Read::Updated { object: "Account".into(), start, end }];
    let answers = client.composite_reads(&reads).await.unwrap();
    assert!(matches!(&answers[0], Ok(ReadAnswer::Updated(u)) if u.ids.len() == 449));
    assert_ne!(client.session().access_token, before);
}
