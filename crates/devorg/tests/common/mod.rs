//! Helpers shared by the integration tests: start an org, log in, call the REST API.

#![allow(dead_code)]

use devorg::{
    Config, DEMO_ADMIN_PASSWORD, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TECH_PASSWORD, DevOrg,
    RunningOrg,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const V: &str = "v62.0";

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub async fn start() -> RunningOrg {
    DevOrg::start(Config::default()).await.expect("org starts")
}

pub async fn start_with(config: Config) -> RunningOrg {
    DevOrg::start(config).await.expect("org starts")
}

pub async fn token_for(org: &RunningOrg, username: &str, password: &str) -> Value {
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/services/oauth2/token", org.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

pub async fn login(org: &RunningOrg, username: &str) -> Api {
    let password =
        if username.starts_with("admin") { DEMO_ADMIN_PASSWORD } else { DEMO_TECH_PASSWORD };
    let body = token_for(org, username, password).await;
    Api {
        http: reqwest::Client::new(),
        base: org.url().to_string(),
        token: body["access_token"].as_str().unwrap().to_string(),
    }
}

pub async fn admin(org: &RunningOrg) -> Api {
    login(org, "admin@devorg.example").await
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/services") {
            format!("{}{path}", self.base)
        } else {
            format!("{}/services/data/{V}{path}", self.base)
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// Sends and returns status plus JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let resp = self.send(method, path, body).await;
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Runs a SOQL query (its first page), failing the test unless it answers 200.
    pub async fn query(&self, soql: &str) -> Value {
        let resp = self
            .http
            .get(self.url("/query"))
            .query(&[("q", soql)])
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    /// Creates a record and returns its id, failing the test on error.
    pub async fn create(&self, object: &str, body: Value) -> String {
        let (status, json) = self.post(&format!("/sobjects/{object}"), body).await;
        assert_eq!(status, StatusCode::CREATED, "{json}");
        json["id"].as_str().unwrap().to_string()
    }
}

/// An instant written in RFC 3339.
pub fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc)
}

/// An org whose clock stands at `t` until a test moves it.
pub async fn pinned_org(t: &str) -> RunningOrg {
    let clock = devorg::Clock::default();
    clock.set(at(t));
    DevOrg::start_with_clock(Config::default(), clock).await.unwrap()
}

/// The `errorCode` of the first error in a resource-error body.
pub fn error_code(body: &Value) -> &str {
    body[0]["errorCode"].as_str().unwrap_or("")
}

pub fn account(name: &str) -> Value {
    json!({"Name": name})
}
