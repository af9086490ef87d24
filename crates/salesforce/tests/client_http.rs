//! The client over real HTTP on loopback, against a scripted server: session refresh,
//! paging, error bodies, logins and collections.

mod scripted;

use std::sync::{Arc, Mutex};

use salesforce::client::{ApiUsage, Pkce};
use salesforce::wire::Record;
use salesforce::{Client, ClientConfig, Error, OAuthApp, RefreshCredentials, Relogin, Session};
use scripted::{Request, Response, serve};
use serde_json::json;

const ORG: &str = "00Dxx0000001gEFEAY";
const USER: &str = "005xx000001SwiUAAS";

fn token_body(server_url: &str, access: &str, refresh: Option<&str>) -> serde_json::Value {
    let mut body = json!({
        "access_token": access,
        "instance_url": server_url,
        "id": format!("{server_url}/id/{ORG}/{USER}"),
        "token_type": "Bearer",
        "issued_at": "1715203200000",
        "signature": "c2ln",
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    body
}

fn expired() -> Response {
    Response::json(
        401,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
    )
}

fn bearer(request: &Request) -> String {
    request.header("authorization").unwrap_or_default().trim_start_matches("Bearer ").to_owned()
}

fn session(url: &str, access: &str, refresh: Option<&str>) -> Session {
    Session {
        instance_url: url.to_owned(),
        access_token: access.to_owned(),
        refresh_token: refresh.map(str::to_owned),
        org_id: ORG.into(),
        user_id: USER.into(),
        issued_at: None,
    }
}

fn config(url: &str, relogin: Relogin) -> ClientConfig {
    ClientConfig {
        login: Some(RefreshCredentials {
            app: OAuthApp::new(url, "client-id", Some("client-secret".into())),
            relogin,
        }),
        ..ClientConfig::default()
    }
}

fn empty_page() -> Response {
    Response::json(200, json!({"totalSize": 0, "done": true, "records": []}))
}

#[tokio::test]
async fn expired_session_is_refreshed_once_and_replayed() {
    let server = serve(|r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/services/oauth2/token") => {
            let form = r.form();
            assert_eq!(form["grant_type"], "refresh_token");
            assert_eq!(form["refresh_token"], "refresh-1");
            assert_eq!(form["client_id"], "client-id");
            let url = format!("http://{}", r.header("host").unwrap());
            Response::json(200, token_body(&url, "00Dxx!new", None))
        }
        (_, "/services/data/v62.0/query") if bearer(r) == "00Dxx!new" => empty_page(),
        _ => expired(),
    })
    .await;
    let client = Client::new(
        session(&server.url, "00Dxx!old", Some("refresh-1")),
        config(&server.url, Relogin::RefreshTokenOnly),
    )
    .unwrap();
    let seen: Arc<Mutex<Vec<Session>>> = Arc::default();
    let sink = seen.clone();
    client.on_session_change(Box::new(move |s| sink.lock().unwrap().push(s.clone())));

    let page = client.query("SELECT Id FROM Account").await.unwrap();
    assert!(page.done);

    let now = client.session();
    assert_eq!(now.access_token, "00Dxx!new");
    assert_eq!(now.refresh_token.as_deref(), Some("refresh-1"), "old refresh token kept");
    assert_eq!(now.org_id, ORG);
    assert_eq!(now.user_id, USER);
    assert_eq!(seen.lock().unwrap().as_slice(), [now]);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/services/data/v62.0/query", "/services/oauth2/token", "/services/data/v62.0/query"]
    );
}

#[tokio::test]
async fn refused_refresh_means_session_expired() {
    let server = serve(|r| match r.path.as_str() {
        "/services/oauth2/token" => Response::json(
            400,
            json!({"error": "invalid_grant", "error_description": "expired access/refresh token"}),
        ),
        _ => expired(),
    })
    .await;
    let client = Client::new(
        session(&server.url, "00Dxx!old", Some("refresh-1")),
        config(&server.url, Relogin::RefreshTokenOnly),
    )
    .unwrap();
    let called = Arc::new(Mutex::new(false));
    let flag = called.clone();
    client.on_session_change(Box::new(move |_| *flag.lock().unwrap() = true));

    let err = client.describe("Account").await.unwrap_err();
    assert!(matches!(err, Error::SessionExpired), "{err:?}");
    assert!(err.to_string().contains("log in again"));
    assert!(!*called.lock().unwrap());
    assert_eq!(client.session().access_token, "00Dxx!old");
}

#[tokio::test]
async fn no_credentials_means_session_expired_without_a_token_call() {
    let server = serve(|_| expired()).await;
    let client = Client::new(session(&server.url, "t", None), ClientConfig::default()).unwrap();
    assert!(matches!(client.limits().await, Err(Error::SessionExpired)));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn password_relogin_when_there_is_no_refresh_token() {
    let server = serve(|r| match r.path.as_str() {
        "/services/oauth2/token" => {
            let form = r.form();
            assert_eq!(form["grant_type"], "password");
            assert_eq!(form["username"], "ann@example.com");
            assert_eq!(form["password"], "hunter2");
            assert_eq!(form["client_secret"], "client-secret");
            let url = format!("http://{}", r.header("host").unwrap());
            Response::json(200, token_body(&url, "00Dxx!second", None))
        }
        _ if bearer(r) == "00Dxx!second" => {
            Response::json(200, json!({"DailyApiRequests": {"Max": 15000, "Remaining": 14000}}))
        }
        _ => expired(),
    })
    .await;
    let relogin =
        Relogin::Password { username: "ann@example.com".into(), password: "hunter2".into() };
    let client =
        Client::new(session(&server.url, "00Dxx!first", None), config(&server.url, relogin))
            .unwrap();
    let limits = client.limits().await.unwrap();
    assert_eq!(limits["DailyApiRequests"].remaining, 14000);
    assert_eq!(client.session().access_token, "00Dxx!second");
}

#[tokio::test]
async fn a_second_401_after_refresh_is_session_expired() {
    let server = serve(|r| match r.path.as_str() {
        "/services/oauth2/token" => {
            let url = format!("http://{}", r.header("host").unwrap());
            Response::json(200, token_body(&url, "00Dxx!new", Some("refresh-2")))
        }
        _ => expired(),
    })
    .await;
    let client = Client::new(
        session(&server.url, "00Dxx!old", Some("refresh-1")),
        config(&server.url, Relogin::RefreshTokenOnly),
    )
    .unwrap();
    assert!(matches!(client.userinfo().await, Err(Error::SessionExpired)));
    assert_eq!(server.requests().len(), 3, "one call, one refresh, one replay");
    assert_eq!(client.session().refresh_token.as_deref(), Some("refresh-2"));
}

#[tokio::test]
async fn pages_follow_next_records_url_with_batch_size() {
    let server = serve(|r| {
        let page = |n: u64, next: Option<&str>| {
            let mut body = json!({
                "totalSize": 5, "done": next.is_none(),
                "records": (0..n).map(|i| json!({"attributes": {"type": "Account"}, "Id": i.to_string()})).collect::<Vec<_>>()
            });
            if let Some(next) = next {
                body["nextRecordsUrl"] = json!(next);
            }
            Response::json(200, body).with_header("Sforce-Limit-Info", "api-usage=7/15000")
        };
        match r.path.as_str() {
            "/services/data/v62.0/query" => page(2, Some("/services/data/v62.0/query/01gXX-2")),
            "/services/data/v62.0/query/01gXX-2" => page(2, Some("/services/data/v62.0/query/01gXX-4")),
            "/services/data/v62.0/query/01gXX-4" => page(1, None),
            _ => Response::json(404, json!([{"message": "no", "errorCode": "NOT_FOUND"}])),
        }
    })
    .await;
    let client = Client::new(session(&server.url, "t", None), ClientConfig::default()).unwrap();
    let soql = "SELECT Id, Name FROM Account WHERE Name = 'O''Brien & Co' AND Amount > 5";
    let mut pager = client.query_pages(soql, 200);
    let mut ids = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        ids.extend(page.records.iter().map(|r| r["Id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(ids, ["0", "1", "0", "1", "0"]);
    assert_eq!(pager.total_size(), Some(5));
    assert!(pager.next_page().await.unwrap().is_none());

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].query["q"], soql, "query text arrives intact");
    for r in &requests {
        assert_eq!(r.header("sforce-query-options"), Some("batchSize=200"));
    }
    assert_eq!(client.api_usage(), Some(ApiUsage { used: 7, max: 15000 }));

    // The locator alone and the full URL reach the same page.
    let by_locator = client.query_more("01gXX-4").await.unwrap();
    let full_url = format!("{}/services/data/v62.0/query/01gXX-4", server.url);
    assert_eq!(by_locator, client.query_more(&full_url).await.unwrap());
}

#[tokio::test]
async fn count_and_query_all_use_their_resources() {
    let server = serve(|r| match r.path.as_str() {
        "/services/data/v62.0/queryAll" => empty_page(),
        "/services/data/v62.0/query" => {
            Response::json(200, json!({"totalSize": 42, "done": true, "records": []}))
        }
        _ => Response::json(404, json!([])),
    })
    .await;
    let client = Client::new(session(&server.url, "t", None), ClientConfig::default()).unwrap();
    assert_eq!(client.count("SELECT COUNT() FROM Contact").await.unwrap(), 42);
    assert!(client.query_all("SELECT Id FROM Contact").await.unwrap().done);
}

#[tokio::test]
async fn error_bodies_become_typed_errors() {
    let server = serve(|r| match r.path.as_str() {
        "/services/data/v62.0/query" => Response::json(
            400,
            json!([{"message": "unexpected token: 'FORM'", "errorCode": "MALFORMED_QUERY"}]),
        ),
        "/services/data/v62.0/limits" => Response::json(
            403,
            json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
        ),
        "/services/data/v62.0/sobjects/" => {
            Response::raw(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>")
        }
        "/services/data/v62.0/sobjects/Account/describe" => {
            Response::raw(200, "application/json", r#"{"name":"Account","fields":[{"name":"Id","#)
        }
        "/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG" => {
            Response::raw(200, "application/json", r#"["not", "a", "record"]"#)
        }
        _ => Response::json(404, json!([{"message": "gone", "errorCode": "NOT_FOUND"}])),
    })
    .await;
    let client = Client::new(session(&server.url, "t", None), ClientConfig::default()).unwrap();

    let err = client.query("SELECT Id FORM Account").await.unwrap_err();
    assert_eq!(err.error_code(), Some("MALFORMED_QUERY"));
    assert!(matches!(err, Error::Api { status: 400, .. }));
    assert!(!err.is_transient());

    let err = client.limits().await.unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err:?}");
    assert!(err.is_transient());

    let err = client.describe_global().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("expected JSON from GET /services/data/v62.0/sobjects/, got text/html"),
        "{err}"
    );
    assert!(err.is_transient(), "a 502 page from a proxy is worth retrying");

    let err = client.describe("Account").await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }) && err.to_string().contains("truncated"), "{err}");

    let err = client.retrieve("Account", "001xx000003DGb2AAG", &["Name"]).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");

    let err = client.delete("Account", "001xx000003DGb3AAG").await.unwrap_err();
    assert_eq!(err.error_code(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn network_failure_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::new(session(&url, "t", None), ClientConfig::default()).unwrap();
    let err = client.versions().await.unwrap_err();
    assert!(matches!(err, Error::Network(_)), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn logins_send_their_grants_and_map_failures() {
    let server = serve(|r| {
        let url = format!("http://{}", r.header("host").unwrap());
        let form = r.form();
        match form["grant_type"].as_str() {
            "password" if form["password"] == "right" => {
                Response::json(200, token_body(&url, "00Dxx!pw", None))
            }
            "client_credentials" => Response::json(200, token_body(&url, "00Dxx!cc", None)),
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
                assert_eq!(form["assertion"].split('.').count(), 3);
                Response::json(200, token_body(&url, "00Dxx!jwt", None))
            }
            _ => Response::json(
                400,
                json!({"error": "invalid_grant", "error_description": "authentication failure"}),
            ),
        }
    })
    .await;
    let app = OAuthApp::new(&server.url, "client-id", Some("client-secret".into()));

    let session = app.login_password("ann@example.com", "right").await.unwrap();
    assert_eq!(session.access_token, "00Dxx!pw");
    assert_eq!((session.org_id.as_str(), session.user_id.as_str()), (ORG, USER));
    assert_eq!(session.instance_url, server.url);
    assert!(session.issued_at.is_some());

    let err = app.login_password("ann@example.com", "wrong-password").await.unwrap_err();
    assert!(
        matches!(&err, Error::OAuth { error, description } if error == "invalid_grant" && description == "authentication failure")
    );
    assert!(!format!("{err} {err:?}").contains("wrong-password"));

    assert_eq!(app.login_client_credentials().await.unwrap().access_token, "00Dxx!cc");
    let key = include_str!("data/test_rsa_key.pem");
    assert_eq!(app.login_jwt("ann@example.com", key).await.unwrap().access_token, "00Dxx!jwt");
}

#[tokio::test]
async fn authorization_code_with_pkce() {
    let pkce = Pkce::generate();
    let expected = pkce.challenge().to_owned();
    let server = serve(move |r| {
        let form = r.form();
        let url = format!("http://{}", r.header("host").unwrap());
        let sent = Pkce::from_verifier(form["code_verifier"].clone());
        if form["grant_type"] == "authorization_code"
            && form["code"] == "the-code"
            && form["redirect_uri"] == "http://127.0.0.1:7/callback"
            && sent.challenge() == expected
        {
            Response::json(200, token_body(&url, "00Dxx!code", Some("rt")))
        } else {
            Response::json(400, json!({"error": "invalid_grant", "error_description": "bad code"}))
        }
    })
    .await;
    let app = OAuthApp::new(&server.url, "client-id", None);
    let authorize = app.authorize_url("http://127.0.0.1:7/callback", &pkce, "st4te");
    let parsed = url::Url::parse(&authorize).unwrap();
    assert_eq!(parsed.path(), "/services/oauth2/authorize");
    let query: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge"], pkce.challenge());
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["state"], "st4te");
    assert_eq!(query["redirect_uri"], "http://127.0.0.1:7/callback");

    let session =
        app.exchange_code("the-code", "http://127.0.0.1:7/callback", &pkce).await.unwrap();
    assert_eq!(session.refresh_token.as_deref(), Some("rt"));
    let other = Pkce::generate();
    let err =
        app.exchange_code("the-code", "http://127.0.0.1:7/callback", &other).await.unwrap_err();
    assert_eq!(err.error_code(), Some("invalid_grant"));
}

fn record(v: serde_json::Value) -> Record {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn single_record_writes() {
    let server = serve(|r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/services/data/v62.0/sobjects/Account") => {
            assert_eq!(r.json(), json!({"Name": "Acme"}));
            Response::json(201, json!({"id": "001xx000003DGb2AAG", "success": true, "errors": []}))
        }
        ("PATCH", "/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG") => {
            Response::raw(204, "application/json", "")
        }
        ("PATCH", "/services/data/v62.0/sobjects/Account/Ext__c/A%2F1") => Response::json(
            201,
            json!({"id": "001xx000003DGb4AAG", "success": true, "errors": [], "created": true}),
        ),
        ("PATCH", "/services/data/v62.0/sobjects/Account/Ext__c/A-2") => {
            Response::raw(204, "application/json", "")
        }
        ("PATCH", "/services/data/v62.0/sobjects/Account/Ext__c/dup") => Response::json(
            300,
            json!(["/services/data/v62.0/sobjects/Account/001a", "/services/data/v62.0/sobjects/Account/001b"]),
        ),
        ("GET", "/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG") => {
            assert_eq!(r.query["fields"], "Id,Name");
            Response::json(200, json!({"attributes": {"type": "Account"}, "Id": "001xx000003DGb2AAG", "Name": "Acme"}))
        }
        ("DELETE", "/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG") => {
            Response::raw(204, "application/json", "")
        }
        _ => Response::json(404, json!([{"message": "no route", "errorCode": "NOT_FOUND"}])),
    })
    .await;
    let client = Client::new(session(&server.url, "t", None), ClientConfig::default()).unwrap();
    let body = record(json!({"attributes": {"type": "Account"}, "Name": "Acme"}));

    let created = client.create("Account", &body).await.unwrap();
    assert_eq!(created.id.as_deref(), Some("001xx000003DGb2AAG"));
    client.update("Account", "001xx000003DGb2AAG", &body).await.unwrap();
    let fetched = client.retrieve("Account", "001xx000003DGb2AAG", &["Id", "Name"]).await.unwrap();
    assert_eq!(fetched["Name"], "Acme");
    let upserted = client.upsert("Account", "Ext__c", "A/1", &body).await.unwrap();
    assert_eq!(upserted.created, Some(true));
    let updated = client.upsert("Account", "Ext__c", "A-2", &body).await.unwrap();
    assert_eq!(updated.created, Some(false));
    let err = client.upsert("Account", "Ext__c", "dup", &body).await.unwrap_err();
    assert_eq!(err.error_code(), Some("MULTIPLE_CHOICES"));
    client.delete("Account", "001xx000003DGb2AAG").await.unwrap();
}

#[tokio::test]
async fn collections() {
    let server = serve(|r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/services/data/v62.0/composite/sobjects") => {
            let body = r.json();
            assert_eq!(body["allOrNone"], false);
            assert_eq!(body["records"][0]["attributes"]["type"], "Account");
            Response::json(
                200,
                json!([
                    {"id": "001xx000003DGb2AAG", "success": true, "errors": []},
                    {"success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Name]", "fields": ["Name"]}]}
                ]),
            )
        }
        ("DELETE", "/services/data/v62.0/composite/sobjects") => {
            assert_eq!(r.query["ids"], "001xx000003DGb2AAG,001xx000003DGb3AAG");
            assert_eq!(r.query["allOrNone"], "true");
            Response::json(
                200,
                json!([
                    {"id": "001xx000003DGb2AAG", "success": true, "errors": []},
                    {"id": "001xx000003DGb3AAG", "success": true, "errors": []}
                ]),
            )
        }
        ("PATCH", "/services/data/v62.0/composite/sobjects/Account/Ext__c") => Response::json(
            200,
            json!([{"id": "001xx000003DGb2AAG", "success": true, "errors": [], "created": false}]),
        ),
        ("POST", "/services/data/v62.0/composite/sobjects/Account") => {
            assert_eq!(r.json(), json!({"ids": ["001xx000003DGb2AAG", "001xx000003DGb9AAG"], "fields": ["Name"]}));
            Response::json(200, json!([{"attributes": {"type": "Account"}, "Name": "Acme"}, null]))
        }
        ("POST", "/services/data/v62.0/composite") => Response::json(
            200,
            json!({"compositeResponse": [{"body": {"id": "001xx000003DGb2AAG", "success": true, "errors": []},
                "httpHeaders": {}, "httpStatusCode": 201, "referenceId": "refAccount"}]}),
        ),
        _ => Response::json(404, json!([{"message": "no route", "errorCode": "NOT_FOUND"}])),
    })
    .await;
    let client = Client::new(session(&server.url, "t", None), ClientConfig::default()).unwrap();

    let records = vec![record(json!({"Name": "Acme"})), record(json!({"Phone": "1"}))];
    let results = client.create_many("Account", &records, false).await.unwrap();
    assert!(results[0].success);
    assert_eq!(results[1].errors[0].status_code, "REQUIRED_FIELD_MISSING");

    let deleted =
        client.delete_many(&["001xx000003DGb2AAG", "001xx000003DGb3AAG"], true).await.unwrap();
    assert_eq!(deleted.len(), 2);

    let upserted = client.upsert_many("Account", "Ext__c", &records[..1], false).await.unwrap();
    assert_eq!(upserted[0].created, Some(false));

    let fetched = client
        .retrieve_many("Account", &["001xx000003DGb2AAG", "001xx000003DGb9AAG"], &["Name"])
        .await
        .unwrap();
    assert_eq!(fetched[0].as_ref().unwrap()["Name"], "Acme");
    assert!(fetched[1].is_none());

    let request: salesforce::wire::CompositeRequest = serde_json::from_value(json!({
        "allOrNone": true,
        "compositeRequest": [{"method": "POST", "url": "/services/data/v62.0/sobjects/Account",
            "referenceId": "refAccount", "body": {"Name": "Acme"}}]
    }))
    .unwrap();
    let response = client.composite(&request).await.unwrap();
    assert_eq!(response.composite_response[0].http_status_code, 201);

    // Over the limits: refused before anything is sent.
    let sent = server.requests().len();
    let many = vec![Record::new(); 201];
    assert!(matches!(
        client.update_many("Account", &many, false).await,
        Err(Error::TooMany { max: 200 })
    ));
    let ids = vec!["001xx000003DGb2AAG"; 201];
    assert!(matches!(client.delete_many(&ids, false).await, Err(Error::TooMany { max: 200 })));
    let mut big = request.clone();
    big.composite_request = vec![request.composite_request[0].clone(); 26];
    assert!(matches!(client.composite(&big).await, Err(Error::TooMany { max: 25 })));
    assert_eq!(server.requests().len(), sent);
}

#[tokio::test]
async fn replication_windows() {
    let server = serve(|r| match r.path.as_str() {
        "/services/data/v62.0/sobjects/Account/updated/" => {
            assert_eq!(r.query["start"], "2024-05-08T20:00:00Z");
            assert_eq!(r.query["end"], "2024-05-08T21:20:00Z");
            Response::json(200, json!({"ids": ["001xx000003DGb2AAG"], "latestDateCovered": "2024-05-08T21:20:00.000+0000"}))
        }
        "/services/data/v62.0/sobjects/Account/deleted/" => Response::json(
            200,
            json!({"deletedRecords": [{"id": "001xx000003DGb3AAG", "deletedDate": "2024-05-08T21:00:00.000+0000"}],
                "earliestDateAvailable": "2024-04-23T00:00:00.000+0000", "latestDateCovered": "2024-05-08T21:20:00.000+0000"}),
        ),
        _ => Response::json(
            400,
            json!([{"message": "start date must be before end", "errorCode": "INVALID_REPLICATION_DATE"}]),
        ),
    })
    .await;
    let client = Client::new(session(&server.url, "t", None), ClientConfig::default()).unwrap();
    let start = salesforce::time::parse_datetime("2024-05-08T20:00:00Z").unwrap();
    let end = salesforce::time::parse_datetime("2024-05-08T21:20:00.000+0000").unwrap();
    let updated = client.updated("Account", start, end).await.unwrap();
    assert_eq!(updated.ids, ["001xx000003DGb2AAG"]);
    assert_eq!(updated.latest_date_covered, end);
    let deleted = client.deleted("Account", start, end).await.unwrap();
    assert_eq!(deleted.deleted_records[0].id, "001xx000003DGb3AAG");
    let err = client.updated("Contact", end, start).await.unwrap_err();
    assert_eq!(err.error_code(), Some("INVALID_REPLICATION_DATE"));
}

#[tokio::test]
async fn concurrent_expired_calls_refresh_only_once() {
    let server = serve(|r| match r.path.as_str() {
        "/services/oauth2/token" => {
            let url = format!("http://{}", r.header("host").unwrap());
            Response::json(200, token_body(&url, "00Dxx!new", Some("refresh-2")))
        }
        _ if bearer(r) == "00Dxx!new" => empty_page(),
        _ => expired(),
    })
    .await;
    let client = Client::new(
        session(&server.url, "00Dxx!old", Some("refresh-1")),
        config(&server.url, Relogin::RefreshTokenOnly),
    )
    .unwrap();
    let changes = Arc::new(Mutex::new(0));
    let counter = changes.clone();
    client.on_session_change(Box::new(move |_| *counter.lock().unwrap() += 1));

    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.query("SELECT Id FROM Account").await })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().unwrap().done);
    }
    let token_calls =
        server.requests().iter().filter(|r| r.path == "/services/oauth2/token").count();
    assert_eq!(token_calls, 1);
    assert_eq!(*changes.lock().unwrap(), 1);
}

#[tokio::test]
async fn silent_and_closing_servers_are_network_errors() {
    // One listener never answers; the other closes every connection at once.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = silent.accept().await {
            keep.lock().unwrap().push(stream);
        }
    });
    let closing = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closing_url = format!("http://{}", closing.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = closing.accept().await {
            drop(stream);
        }
    });

    let config =
        ClientConfig { timeout: std::time::Duration::from_millis(300), ..ClientConfig::default() };
    let client = Client::new(session(&silent_url, "t", None), config.clone()).unwrap();
    let err = client.query("SELECT Id FROM Account").await.unwrap_err();
    assert!(matches!(&err, Error::Network(e) if e.is_timeout()), "{err:?}");
    assert!(err.is_transient());

    let client = Client::new(session(&closing_url, "t", None), config).unwrap();
    let err = client.query("SELECT Id FROM Account").await.unwrap_err();
    assert!(matches!(err, Error::Network(_)), "{err:?}");
    assert!(err.is_transient());
}
