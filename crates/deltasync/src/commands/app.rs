//! `deltasync app` and `deltasync demo`: the long-running app with its web app, and the
//! self-contained demo around it. Both run until Ctrl-C or SIGTERM, then stop cleanly.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use deltasync::app::{self, AppHandle, AppOptions, DemoOptions, Identity};
use deltasync::device::Access;
use deltasync::web;

use super::Ctx;
use super::progress::ProgressView;
use crate::cli::{AppArgs, DemoArgs};

/// Binds the web app's listener, refusing any address that is not loopback.
async fn bind_web(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let addr: SocketAddr =
        addr.parse().with_context(|| format!("--addr '{addr}' is not an IP address and port"))?;
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "--addr {addr}: the web app only listens on this machine (use 127.0.0.1)"
    );
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is another app running?)"))
}

/// Resolves when the user presses Ctrl-C or the process gets SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn announce(url: &str, handle: &AppHandle) {
    let status = handle.status();
    say!("deltasync is running for {}.", status.identity.username);
    say!("Open the field app: {url}");
    say!("Press Ctrl-C to stop.");
}

pub async fn run_app(ctx: &Ctx, args: AppArgs) -> anyhow::Result<ExitCode> {
    let device = ctx.open(Access::Write)?;
    let saved = device.session()?;
    let engine = device.engine().await?;
    let identity = Identity {
        user_id: saved.session.user_id.clone(),
        username: saved.username.clone(),
        org_id: saved.session.org_id.clone(),
        instance_url: saved.session.instance_url.clone(),
    };
    let handle = AppHandle::new(Arc::new(engine), device.clock().clone(), identity);
    let listener = bind_web(&args.addr).await?;
    let (url, web_task) = web::serve(handle.clone(), listener).await;
    announce(&url, &handle);

    let result = app::run(handle, AppOptions::default(), shutdown_signal()).await;
    web_task.abort();
    result?;
    eprintln!("deltasync stopped; the store is consistent.");
    Ok(ExitCode::SUCCESS)
}

pub async fn run_demo(ctx: &Ctx, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let data_dir = ctx.dir()?.join("demo");
    say!("Starting devorg with {} field-service records in {}", args.records, data_dir.display());
    let options = DemoOptions {
        data_dir,
        org_port: 0,
        app: AppOptions::default(),
        records: usize::try_from(args.records).unwrap_or(usize::MAX),
    };
    let listener = bind_web(&args.addr).await?;
    let mut view = ProgressView::new(ctx.json);
    let demo = app::demo(options, &mut |event| view.event(event)).await?;
    say!(
        "devorg: {} (log in as {} / {})",
        demo.org.url(),
        app::DEMO_USER,
        devorg::DEMO_TECH_PASSWORD
    );
    let (url, web_task) = web::serve(demo.handle.clone(), listener).await;
    announce(&url, &demo.handle);

    shutdown_signal().await;
    web_task.abort();
    demo.shutdown().await?;
    eprintln!("demo stopped; its data stays in the data folder for the next run.");
    Ok(ExitCode::SUCCESS)
}
