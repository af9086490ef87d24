//! Shared set-up for the upload tests: a devorg on loopback, a fault-injecting proxy in
//! front of it, a real store in a temporary directory, a profile and a recording sleeper.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use devorg::{Config, DEMO_ADMIN_PASSWORD, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DevOrg, RunningOrg};
use engine::profile::{ConflictPolicy, FieldSelection, ObjectProfile, Profile};
use engine::upload::{Backoff, Sleeper, UploadOptions, UploadReport, upload};
use engine::{Clock, ManualClock};
use salesforce::{Client, ClientConfig, OAuthApp};
use serde_json::{Value, json};
use store::{ChangeOp, PendingChange, PendingFilter, Record, Store, StoreKey};
use tempfile::TempDir;

pub const ADMIN: &str = "admin@devorg.example";

/// Records every delay asked for and returns at once.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    pub delays: Mutex<Vec<Duration>>,
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.delays.lock().unwrap().push(delay);
        Box::pin(async {})
    }
}

/// What the proxy does to a request that matches a rule.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answers with this status and JSON body without passing the request on.
    Status(u16, Value),
    /// Passes the request on (the org commits it), then breaks the connection before
    /// the answer is complete.
    DropAfterForward,
    /// Answers a collection call with `UNABLE_TO_LOCK_ROW` for every record, without
    /// passing it on.
    LockRows,
}

#[derive(Debug)]
struct Rule {
    method: &'static str,
    path_contains: &'static str,
    fault: Fault,
    remaining: u32,
}

#[derive(Debug)]
struct ProxyState {
    target: String,
    http: reqwest::Client,
    rules: Mutex<VecDeque<Rule>>,
    log: Mutex<Vec<String>>,
}

/// A loopback HTTP proxy in front of devorg that injects faults by rule.
#[derive(Debug)]
pub struct FaultProxy {
    pub url: String,
    state: Arc<ProxyState>,
    _task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(target: &str) -> FaultProxy {
        let state = Arc::new(ProxyState {
            target: target.to_owned(),
            http: reqwest::Client::new(),
            rules: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().fallback(forward).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FaultProxy { url, state, _task: task }
    }

    /// The next `times` requests with this method whose path contains `path_contains`
    /// meet `fault`.
    pub fn inject(
        &self,
        method: &'static str,
        path_contains: &'static str,
        fault: Fault,
        times: u32,
    ) {
        self.state.rules.lock().unwrap().push_back(Rule {
            method,
            path_contains,
            fault,
            remaining: times,
        });
    }

    /// Forgets the requests seen so far.
    pub fn clear_log(&self) {
        self.state.log.lock().unwrap().clear();
    }

    /// `METHOD /path` of every request seen, in order.
    pub fn log(&self) -> Vec<String> {
        self.state.log.lock().unwrap().clone()
    }
}

fn take_fault(state: &ProxyState, method: &str, path: &str) -> Option<Fault> {
    let mut rules = state.rules.lock().unwrap();
    let rule = rules
        .iter_mut()
        .find(|r| r.remaining > 0 && r.method == method && path.contains(r.path_contains))?;
    rule.remaining -= 1;
    Some(rule.fault.clone())
}

fn json_response(status: u16, body: &Value) -> Response {
    let mut response = (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn forward(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let path_and_query =
        request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), usize::MAX).await.unwrap();
    state.log.lock().unwrap().push(format!("{method} {path}"));

    let fault = take_fault(&state, &method, &path);
    match &fault {
        Some(Fault::Status(status, body)) => return json_response(*status, body),
        Some(Fault::LockRows) => {
            let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let n = sent["records"].as_array().map_or(1, Vec::len);
            let locked = json!({"success": false, "errors": [{
                "statusCode": "UNABLE_TO_LOCK_ROW",
                "message": "unable to obtain exclusive access to this record",
                "fields": []
            }]});
            return json_response(200, &Value::Array(vec![locked; n]));
        }
        _ => {}
    }

    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut outgoing =
        state.http.request(method, format!("{}{path_and_query}", state.target)).body(body);
    for (name, value) in &headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = outgoing.send().await.unwrap();
    let status = answer.status().as_u16();
    let content_type = answer.headers().get("content-type").map(|v| v.as_bytes().to_vec());
    let limit_info = answer.headers().get("sforce-limit-info").map(|v| v.as_bytes().to_vec());
    let bytes = answer.bytes().await.unwrap();

    if matches!(fault, Some(Fault::DropAfterForward)) {
        // The body breaks off after its first bytes: the server drops the connection and
        // the client sees the answer cut short.
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"[{")),
            Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection dropped")),
        ];
        let mut response = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return response;
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    if let Some(ct) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_bytes(&ct).unwrap());
    }
    if let Some(li) = limit_info {
        response.headers_mut().insert("sforce-limit-info", HeaderValue::from_bytes(&li).unwrap());
    }
    response
}

/// An object's profile entry with a default policy and an optional external id field.
pub fn object_profile(
    name: &str,
    conflict: ConflictPolicy,
    external_id: Option<&str>,
) -> ObjectProfile {
    ObjectProfile {
        name: name.into(),
        fields: FieldSelection::All,
        fetch_fields: vec!["Id".into(), "SystemModstamp".into()],
        filter: None,
        related_only: false,
        interval_secs: 900,
        conflict,
        field_conflicts: Default::default(),
        external_id: external_id.map(str::to_owned),
        max_records: None,
        parents: vec![],
        children: vec![],
    }
}

/// A devorg, a proxy in front of it, a client through the proxy and a store.
pub struct Env {
    pub org: RunningOrg,
    pub proxy: FaultProxy,
    pub client: Client,
    pub store: Store,
    pub clock: ManualClock,
    pub profile: Profile,
    pub sleeper: Arc<RecordingSleeper>,
    pub opts: UploadOptions,
    _dir: TempDir,
}

impl Env {
    /// Everything started, with Account and Contact registered in the store; Account
    /// upserts on `External_Id__c` when `account_external_id` is set.
    pub async fn start(account_external_id: bool) -> Env {
        let org = DevOrg::start(Config::default()).await.unwrap();
        let proxy = FaultProxy::start(org.url()).await;
        let app = OAuthApp::new(org.url(), DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET.into()));
        let mut session = app.login_password(ADMIN, DEMO_ADMIN_PASSWORD).await.unwrap();
        session.instance_url = proxy.url.clone();
        let client = Client::new(session, ClientConfig::default()).unwrap();

        let dir = TempDir::new().unwrap();
        let store = Store::open(&dir.path().join("store.db"), &StoreKey::generate()).unwrap();
        for object in ["Account", "Contact"] {
            let describe = client.describe(object).await.unwrap();
            let schema =
                store::objects::schema_from_json(&serde_json::to_value(describe).unwrap()).unwrap();
            store.ensure_object(&schema, &[]).unwrap();
        }
        proxy.clear_log();
        let ext = account_external_id.then_some("External_Id__c");
        let profile = Profile {
            objects: vec![
                object_profile("Account", ConflictPolicy::Manual, ext),
                object_profile("Contact", ConflictPolicy::Manual, None),
            ],
        };
        let sleeper = Arc::new(RecordingSleeper::default());
        let opts = UploadOptions {
            sleeper: sleeper.clone(),
            backoff: Backoff { base: Duration::from_millis(100), max: Duration::from_secs(5) },
            ..UploadOptions::default()
        };
        Env {
            org,
            proxy,
            client,
            store,
            clock: ManualClock::new(Utc::now()),
            profile,
            sleeper,
            opts,
            _dir: dir,
        }
    }

    pub async fn upload(&self) -> UploadReport {
        upload(&self.client, &self.store, &self.profile, &self.clock, &self.opts).await.unwrap()
    }

    /// Creates a record on the org as the admin and downloads it into the store.
    pub fn server_record(&self, object: &str, fields: Value) -> String {
        let id = self.org.admin().create(ADMIN, object, fields).unwrap();
        self.download(object, &id);
        id
    }

    /// Copies the org's current version of a record into the store, as a sync would.
    pub fn download(&self, object: &str, id: &str) {
        let record = self.org.admin().retrieve(ADMIN, object, id).unwrap();
        let record: Record = serde_json::from_value(record).unwrap();
        self.store.write(|tx| tx.upsert_records(object, &[record])).unwrap();
    }

    /// The org's record as the admin sees it.
    pub fn server(&self, object: &str, id: &str) -> Value {
        self.org.admin().retrieve(ADMIN, object, id).unwrap()
    }

    /// A local edit; returns the record id and the change's seq.
    pub fn edit(
        &self,
        object: &str,
        id: Option<&str>,
        op: ChangeOp,
        fields: Value,
    ) -> (String, i64) {
        let fields: Record = serde_json::from_value(fields).unwrap();
        let outcome = self
            .store
            .write(|tx| tx.record_edit(object, id, op, &fields, self.clock.now()))
            .unwrap();
        (outcome.record_id, outcome.seq.unwrap_or(-1))
    }

    pub fn queue(&self) -> Vec<PendingChange> {
        self.store.read(|r| r.pending_changes(&PendingFilter::default())).unwrap()
    }

    pub fn change(&self, seq: i64) -> PendingChange {
        self.store.read(|r| r.pending_change(seq)).unwrap()
    }

    pub fn local(&self, object: &str, id: &str) -> Option<Record> {
        self.store.read(|r| r.get_record(object, id)).unwrap()
    }

    /// Ids of the org's records of `object` matching a SOQL condition.
    pub async fn server_ids(&self, object: &str, condition: &str) -> Vec<String> {
        let soql = format!("SELECT Id FROM {object} WHERE {condition}");
        let page = self.client.query(&soql).await.unwrap();
        page.records.iter().map(|r| r["Id"].as_str().unwrap().to_owned()).collect()
    }

    pub fn delays(&self) -> Vec<Duration> {
        self.sleeper.delays.lock().unwrap().clone()
    }
}
