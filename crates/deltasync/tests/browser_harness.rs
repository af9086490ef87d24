//! Proves the browser harness works on this machine: Debian's Chromium, driven through
//! ChromeDriver, renders a page served on loopback and runs its script.

mod support;

use support::webdriver::Browser;

#[tokio::test]
async fn chromium_renders_a_loopback_page() -> anyhow::Result<()> {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            axum::response::Html(
                "<!doctype html><title>probe</title><p id=greeting>hello</p>\
                 <button id=b onclick=\"document.getElementById('greeting').textContent='clicked'\">go</button>",
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let browser = Browser::start().await?;
    browser.goto(&url).await?;
    let greeting = browser.find("#greeting").await?;
    assert_eq!(browser.text(&greeting).await?, "hello");
    let button = browser.find("#b").await?;
    browser.click(&button).await?;
    browser.wait_for_text("clicked", 5).await?;
    let shot = browser.screenshot("harness-probe").await?;
    assert!(std::fs::metadata(&shot)?.len() > 100, "the screenshot is empty");
    browser.quit().await;
    Ok(())
}
