//! Every response carries an HTTP `Date` (IMF-fixdate) taken from the org's clock.

mod common;

use common::{admin, pinned_org};
use reqwest::StatusCode;
use reqwest::header::DATE;

fn date_of(resp: &reqwest::Response) -> String {
    resp.headers().get(DATE).expect("a Date header").to_str().unwrap().to_string()
}

#[tokio::test]
async fn responses_are_dated_by_the_org_clock() {
    let org = pinned_org("2026-03-01T09:15:42.250Z").await;
    let api = admin(&org).await;

    // A REST call, an unauthenticated resource and an error all say the org's time.
    let rest = api.send(reqwest::Method::GET, "/limits", None).await;
    assert_eq!(rest.status(), StatusCode::OK);
    assert_eq!(date_of(&rest), "Sun, 01 Mar 2026 09:15:42 GMT");
    let versions = api.http.get(format!("{}/services/data", org.url())).send().await.unwrap();
    assert_eq!(date_of(&versions), "Sun, 01 Mar 2026 09:15:42 GMT");
    let refused = api.http.get(api.url("/limits")).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(date_of(&refused), "Sun, 01 Mar 2026 09:15:42 GMT");

    // Moving the clock moves the header.
    org.clock().advance(chrono::Duration::minutes(61));
    let later = api.send(reqwest::Method::GET, "/sobjects/Nope/describe", None).await;
    assert_eq!(later.status(), StatusCode::NOT_FOUND);
    assert_eq!(date_of(&later), "Sun, 01 Mar 2026 10:16:42 GMT");
    org.shutdown().await;
}
