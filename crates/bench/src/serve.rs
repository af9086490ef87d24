//! devorg alone under load: concurrent clients paging through a 20-field object with
//! 2,000-record pages, counting pages served per second and errors.

use std::time::{Duration, Instant};

use anyhow::Result;
use salesforce::client::OAuthApp;
use serde_json::Value;

use crate::seed::TECH;

/// Twenty WorkOrder fields.
const FIELDS: &str = "Id, OwnerId, IsDeleted, CreatedDate, CreatedById, LastModifiedDate, \
    LastModifiedById, SystemModstamp, WorkOrderNumber, Subject, Description, Status, Priority, \
    AccountId, AssetId, ContactId, City, PostalCode, Country, Duration";

/// Pages one client reads at most, so a run stays bounded at any scale.
const MAX_PAGES_PER_CLIENT: u32 = 20;

/// What one load run saw.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub pages_per_sec: f64,
    pub records_per_sec: f64,
    pub errors: u64,
}

/// Runs `clients` concurrent clients against the org at `url`.
pub async fn run(url: &str, clients: usize) -> Result<Load> {
    let app = OAuthApp::new(url, devorg::DEMO_CLIENT_ID, Some(devorg::DEMO_CLIENT_SECRET.into()));
    let mut tokens = Vec::with_capacity(clients);
    for _ in 0..clients {
        tokens.push(app.login_password(TECH, devorg::DEMO_TECH_PASSWORD).await?.access_token);
    }
    let base = url.trim_end_matches('/').to_string();
    let query = format!("{base}/services/data/v62.0/query?q=SELECT+{}+FROM+WorkOrder", {
        FIELDS.replace(", ", ",").replace(' ', "+")
    });

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for token in tokens {
        let (base, query) = (base.clone(), query.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build();
            let Ok(http) = http else { return (0u64, 0u64, 1u64) };
            let (mut pages, mut records, mut errors) = (0, 0, 0);
            let mut next = Some(query);
            while let Some(url) = next.take() {
                if pages >= u64::from(MAX_PAGES_PER_CLIENT) {
                    break;
                }
                let sent = http
                    .get(&url)
                    .bearer_auth(&token)
                    .header("Sforce-Query-Options", "batchSize=2000")
                    .send()
                    .await;
                let page: Option<Value> = match sent {
                    Ok(r) if r.status().is_success() => r.json().await.ok(),
                    _ => None,
                };
                let Some(page) = page else {
                    errors += 1;
                    break;
                };
                pages += 1;
                records += page["records"].as_array().map_or(0, |r| r.len() as u64);
                next = page["nextRecordsUrl"].as_str().map(|p| format!("{base}{p}"));
            }
            (pages, records, errors)
        }));
    }
    let (mut pages, mut records, mut errors) = (0, 0, 0);
    for task in tasks {
        match task.await {
            Ok((p, r, e)) => {
                pages += p;
                records += r;
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    Ok(Load { pages_per_sec: pages as f64 / secs, records_per_sec: records as f64 / secs, errors })
}
