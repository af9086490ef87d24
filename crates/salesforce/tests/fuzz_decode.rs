//! Generated answers for every call of the client, over real HTTP on loopback: random
//! JSON, valid bodies truncated or with a value swapped for one of another type, proxy
//! HTML pages and random bytes. Decoding never panics, and every error names the problem.
//!
//! The case count and seed are fixed so a run is reproducible; failures found are kept
//! in `proptest-regressions/` and replayed first.

mod scripted;

use std::sync::{Arc, Mutex, OnceLock};

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};
use salesforce::wire::Record;
use salesforce::{Client, ClientConfig, Error, Session};
use scripted::{Response, Server, serve};
use serde_json::{Value, json};

const ID: &str = "001000000000001AAA";

/// Every call the client makes, each with a valid answer to mutate.
const CALLS: usize = 16;

fn valid_body(call: usize) -> Value {
    let record = json!({"attributes": {"type": "Account", "url": "/x"}, "Id": ID, "Name": "A"});
    let save = json!({"id": ID, "success": true, "errors": [], "created": true});
    match call {
        0 | 1 => json!({"totalSize": 1, "done": false, "nextRecordsUrl": "/q/01g-2000",
                        "records": [record]}),
        2 => record,
        3 => save,
        4 | 5 => json!([{"message": "m", "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}]),
        6 => json!([save, {"success": false, "errors": [{"statusCode": "X", "message": "m",
                                                         "fields": ["Name"]}]}]),
        7 => json!([record, null]),
        8 => json!({"name": "Account", "label": "Account", "custom": false, "queryable": true,
                    "replicateable": true, "keyPrefix": "001", "fields": [{"name": "Id",
                    "type": "id", "label": "Id", "nillable": false, "updateable": false,
                    "createable": false, "referenceTo": [], "relationshipName": null}],
                    "childRelationships": []}),
        9 => json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [{"name": "Account",
                    "label": "Account", "keyPrefix": "001", "queryable": true,
                    "replicateable": true, "custom": false}]}),
        10 => json!({"DailyApiRequests": {"Max": 15000, "Remaining": 14000}}),
        11 => json!({"ids": [ID], "latestDateCovered": "2026-05-04T08:00:00.000+0000"}),
        12 => json!({"deletedRecords": [{"id": ID, "deletedDate": "2026-05-04T08:00:00.000+0000"}],
                     "earliestDateAvailable": "2026-04-01T00:00:00.000+0000",
                     "latestDateCovered": "2026-05-04T08:00:00.000+0000"}),
        13 => json!([{"version": "62.0", "label": "Summer '24", "url": "/services/data/v62.0"}]),
        14 => json!({"sobjects": "/services/data/v62.0/sobjects", "query": "/q"}),
        _ => json!({"sub": "x", "user_id": "005000000000001AAA",
                    "organization_id": "00D000000000001AAA", "preferred_username": "a@b.c"}),
    }
}

/// Runs client call number `call` against the server.
async fn run_call(client: &Client, call: usize) -> Result<(), Error> {
    let record: Record = serde_json::from_value(json!({"Name": "A"})).unwrap();
    let t = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    match call {
        0 => client.query("SELECT Id FROM Account").await.map(drop),
        1 => client.query_more("/services/data/v62.0/query/01g-2000").await.map(drop),
        2 => client.retrieve("Account", ID, &["Id", "Name"]).await.map(drop),
        3 => client.create("Account", &record).await.map(drop),
        4 => client.update("Account", ID, &record).await.map(drop),
        5 => client.delete("Account", ID).await.map(drop),
        6 => client.create_many("Account", &[record.clone(), record], false).await.map(drop),
        7 => client.retrieve_many("Account", &[ID, ID], &["Id"]).await.map(drop),
        8 => client.describe("Account").await.map(drop),
        9 => client.describe_global().await.map(drop),
        10 => client.limits().await.map(drop),
        11 => client.updated("Account", t, t).await.map(drop),
        12 => client.deleted("Account", t, t).await.map(drop),
        13 => client.versions().await.map(drop),
        14 => client.resources().await.map(drop),
        _ => client.userinfo().await.map(drop),
    }
}

/// A loopback server answering whatever the current case put in `answer`, shared by all
/// cases of a test binary.
struct Harness {
    runtime: tokio::runtime::Runtime,
    answer: Arc<Mutex<Response>>,
    client: Client,
    _server: Server,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answer = Arc::new(Mutex::new(Response::raw(200, "application/json", "{}")));
        let shared = answer.clone();
        let server = runtime.block_on(serve(move |_| shared.lock().unwrap().clone()));
        let session = Session {
            instance_url: server.url.clone(),
            access_token: "token".into(),
            refresh_token: None,
            org_id: "00D000000000001AAA".into(),
            user_id: "005000000000001AAA".into(),
            issued_at: None,
        };
        let config =
            ClientConfig { timeout: std::time::Duration::from_secs(10), ..Default::default() };
        let client = Client::new(session, config).unwrap();
        Harness { runtime, answer, client, _server: server }
    })
}

/// The tests share one server and its answer, so cases run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Answers `body` with `status` and `content_type` to call `call`; the outcome must be
/// a success or an error whose message says what went wrong.
fn answer(
    call: usize,
    status: u16,
    content_type: &'static str,
    body: String,
) -> Result<(), TestCaseError> {
    let _one_case_at_a_time = serial();
    let h = harness();
    *h.answer.lock().unwrap() = Response::raw(status, content_type, &body);
    let outcome = h.runtime.block_on(run_call(&h.client, call));
    let Err(e) = outcome else { return Ok(()) };
    let message = e.to_string();
    prop_assert!(!message.trim().is_empty(), "error without a message: {:?}", e);
    if let Error::Decode { what, detail, .. } = &e {
        prop_assert!(!what.is_empty(), "decode error does not say what was read");
        if !content_type.contains("json") && status < 300 && !body.is_empty() {
            prop_assert!(
                detail.contains(content_type),
                "decode error {:?} does not name the content type {}",
                detail,
                content_type
            );
        }
    }
    Ok(())
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from(ID)),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "Id",
                    "id",
                    "records",
                    "done",
                    "totalSize",
                    "nextRecordsUrl",
                    "success",
                    "errors",
                    "errorCode",
                    "message",
                    "fields",
                    "ids",
                    "deletedRecords",
                    "latestDateCovered",
                    "sobjects",
                    "name",
                    "type",
                    "attributes",
                    "x",
                ]),
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Replaces the `nth` value found walking `body` with `with`.
fn swap_value(body: &mut Value, nth: &mut usize, with: &Value) -> bool {
    if *nth == 0 {
        *body = with.clone();
        return true;
    }
    *nth -= 1;
    match body {
        Value::Array(items) => items.iter_mut().any(|v| swap_value(v, nth, with)),
        Value::Object(map) => map.values_mut().any(|v| swap_value(v, nth, with)),
        _ => false,
    }
}

const STATUSES: &[u16] = &[200, 200, 200, 201, 204, 300, 400, 401, 403, 404, 500, 502, 503];

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_0002),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz_decode.txt",
        ))),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn random_json_never_panics(
        call in 0..CALLS, status in prop::sample::select(STATUSES), body in any_json()
    ) {
        answer(call, status, "application/json;charset=UTF-8", body.to_string())?;
    }

    #[test]
    fn truncated_bodies_never_panic(
        call in 0..CALLS, status in prop::sample::select(STATUSES), cut in any::<prop::sample::Index>()
    ) {
        let body = valid_body(call).to_string();
        let at = cut.index(body.len().max(1));
        answer(call, status, "application/json", body[..at].to_string())?;
    }

    #[test]
    fn swapped_types_never_panic(
        call in 0..CALLS, nth in 0usize..40, with in any_json()
    ) {
        let mut body = valid_body(call);
        let mut n = nth;
        swap_value(&mut body, &mut n, &with);
        answer(call, 200, "application/json", body.to_string())?;
    }

    #[test]
    fn html_and_bytes_never_panic(
        call in 0..CALLS,
        status in prop::sample::select(STATUSES),
        html in prop::bool::ANY,
        bytes in prop::collection::vec(any::<u8>(), 0..200)
    ) {
        let (content_type, body) = if html {
            ("text/html", format!("<html><body><h1>502 Bad Gateway</h1>{}</body></html>",
                                  String::from_utf8_lossy(&bytes)))
        } else {
            ("application/octet-stream", String::from_utf8_lossy(&bytes).into_owned())
        };
        answer(call, status, content_type, body)?;
    }
}

/// A proxy's HTML page instead of a query result says so, with the status it came with.
#[test]
fn proxy_html_page_is_named_in_the_error() {
    let _one_case_at_a_time = serial();
    let h = harness();
    let page = "<html><body>Gateway timeout</body></html>".to_string();
    *h.answer.lock().unwrap() = Response::raw(504, "text/html", &page);
    let err = h.runtime.block_on(h.client.query("SELECT Id FROM Account")).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("text/html") && message.contains("504"), "{message}");
    assert!(err.is_transient(), "a gateway page is worth retrying: {message}");
}
