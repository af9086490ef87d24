//! A small W3C WebDriver client that drives Debian's Chromium through ChromeDriver.
//!
//! Only the handful of commands the browser tests need: navigate, find, click, type,
//! read text, run a script and take a screenshot. Every call is plain JSON over HTTP on
//! loopback, as the WebDriver specification defines it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running ChromeDriver with one headless Chromium session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

/// A handle to one element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(9515)
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with a phone-sized window.
    pub async fn start() -> anyhow::Result<Browser> {
        Browser::start_in_zone(None).await
    }

    /// As [`Browser::start`], with the browser in time zone `tz` (an IANA name, given to
    /// ChromeDriver and so to Chromium as `TZ`).
    pub async fn start_in_zone(tz: Option<&str>) -> anyhow::Result<Browser> {
        let port = free_port();
        let mut command = Command::new("chromedriver");
        if let Some(tz) = tz {
            command.env("TZ", tz);
        }
        let driver = command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!("cannot start chromedriver (is chromium-driver installed?): {e}")
            })?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();

        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(resp) = http.get(format!("{base}/status")).send().await
                && resp.status().is_success()
            {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "chromedriver did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let profile = tempfile::tempdir()?;
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=390,844".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium_binary(), "args": args}
        }}});
        let resp: Value =
            http.post(format!("{base}/session")).json(&caps).send().await?.json().await?;
        let session = resp["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("chromedriver refused a session: {resp}"))?
            .to_string();
        Ok(Browser { driver, base, session, http, _profile: profile })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp: Value = req.send().await?.json().await?;
        if let Some(err) = resp["value"].get("error") {
            anyhow::bail!("webdriver {path}: {err}: {}", resp["value"]["message"]);
        }
        Ok(resp["value"].clone())
    }

    /// Opens a URL and waits for the page to load.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await.map(drop)
    }

    /// The first element matching a CSS selector, waiting up to five seconds for it.
    pub async fn find(&self, css: &str) -> anyhow::Result<Element> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self
                .call(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            match found {
                Ok(v) => {
                    let id = v[ELEMENT_KEY].as_str().unwrap_or_default().to_string();
                    return Ok(Element(id));
                }
                Err(e) if Instant::now() >= deadline => {
                    return Err(e.context(format!("find '{css}'")));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Clicks an element, first scrolling it to the middle of the viewport so fixed bars
    /// cannot cover it.
    pub async fn click(&self, el: &Element) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "arguments[0].scrollIntoView({block: 'center'}); return true",
                "args": [{ELEMENT_KEY: el.0}]
            })),
        )
        .await?;
        self.call(reqwest::Method::POST, &format!("/element/{}/click", el.0), Some(json!({})))
            .await
            .map(drop)
    }

    /// Replaces an input's value by typing text into it.
    pub async fn fill(&self, el: &Element, text: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, &format!("/element/{}/clear", el.0), Some(json!({})))
            .await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", el.0),
            Some(json!({"text": text})),
        )
        .await
        .map(drop)
    }

    /// The rendered text of an element.
    pub async fn text(&self, el: &Element) -> anyhow::Result<String> {
        let v = self.call(reqwest::Method::GET, &format!("/element/{}/text", el.0), None).await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Runs a script in the page and returns its result.
    pub async fn script(&self, script: &str) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Runs a script in the page with `args` (a JSON array, as `arguments`).
    pub async fn script_with(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Waits until the page's body text contains `needle`, for up to `secs` seconds.
    pub async fn wait_for_text(&self, needle: &str, secs: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let body = self.script("return document.body ? document.body.innerText : ''").await?;
            if body.as_str().is_some_and(|b| b.contains(needle)) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "page never showed '{needle}'; it shows:\n{body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The text of an open `alert()` dialog, if one is open.
    pub async fn open_alert(&self) -> Option<String> {
        let v = self.call(reqwest::Method::GET, "/alert/text", None).await.ok()?;
        Some(v.as_str().unwrap_or_default().to_string())
    }

    /// The page body's rendered text.
    pub async fn body_text(&self) -> anyhow::Result<String> {
        let v = self.script("return document.body ? document.body.innerText : ''").await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Waits until the page's body text no longer contains `needle`.
    pub async fn wait_for_no_text(&self, needle: &str, secs: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let body = self.body_text().await?;
            if !body.contains(needle) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "page still shows '{needle}'; it shows:\n{body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Saves a PNG screenshot of the viewport under `target/screenshots/`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        let png =
            base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default())?;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the session and stops ChromeDriver.
    pub async fn quit(mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(url).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

fn chromium_binary() -> String {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).exists() {
            return candidate.to_string();
        }
    }
    "chromium".to_string()
}

/// Where screenshots go: `target/screenshots` at the workspace root.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}
