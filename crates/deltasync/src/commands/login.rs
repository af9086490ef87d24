//! `deltasync login`: password, browser (authorization code with PKCE on a loopback
//! redirect) or JWT bearer login; then priming with progress, recorded as an `initial`
//! sync in history.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use deltasync::device::{Device, LoginMethod, SavedSession, run_sync};
use salesforce::client::{Client, ClientConfig, OAuthApp, Pkce, Session, random_state};
use serde_json::json;
use store::history::SyncKind as Trigger;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::Ctx;
use super::output::{key_home_json, print_json};
use super::progress::ProgressView;
use crate::cli::LoginArgs;

/// How long the browser login waits for the redirect.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn run(ctx: &Ctx, args: LoginArgs) -> anyhow::Result<ExitCode> {
    let dir = ctx.dir()?;
    let app = OAuthApp::new(&args.url, &args.client_id, args.client_secret.clone());
    let (device, engine) = if args.browser {
        let session = browser_login(&app).await?;
        let username = username_of(&session).await?;
        let saved = saved(&args, session, username, LoginMethod::Browser);
        Device::login(&dir, saved, args.profile.as_deref()).await?
    } else if let Some(key_file) = &args.jwt_key {
        let Some(username) = &args.username else { bail!("--jwt-key needs --username") };
        let pem = std::fs::read_to_string(key_file)
            .with_context(|| format!("cannot read {}", key_file.display()))?;
        let session =
            app.login_jwt(username, &pem).await.map_err(deltasync::device::DeviceError::from)?;
        let method = LoginMethod::Jwt { key_file: std::path::absolute(key_file)? };
        let saved = saved(&args, session, username.clone(), method);
        Device::login(&dir, saved, args.profile.as_deref()).await?
    } else {
        let (Some(username), Some(password)) = (&args.username, &args.password) else {
            bail!("login needs --username and --password, --browser, or --jwt-key with --username");
        };
        let login = Device::login_password(
            &dir,
            &args.url,
            username,
            password,
            &args.client_id,
            args.client_secret.clone(),
            args.profile.as_deref(),
        )
        .await;
        match login {
            Err(e) if args.client_secret.is_none() && e.to_string().contains("invalid_client") => {
                bail!(
                    "{e}: a password login needs the connected app's secret \
                     (--client-secret or DELTASYNC_CLIENT_SECRET)"
                )
            }
            other => other?,
        }
    };

    let saved = device.session()?;
    if !ctx.json {
        say!("Logged in as {} (org {}).", saved.username, saved.session.org_id);
        say!("Store key: in {}.", device.key_home());
    }
    let mut view = ProgressView::new(ctx.json);
    let run = run_sync(&engine, Trigger::Initial, engine::SyncKind::Delta, &mut |e| view.event(e))
        .await?;
    let records: u64 = device.store().read(|r| {
        let mut total = 0;
        for name in r.catalog().names() {
            total += r.count(&name)?;
        }
        Ok(total)
    })?;
    if ctx.json {
        print_json(&json!({
            "username": saved.username,
            "user_id": saved.session.user_id,
            "org_id": saved.session.org_id,
            "instance_url": saved.session.instance_url,
            "event_id": run.event_id,
            "records": records,
            "objects": run.report.objects,
            "store_key": key_home_json(device.key_home()),
        }));
    } else {
        say!("Primed {records} records in {} objects.", run.report.objects.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn saved(
    args: &LoginArgs,
    session: Session,
    username: String,
    method: LoginMethod,
) -> SavedSession {
    SavedSession {
        session,
        login_url: args.url.clone(),
        username,
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        method,
    }
}

/// The username of a session, from the userinfo endpoint.
async fn username_of(session: &Session) -> anyhow::Result<String> {
    let client = Client::new(session.clone(), ClientConfig::default())?;
    let info = client.userinfo().await.context("cannot read who logged in")?;
    Ok(info.preferred_username)
}

/// Authorization code with PKCE: a loopback listener takes the redirect.
async fn browser_login(app: &OAuthApp) -> anyhow::Result<Session> {
    let listener =
        TcpListener::bind("127.0.0.1:0").await.context("cannot listen for the login redirect")?;
    let port = listener.local_addr()?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let pkce = Pkce::generate();
    let state = random_state();
    let url = app.authorize_url(&redirect_uri, &pkce, &state);

    eprintln!("Open this address in a browser to log in:\n  {url}");
    let opened = std::process::Command::new("xdg-open")
        .arg(&url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok();
    if opened {
        eprintln!("(opened in the system browser)");
    }

    let code = tokio::time::timeout(BROWSER_TIMEOUT, wait_for_code(&listener, &state))
        .await
        .context("no login within 5 minutes")??;
    Ok(app
        .exchange_code(&code, &redirect_uri, &pkce)
        .await
        .map_err(deltasync::device::DeviceError::from)?)
}

/// Answers redirects until one carries the code for `state`.
async fn wait_for_code(listener: &TcpListener, state: &str) -> anyhow::Result<String> {
    loop {
        let (mut socket, _) = listener.accept().await?;
        let mut buf = vec![0u8; 8192];
        let n = socket.read(&mut buf).await?;
        let request = String::from_utf8_lossy(&buf[..n]);
        let target = request.split_whitespace().nth(1).unwrap_or("/");
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let (status, body, result) = match (get("code"), get("state"), get("error")) {
            (_, _, Some(error)) => {
                let description = get("error_description").unwrap_or_default();
                (
                    "400 Bad Request",
                    "Login failed; see the terminal.",
                    Some(Err(anyhow::anyhow!("login refused: {description} ({error})"))),
                )
            }
            (Some(code), Some(s), None) if s == state => {
                ("200 OK", "Logged in. You can close this tab.", Some(Ok(code)))
            }
            _ => ("404 Not Found", "Not the login redirect.", None),
        };
        let page = format!("<!doctype html><title>deltasync</title><p>{body}</p>");
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
        if let Some(result) = result {
            return result;
        }
    }
}
