//! API usage accounting: `limits`, `Sforce-Limit-Info`, `REQUEST_LIMIT_EXCEEDED`.

mod common;

use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn usage_is_reported_and_enforced() {
    let org = start_with(devorg::Config { api_daily_limit: 5, ..Default::default() }).await;
    let api = admin(&org).await;
    let (status, body) = api.get("/limits").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["DailyApiRequests"]["Max"], 5);
    assert_eq!(body["DailyApiRequests"]["Remaining"], 4);

    let resp = api.send(reqwest::Method::GET, "/sobjects", None).await;
    assert_eq!(resp.headers()["Sforce-Limit-Info"], "api-usage=2/5");
    for _ in 0..3 {
        assert_eq!(api.get("/sobjects").await.0, StatusCode::OK);
    }
    let (status, body) = api.get("/sobjects").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "REQUEST_LIMIT_EXCEEDED");

    // A new day resets the quota.
    org.clock().advance(chrono::Duration::days(1));
    let api = admin(&org).await;
    assert_eq!(api.get("/sobjects").await.0, StatusCode::OK);
}
