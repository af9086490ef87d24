//! What the client writes to the log: method, path and status, never tokens, passwords,
//! query text or record values.

mod scripted;

use std::io::Write;
use std::sync::{Arc, Mutex};

use salesforce::{Client, ClientConfig, OAuthApp, RefreshCredentials, Relogin, Session};
use scripted::{Response, serve};
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_calls_but_hold_no_secrets() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = serve(|r| match r.path.as_str() {
        "/services/oauth2/token" => {
            let url = format!("http://{}", r.header("host").unwrap());
            Response::json(
                200,
                json!({"access_token": "00Dxx!NEWTOKENVALUE", "refresh_token": "REFRESHVALUE2",
                    "instance_url": url, "id": format!("{url}/id/00Dxx0000001gEFEAY/005xx000001SwiUAAS"),
                    "issued_at": "1715203200000", "signature": "x", "token_type": "Bearer"}),
            )
        }
        _ if r.header("authorization") == Some("Bearer 00Dxx!NEWTOKENVALUE") => Response::json(
            200,
            json!({"totalSize": 1, "done": true, "records": [{"attributes": {"type": "Account"}, "Name": "RECORDVALUE"}]}),
        ),
        _ => Response::json(
            401,
            json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
        ),
    })
    .await;
    let session = Session {
        instance_url: server.url.clone(),
        access_token: "00Dxx!OLDTOKENVALUE".into(),
        refresh_token: None,
        org_id: "00Dxx0000001gEFEAY".into(),
        user_id: "005xx000001SwiUAAS".into(),
        issued_at: None,
    };
    let config = ClientConfig {
        login: Some(RefreshCredentials {
            app: OAuthApp::new(&server.url, "client-id", Some("APPSECRETVALUE".into())),
            relogin: Relogin::Password {
                username: "ann@example.com".into(),
                password: "PASSWORDVALUE".into(),
            },
        }),
        ..ClientConfig::default()
    };
    let client = Client::new(session, config).unwrap();
    let page = client.query("SELECT Name FROM Account WHERE Name = 'QUERYVALUE'").await.unwrap();
    assert_eq!(page.records[0]["Name"], "RECORDVALUE");

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("path=/services/data/v62.0/query"), "{log}");
    assert!(log.contains("status=401") && log.contains("status=200"), "{log}");
    assert!(log.contains("session refreshed"), "{log}");
    for secret in [
        "OLDTOKENVALUE",
        "NEWTOKENVALUE",
        "REFRESHVALUE2",
        "APPSECRETVALUE",
        "PASSWORDVALUE",
        "QUERYVALUE",
        "RECORDVALUE",
    ] {
        assert!(!log.contains(secret), "{secret} in log:\n{log}");
    }
}
