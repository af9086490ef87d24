//! devorg alone: concurrent clients paging through a 20-field object with 2,000-record
//! pages (pages served per second and errors), and the time one client waits for one page.
//!
//! Each concurrent client is a user of its own. Salesforce (and devorg) keeps at most ten
//! open query cursors per user and drops the oldest, so fifty clients sharing one login
//! would invalidate each other's `nextRecordsUrl` locators.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use devorg::{RunningOrg, Sharing};
use salesforce::client::OAuthApp;
use serde_json::Value;

/// Twenty WorkOrder fields.
const FIELDS: &str = "Id, OwnerId, IsDeleted, CreatedDate, CreatedById, LastModifiedDate, \
    LastModifiedById, SystemModstamp, WorkOrderNumber, Subject, Description, Status, Priority, \
    AccountId, AssetId, ContactId, City, PostalCode, Country, Duration";

/// Pages one client reads at most, so a run stays bounded at any scale.
const MAX_PAGES_PER_CLIENT: u32 = 20;

/// Records per page asked for.
pub const PAGE_SIZE: u32 = 2000;

/// How long one page may take before it counts as an error.
const PAGE_TIMEOUT: Duration = Duration::from_secs(120);

/// What one load run saw.
#[derive(Debug, Clone)]
pub struct Load {
    pub pages_per_sec: f64,
    pub records_per_sec: f64,
    pub errors: u64,
    /// The first failure, as devorg reported it (status, error code, message).
    pub first_error: Option<String>,
}

/// The users the concurrent clients log in as: `loadtech1@field.example` and on, created
/// on first use. While the load runs, work orders are public read-only, so that every
/// client pages through the same work orders under its own user.
pub struct LoadUsers {
    usernames: Vec<String>,
}

impl LoadUsers {
    /// Creates the `clients` users that do not exist yet and opens work orders for reading.
    pub fn prepare(org: &RunningOrg, clients: usize) -> Result<LoadUsers> {
        let admin = org.admin();
        let mut usernames = Vec::with_capacity(clients);
        for i in 1..=clients {
            let username = format!("loadtech{i}@field.example");
            if admin.user_id(&username).is_none() {
                admin
                    .create_user(&username, &format!("Load Technician {i}"), PASSWORD, false)
                    .map_err(|e| anyhow::anyhow!("creating {username}: {}", e.message))?;
            }
            usernames.push(username);
        }
        admin
            .set_sharing("WorkOrder", Sharing::Read)
            .map_err(|e| anyhow::anyhow!("opening work orders: {}", e.message))?;
        Ok(LoadUsers { usernames })
    }

    /// Puts work orders back to private.
    pub fn finish(self, org: &RunningOrg) -> Result<()> {
        org.admin()
            .set_sharing("WorkOrder", Sharing::Private)
            .map_err(|e| anyhow::anyhow!("closing work orders: {}", e.message))
    }
}

/// The password of the load users.
const PASSWORD: &str = devorg::DEMO_TECH_PASSWORD;

fn app(url: &str) -> OAuthApp {
    OAuthApp::new(url, devorg::DEMO_CLIENT_ID, Some(devorg::DEMO_CLIENT_SECRET.into()))
}

fn first_page_url(base: &str) -> String {
    let fields = FIELDS.replace(", ", ",").replace(' ', "+");
    format!("{base}/services/data/v62.0/query?q=SELECT+{fields}+FROM+WorkOrder")
}

fn http() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(PAGE_TIMEOUT).build()?)
}

/// Asks for one page and reads its body; a failure says what devorg answered
/// (`HTTP 400 CODE: message`).
async fn fetch_body(http: &reqwest::Client, url: &str, token: &str) -> Result<Vec<u8>, String> {
    let response = http
        .get(url)
        .bearer_auth(token)
        .header("Sforce-Query-Options", format!("batchSize={PAGE_SIZE}"))
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    let status = response.status();
    let body =
        response.bytes().await.map_err(|e| format!("body unreadable: {}", e.without_url()))?;
    if !status.is_success() {
        let detail = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| {
                let e = v.get(0)?;
                Some(format!("{}: {}", e["errorCode"].as_str()?, e["message"].as_str()?))
            })
            .unwrap_or_else(|| "no Salesforce error in the body".into());
        return Err(format!("HTTP {} {detail}", status.as_u16()));
    }
    Ok(body.to_vec())
}

fn parse_page(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))
}

async fn fetch_page(http: &reqwest::Client, url: &str, token: &str) -> Result<Value, String> {
    parse_page(&fetch_body(http, url, token).await?)
}

fn next_url(base: &str, page: &Value) -> Option<String> {
    page["nextRecordsUrl"].as_str().map(|p| format!("{base}{p}"))
}

fn record_count(page: &Value) -> u64 {
    page["records"].as_array().map_or(0, |r| r.len() as u64)
}

/// What one client did: pages, records, and the error that stopped it, if any.
async fn page_through(
    http: reqwest::Client,
    base: String,
    token: String,
) -> (u64, u64, Option<String>) {
    let (mut pages, mut records) = (0, 0);
    let mut next = Some(first_page_url(&base));
    while let Some(url) = next.take() {
        if pages >= u64::from(MAX_PAGES_PER_CLIENT) {
            break;
        }
        match fetch_page(&http, &url, &token).await {
            Ok(page) => {
                pages += 1;
                records += record_count(&page);
                next = next_url(&base, &page);
            }
            Err(e) => return (pages, records, Some(e)),
        }
    }
    (pages, records, None)
}

/// Runs one concurrent client per load user against the org at `url`.
pub async fn run(url: &str, users: &LoadUsers) -> Result<Load> {
    let app = app(url);
    // Each client has its own connection; all are set up before the clock starts.
    let mut clients = Vec::with_capacity(users.usernames.len());
    for username in &users.usernames {
        let session = app
            .login_password(username, PASSWORD)
            .await
            .with_context(|| format!("logging in as {username}"))?;
        clients.push((http()?, session.access_token));
    }
    let base = url.trim_end_matches('/').to_string();

    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(http, token)| tokio::spawn(page_through(http, base.clone(), token)))
        .collect();
    let (mut pages, mut records, mut errors, mut first_error) = (0, 0, 0, None);
    for task in tasks {
        let (p, r, error) = match task.await {
            Ok(outcome) => outcome,
            Err(e) => (0, 0, Some(format!("client task: {e}"))),
        };
        pages += p;
        records += r;
        if let Some(e) = error {
            errors += 1;
            first_error.get_or_insert(e);
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    Ok(Load {
        pages_per_sec: pages as f64 / secs,
        records_per_sec: records as f64 / secs,
        errors,
        first_error,
    })
}

/// Milliseconds each of `pages` pages took for one client alone, logged in as `username`
/// (first pages and `nextRecordsUrl` pages as they come; the query starts over when it is
/// done), from sending the request to the last byte of the body. Only full pages count:
/// [`PAGE_SIZE`] records, or all of them when the user sees fewer (a small store).
pub async fn page_times(url: &str, username: &str, pages: usize) -> Result<Vec<f64>> {
    let token = app(url).login_password(username, PASSWORD).await?.access_token;
    let base = url.trim_end_matches('/').to_string();
    let http = http()?;
    let mut times = Vec::with_capacity(pages);
    let mut next = None;
    while times.len() < pages {
        let url = next.take().unwrap_or_else(|| first_page_url(&base));
        let started = Instant::now();
        let body = fetch_body(&http, &url, &token).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let page = body
            .and_then(|b| parse_page(&b))
            .map_err(|e| anyhow::anyhow!("one page as {username}: {e}"))?;
        let total = page["totalSize"].as_u64().unwrap_or(0);
        if total == 0 {
            bail!("{username} sees no work orders");
        }
        if record_count(&page) == total.min(u64::from(PAGE_SIZE)) {
            times.push(ms);
        }
        next = next_url(&base, &page);
    }
    Ok(times)
}
