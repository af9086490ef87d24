//! `devorg`: runs a development org until interrupted.
//!
//! ```text
//! devorg --addr 127.0.0.1:8080 --data-dir ./org-data
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

/// A local server that speaks the Salesforce REST API.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "DEVORG_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Directory for the org's database; without it everything stays in memory.
    #[arg(long, env = "DEVORG_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Extra objects and fields (JSON or TOML).
    #[arg(long, env = "DEVORG_SCHEMA")]
    schema: Option<PathBuf>,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 7200)]
    token_ttl_secs: u64,
    /// API requests allowed per day.
    #[arg(long, default_value_t = 15_000)]
    api_daily_limit: u64,
    /// Serve HTTPS with a self-signed certificate (its authority is written as `ca.pem`).
    #[arg(long)]
    tls: bool,
    /// Demo data to load into an empty org: `field-service`.
    #[arg(long, value_parser = ["field-service"])]
    seed: Option<String>,
    /// Records the seed writes.
    #[arg(long, default_value_t = 10_000)]
    records: usize,
    /// Seeds the seed's generator; the same value gives the same data.
    #[arg(long, default_value_t = 1)]
    seed_value: u64,
    /// X.509 certificate (or RSA public key), PEM, that the demo connected app's JWT
    /// bearer logins are signed for.
    #[arg(long, env = "DEVORG_JWT_CERTIFICATE")]
    jwt_certificate: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let mut connected_apps = devorg::Config::default().connected_apps;
    if let Some(path) = &args.jwt_certificate {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        devorg::jwt_bearer::public_key(&pem).with_context(|| format!("{}", path.display()))?;
        for app in &mut connected_apps {
            app.jwt_certificate = Some(pem.clone());
        }
    }
    let config = devorg::Config {
        connected_apps,
        addr: args.addr,
        data_dir: args.data_dir,
        schema_file: args.schema,
        token_ttl: Duration::from_secs(args.token_ttl_secs),
        api_daily_limit: args.api_daily_limit,
        tls: args.tls,
        seed: args.seed.map(|_| devorg::SeedOptions {
            records: args.records,
            seed: args.seed_value,
            now: None,
        }),
        ..Default::default()
    };
    let org = devorg::DevOrg::start(config).await.context("starting the org")?;
    println!("devorg listening on {}", org.url());
    if let Some(ca) = org.ca_pem_path() {
        println!("trust the certificate authority in {}", ca.display());
    }
    println!(
        "log in with admin@devorg.example / {} (client {} / {})",
        devorg::DEMO_ADMIN_PASSWORD,
        devorg::DEMO_CLIENT_ID,
        devorg::DEMO_CLIENT_SECRET
    );
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    org.shutdown().await;
    Ok(())
}
