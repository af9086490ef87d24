//! HTTPS with a self-signed certificate: clients that trust `ca.pem` get in, the token
//! response names an `https://` instance, and a restart keeps the same certificate.

use devorg::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg};
use reqwest::StatusCode;
use serde_json::Value;

fn trusting(ca_pem: &std::path::Path) -> reqwest::Client {
    let pem = std::fs::read(ca_pem).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_serves_clients_that_trust_the_authority() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config { tls: true, data_dir: Some(dir.path().to_path_buf()), ..Config::default() };
    let org = DevOrg::start(config.clone()).await.unwrap();
    assert!(org.url().starts_with("https://127.0.0.1:"), "{}", org.url());
    let ca = org.ca_pem_path().unwrap().to_path_buf();
    assert!(ca.starts_with(dir.path()));
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    let http = trusting(&ca);
    let resp = http
        .post(format!("{}/services/oauth2/token", org.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", "tech1@field.example"),
            ("password", DEMO_TECH_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let token: Value = resp.json().await.unwrap();
    assert_eq!(token["instance_url"], org.url());
    let resp = http
        .get(format!("{}/services/data/v62.0/limits", org.url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // A client that does not trust the authority is refused; plain HTTP gets no answer.
    assert!(
        reqwest::Client::new().get(format!("{}/services/data/", org.url())).send().await.is_err()
    );
    let plain = org.url().replace("https://", "http://");
    let plain = reqwest::Client::new().get(format!("{plain}/services/data/")).send().await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));

    // A restart on the same folder keeps the certificate.
    org.shutdown().await;
    let org = DevOrg::start(config).await.unwrap();
    assert_eq!(std::fs::read_to_string(org.ca_pem_path().unwrap()).unwrap(), pem);
    let resp = http.get(format!("{}/services/data/", org.url())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn https_without_a_data_folder_uses_a_temporary_one() {
    let org = DevOrg::start(Config { tls: true, ..Config::default() }).await.unwrap();
    let ca = org.ca_pem_path().unwrap().to_path_buf();
    let resp = trusting(&ca).get(format!("{}/services/data/", org.url())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(DevOrg::start(Config::default()).await.unwrap().ca_pem_path().is_none());
}
