//! The client against devorg, the project's Salesforce-compatible server, over loopback:
//! logins, describe, query paging, collections, upserts and session refresh.

use std::sync::{Arc, Mutex};

use devorg::{Config, DEMO_ADMIN_PASSWORD, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DevOrg, RunningOrg};
use salesforce::client::Pkce;
use salesforce::wire::Record;
use salesforce::{Client, ClientConfig, Error, OAuthApp, RefreshCredentials, Relogin, Session};
use serde_json::json;

const ADMIN: &str = "admin@devorg.example";

fn app(org: &RunningOrg) -> OAuthApp {
    OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.into()))
}

async fn start() -> RunningOrg {
    DevOrg::start(Config::default()).await.unwrap()
}

async fn admin_client(org: &RunningOrg, relogin: Relogin) -> Client {
    let session = app(org).login_password(ADMIN, DEMO_ADMIN_PASSWORD).await.unwrap();
    let config = ClientConfig {
        login: Some(RefreshCredentials { app: app(org), relogin }),
        ..ClientConfig::default()
    };
    Client::new(session, config).unwrap()
}

fn account(name: &str) -> Record {
    serde_json::from_value(json!({"Name": name})).unwrap()
}

#[tokio::test]
async fn password_login_and_identity() {
    let org = start().await;
    let session = app(&org).login_password(ADMIN, DEMO_ADMIN_PASSWORD).await.unwrap();
    assert_eq!(session.org_id, org.org_id());
    assert!(session.access_token.starts_with(&org.org_id()[..15]), "token has the org id shape");
    assert!(session.refresh_token.is_none());
    let client = Client::new(session.clone(), ClientConfig::default()).unwrap();
    let me = client.userinfo().await.unwrap();
    assert_eq!(me.user_id, session.user_id);
    assert_eq!(me.organization_id, session.org_id);
    assert_eq!(me.preferred_username, ADMIN);

    let err = app(&org).login_password(ADMIN, "wrong").await.unwrap_err();
    assert_eq!(err.error_code(), Some("invalid_grant"));
    let versions = client.versions().await.unwrap();
    assert!(versions.iter().any(|v| v.version == "62.0"));
}

#[tokio::test]
async fn describe_feeds_the_query_schema() {
    let org = start().await;
    let client = admin_client(&org, Relogin::RefreshTokenOnly).await;
    let global = client.describe_global().await.unwrap();
    let account_entry = global.sobjects.iter().find(|o| o.name == "Account").unwrap();
    assert_eq!(account_entry.key_prefix.as_deref(), Some("001"));
    let describe = client.describe("Account").await.unwrap();
    let schema = describe.to_schema();
    assert!(schema.field("name").is_some());
    assert!(describe.fields.iter().any(|f| f.name == "External_Id__c" && f.external_id));
    assert!(schema.child_relationship("Contacts").is_some());
    // Every object devorg serves decodes and converts.
    for entry in &global.sobjects {
        let describe = client.describe(&entry.name).await.unwrap();
        assert_eq!(describe.to_schema().name, entry.name);
        assert!(describe.to_schema().field("Id").is_some(), "{} has Id", entry.name);
    }
    let err = client.describe("NoSuchObject").await.unwrap_err();
    assert!(matches!(err, Error::Api { .. }), "{err:?}");
}

#[tokio::test]
async fn collections_and_paging() {
    let org = start().await;
    let client = admin_client(&org, Relogin::RefreshTokenOnly).await;

    // 450 accounts in three collection calls.
    let mut ids = Vec::new();
    for chunk in (0..450).collect::<Vec<_>>().chunks(200) {
        let records: Vec<Record> =
            chunk.iter().map(|i| account(&format!("Paged {i:03}"))).collect();
        let results = client.create_many("Account", &records, true).await.unwrap();
        assert!(results.iter().all(|r| r.success), "{results:?}");
        ids.extend(results.into_iter().filter_map(|r| r.id));
    }
    assert_eq!(ids.len(), 450);

    let soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Paged%' ORDER BY Name";
    assert_eq!(
        client.count("SELECT COUNT() FROM Account WHERE Name LIKE 'Paged%'").await.unwrap(),
        450
    );
    let mut pager = client.query_pages(soql, 200);
    let mut names = Vec::new();
    let mut pages = 0;
    while let Some(page) = pager.next_page().await.unwrap() {
        pages += 1;
        names.extend(page.records.iter().map(|r| r["Name"].as_str().unwrap().to_owned()));
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(names.len(), 450);
    assert_eq!(names.first().map(String::as_str), Some("Paged 000"));
    assert_eq!(names.last().map(String::as_str), Some("Paged 449"));
    assert_eq!(pager.total_size(), Some(450));

    // Update two, read them back, delete them, and see them only through queryAll.
    let updates: Vec<Record> = ids[..2]
        .iter()
        .map(|id| serde_json::from_value(json!({"Id": id, "Phone": "555"})).unwrap())
        .collect();
    assert!(
        client.update_many("Account", &updates, false).await.unwrap().iter().all(|r| r.success)
    );
    let fetched = client.retrieve_many("Account", &ids[..2], &["Phone"]).await.unwrap();
    assert!(fetched.iter().all(|r| r.as_ref().unwrap()["Phone"] == "555"));
    let deleted = client.delete_many(&ids[..2], false).await.unwrap();
    assert!(deleted.iter().all(|r| r.success));
    assert_eq!(
        client.count("SELECT COUNT() FROM Account WHERE Name LIKE 'Paged%'").await.unwrap(),
        448
    );
    let all = client
        .query_all(&format!("SELECT Id, IsDeleted FROM Account WHERE Id = '{}'", ids[0]))
        .await
        .unwrap();
    assert_eq!(all.records[0]["IsDeleted"], true);

    let bad = client.query("SELECT Id FORM Account").await.unwrap_err();
    assert_eq!(bad.error_code(), Some("MALFORMED_QUERY"));
    assert!(client.api_usage().is_some());
}

#[tokio::test]
async fn single_records_and_upsert() {
    let org = start().await;
    let client = admin_client(&org, Relogin::RefreshTokenOnly).await;
    let created = client.create("Account", &account("Single")).await.unwrap();
    let id = created.id.unwrap();
    let body: Record = serde_json::from_value(json!({"Phone": "123"})).unwrap();
    client.update("Account", &id, &body).await.unwrap();
    let record = client.retrieve("Account", &id, &["Name", "Phone"]).await.unwrap();
    assert_eq!(record["Phone"], "123");

    let first = client.upsert("Account", "External_Id__c", "EXT-1", &account("Ext")).await.unwrap();
    assert_eq!(first.created, Some(true));
    let second =
        client.upsert("Account", "External_Id__c", "EXT-1", &account("Ext 2")).await.unwrap();
    assert_eq!(second.created, Some(false));

    client.delete("Account", &id).await.unwrap();
    let gone = client.retrieve("Account", &id, &[]).await.unwrap_err();
    assert!(matches!(gone, Error::Api { status: 404, .. }), "{gone:?}");
}

#[tokio::test]
async fn expired_token_is_renewed_by_relogin() {
    let org = start().await;
    let relogin =
        Relogin::Password { username: ADMIN.into(), password: DEMO_ADMIN_PASSWORD.into() };
    let client = admin_client(&org, relogin).await;
    let before = client.session().access_token;
    let seen: Arc<Mutex<Vec<Session>>> = Arc::default();
    let sink = seen.clone();
    client.on_session_change(Box::new(move |s| sink.lock().unwrap().push(s.clone())));

    org.admin().expire_tokens(None).unwrap();
    client.limits().await.unwrap();
    assert_ne!(client.session().access_token, before);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn pkce_login_then_refresh_token_renewal() {
    let org = start().await;
    let pkce = Pkce::generate();
    let redirect = "http://127.0.0.1:1/callback";
    let authorize =
        format!("{}&login_hint={ADMIN}", app(&org).authorize_url(redirect, &pkce, "s1"));
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = http.get(&authorize).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let location = url::Url::parse(&location).unwrap();
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["state"], "s1");

    let wrong = app(&org).exchange_code(&query["code"], redirect, &Pkce::generate()).await;
    assert_eq!(wrong.unwrap_err().error_code(), Some("invalid_grant"));
    // A refused exchange may have burnt the code; fetch a fresh one.
    let answer = http.get(&authorize).send().await.unwrap();
    let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let session = app(&org).exchange_code(&code, redirect, &pkce).await.unwrap();
    assert!(session.refresh_token.is_some());

    let config = ClientConfig {
        login: Some(RefreshCredentials { app: app(&org), relogin: Relogin::RefreshTokenOnly }),
        ..ClientConfig::default()
    };
    let client = Client::new(session.clone(), config).unwrap();
    org.admin().expire_tokens(None).unwrap();
    let page = client.query("SELECT Id FROM User").await.unwrap();
    assert!(page.total_size >= 1);
    let renewed = client.session();
    assert_ne!(renewed.access_token, session.access_token);
    assert_eq!(renewed.refresh_token, session.refresh_token);

    // Without credentials to renew with, an expired session says so.
    let bare = Client::new(renewed, ClientConfig::default()).unwrap();
    org.admin().expire_tokens(None).unwrap();
    assert!(matches!(bare.limits().await, Err(Error::SessionExpired)));
}

#[tokio::test]
async fn composite_with_references_and_nested_results() {
    let org = start().await;
    let client = admin_client(&org, Relogin::RefreshTokenOnly).await;
    let request: salesforce::wire::CompositeRequest = serde_json::from_value(json!({
        "allOrNone": true,
        "compositeRequest": [
            {"method": "POST", "url": "/services/data/v62.0/sobjects/Account",
             "referenceId": "refAccount", "body": {"Name": "Composite Parent"}},
            {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact",
             "referenceId": "refContact", "body": {"LastName": "Child", "AccountId": "@{refAccount.id}"}}
        ]
    }))
    .unwrap();
    let response = client.composite(&request).await.unwrap();
    let statuses: Vec<u16> =
        response.composite_response.iter().map(|r| r.http_status_code).collect();
    assert_eq!(statuses, [201, 201], "{response:?}");
    let account_id = response.composite_response[0].body["id"].as_str().unwrap().to_owned();

    let soql = format!(
        "SELECT Id, Name, (SELECT LastName, Account.Name FROM Contacts) FROM Account WHERE Id = '{account_id}'"
    );
    let page = client.query(&soql).await.unwrap();
    let contacts: salesforce::wire::QueryResult =
        serde_json::from_value(page.records[0]["Contacts"].clone()).unwrap();
    assert_eq!(contacts.records.len(), 1);
    assert_eq!(contacts.records[0]["LastName"], "Child");
    assert_eq!(contacts.records[0]["Account"]["Name"], "Composite Parent");
}

#[tokio::test]
async fn client_credentials_and_unsupported_grants() {
    let org = start().await;
    let session = app(&org).login_client_credentials().await.unwrap();
    let client = Client::new(session, ClientConfig::default()).unwrap();
    assert_eq!(client.userinfo().await.unwrap().preferred_username, devorg::INTEGRATION_USERNAME);

    let bad_app = OAuthApp::new(org.url(), "no-such-client", Some("x".into()));
    let err = bad_app.login_password(ADMIN, DEMO_ADMIN_PASSWORD).await.unwrap_err();
    assert!(matches!(err, Error::OAuth { .. }), "{err:?}");
}
