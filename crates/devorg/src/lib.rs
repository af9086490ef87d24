//! devorg: a local server that speaks the Salesforce REST API closely enough that
//! deltasync, jsforce and simple-salesforce cannot tell it from a real org.
//!
//! # Layout
//!
//! - [`DevOrg::start`] / [`RunningOrg`] (this file): start, address, shutdown, test handles.
//! - [`admin`]: server-side edits as any user, sharing settings, recycle bin, token expiry.
//! - [`clock`]: the controllable clock every timestamp comes from.
//! - [`schema`]: objects and fields (standard objects plus a JSON/TOML schema file),
//!   sharing models and validation rules; projected onto `soql::schema` for queries.
//! - [`db`]: the SQLite file (or in-memory database): one table per object as
//!   `soql::schema` lays out, plus `_`-prefixed bookkeeping tables; ids and seed users.
//! - [`planner_stats`]: `PRAGMA optimize` on open, after every so many rows written and
//!   at shutdown, so a long-running org's query plans follow its data.
//! - [`auth`]: password hashes, access / refresh tokens, authorization codes, PKCE.
//! - [`jwt_bearer`]: the JWT bearer grant's assertion, checked against the certificate
//!   registered for the connected app.
//! - [`sharing`]: visibility and edit rights as SQL conditions, and the sharing-aware
//!   `soql::schema::Catalog` queries compile against.
//! - [`records`]: create / retrieve / update / upsert / delete with validation and sharing;
//!   every endpoint that touches rows goes through it.
//! - [`http`]: extractors (session, JSON body), version check, logging middleware.
//! - [`routes`]: one module per API area (oauth, soap login, versions, describe, sobjects,
//!   collections, composite, composite batch, composite graph, sObject tree, query, limits),
//!   assembled into one router; every response is dated by the org's clock.
//! - [`query_cursor`]: runs SOQL through the `soql` compiler against the sharing-aware
//!   catalog, and keeps the cursors behind `nextRecordsUrl` locators (ids only).
//! - `bin/devorg.rs`: the `devorg` command, which serves an org until interrupted.
//! - [`txn_hold`]: write transactions held open (late commits) and one-stamp bulk writes.
//! - [`seed`]: deterministic field-service demo data, from hundreds to millions of records.
//! - [`faults`]: errors, cut connections, latency and limit bursts on demand.
//! - [`tls`]: serving plain HTTP or HTTPS with a self-signed certificate.
//!
//! # Invariants
//!
//! - Every request that writes runs in one SQLite transaction, stamped with the clock's
//!   time when it started (`SystemModstamp`, `LastModifiedDate`).
//! - Deleted rows stay in their table with `IsDeleted = 1` and `_DeletedDate` set until
//!   the recycle bin is purged.
//! - Sharing is applied in SQL for reads and checked per record for writes; admins and the
//!   integration user bypass it.
//!
//! # Adding to devorg
//!
//! - A new API area is a module under `routes/` registered in [`routes::router`]; its
//!   handlers take [`http::Session`] (token check and API quota) and run their database
//!   work through [`routes::with_ctx`], which gives one transaction and its write instant.
//! - Replication reads `SystemModstamp` and, for deletions, `IsDeleted = 1` rows with
//!   their `_DeletedDate` ([`db::DELETED_DATE`]); the recycle bin is emptied by
//!   [`Admin::purge_recycle_bin`] / [`Admin::purge_expired`].
//! - Bulk seeding can write straight into the object tables through [`Admin::with_db`]
//!   following the `soql::schema` storage convention.
//!
//! # Demo credentials
//!
//! Users `admin@devorg.example` ([`DEMO_ADMIN_PASSWORD`]), `tech1@field.example`,
//! `tech2@field.example`, `tech3@field.example` ([`DEMO_TECH_PASSWORD`]) and the
//! integration user [`INTEGRATION_USERNAME`] ([`DEMO_INTEGRATION_PASSWORD`], also the
//! `client_credentials` user). Connected app: [`DEMO_CLIENT_ID`] / [`DEMO_CLIENT_SECRET`];
//! it takes JWT bearer logins once a certificate is registered for it
//! ([`ConnectedApp::jwt_certificate`], or `devorg --jwt-certificate`).

#![recursion_limit = "256"]

pub mod admin;
pub mod auth;
pub mod clock;
pub mod db;
pub mod error;
pub mod faults;
pub mod http;
pub mod jwt_bearer;
pub mod org;
pub mod planner_stats;
pub mod query_cursor;
pub mod records;
pub mod routes;
pub mod schema;
pub mod seed;
pub mod sharing;
pub mod tls;
pub mod txn_hold;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use admin::Admin;
pub use auth::ConnectedApp;
pub use clock::Clock;
pub use error::{ApiError, StartError};
pub use faults::{FaultConfig, Latency};
pub use schema::Sharing;
pub use seed::SeedOptions;
pub use txn_hold::HeldWrite;

/// Password of `admin@devorg.example`.
pub const DEMO_ADMIN_PASSWORD: &str = "devorg-admin-1";
/// Password of `tech1@field.example` ... `tech3@field.example`.
pub const DEMO_TECH_PASSWORD: &str = "devorg-tech-1";
/// Password of the integration user.
pub const DEMO_INTEGRATION_PASSWORD: &str = "devorg-integration-1";
/// Username of the integration user (`client_credentials` runs as this user).
pub const INTEGRATION_USERNAME: &str = "integration@devorg.example";
/// Client id of the demo connected app.
pub const DEMO_CLIENT_ID: &str = "devorg-demo-client";
/// Client secret of the demo connected app.
pub const DEMO_CLIENT_SECRET: &str = "devorg-demo-secret";

/// How to run an org.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Directory for `devorg.db`; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// Lifetime of access tokens.
    pub token_ttl: Duration,
    /// Days deleted records stay in the recycle bin.
    pub recycle_bin_days: u32,
    /// API requests allowed per day before `REQUEST_LIMIT_EXCEEDED`.
    pub api_daily_limit: u64,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Extra objects and fields (JSON, or TOML by extension).
    pub schema_file: Option<PathBuf>,
    /// Clients allowed to ask for tokens.
    pub connected_apps: Vec<ConnectedApp>,
    /// The user `client_credentials` tokens act as.
    pub integration_username: String,
    /// Issue a new refresh token on every refresh.
    pub rotate_refresh_tokens: bool,
    /// The URL clients should be told (`instance_url`); by default taken from `Host`.
    pub public_url: Option<String>,
    /// Serve HTTPS with a self-signed certificate (see [`tls`]).
    pub tls: bool,
    /// Demo data to load when the org holds no accounts or work orders yet.
    pub seed: Option<SeedOptions>,
    /// Faults to inject from the start (none by default).
    pub faults: FaultConfig,
    /// Rows written between two refreshes of the planner's statistics
    /// ([`planner_stats`]).
    pub optimize_every_changes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: None,
            token_ttl: Duration::from_secs(2 * 3600),
            recycle_bin_days: 15,
            api_daily_limit: 15_000,
            max_body_bytes: 8 * 1024 * 1024,
            schema_file: None,
            connected_apps: vec![ConnectedApp {
                name: "devorg demo".into(),
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: DEMO_CLIENT_SECRET.into(),
                jwt_certificate: None,
            }],
            integration_username: INTEGRATION_USERNAME.into(),
            rotate_refresh_tokens: false,
            public_url: None,
            tls: false,
            seed: None,
            faults: FaultConfig::default(),
            optimize_every_changes: planner_stats::OPTIMIZE_EVERY_CHANGES,
        }
    }
}

/// Entry point: `DevOrg::start(config)`.
#[derive(Debug)]
pub struct DevOrg;

impl DevOrg {
    /// Opens (or creates) the org's database, binds the listener and starts serving.
    pub async fn start(config: Config) -> Result<RunningOrg, StartError> {
        DevOrg::start_with_clock(config, Clock::default()).await
    }

    /// Like [`DevOrg::start`], with a clock the caller already holds.
    pub async fn start_with_clock(config: Config, clock: Clock) -> Result<RunningOrg, StartError> {
        let extra = match &config.schema_file {
            Some(path) => schema::load_schema_file(path)?,
            None => Vec::new(),
        };
        let schema = schema::Schema::with_extra(extra);
        let conn = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(StartError::DataDir)?;
                Connection::open(dir.join("devorg.db"))?
            }
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(Duration::from_secs(5))?;
        db::tune(&conn)?;
        db::migrate(&conn, &schema)?;
        let org_id = db::org_id(&conn)?.to_string();
        db::seed_users(&conn, clock.now())?;
        db::seed_organization(&conn, &org_id, clock.now())?;
        if let Some(opts) = &config.seed {
            let mut opts = opts.clone();
            opts.now = opts.now.or_else(|| Some(clock.now()));
            seed::apply_if_empty(&conn, &opts)?;
        }
        let tls = match config.tls {
            true => Some(tls::prepare(config.data_dir.as_deref())?),
            false => None,
        };

        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind { addr: config.addr.to_string(), source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr: config.addr.to_string(), source })?;
        let persistent = config.data_dir.is_some();
        let config_addr = config.addr.to_string();
        let faults = config.faults.clone();
        let org = Arc::new(org::Org::new(conn, schema, clock, config, org_id));
        org.planner_stats.optimize_all(&org.db());
        org.faults.set(faults);

        let routes = routes::router(org.clone())
            .layer(axum::middleware::from_fn_with_state(org.clone(), txn_hold::hold_middleware))
            .merge(faults::endpoint::router(org.clone()));
        let app = axum::Router::new()
            .fallback_service(routes)
            .layer(axum::middleware::from_fn(http::trim_trailing_slash))
            .layer(axum::middleware::from_fn_with_state(org.clone(), faults::middleware))
            .layer(axum::middleware::from_fn_with_state(org.clone(), http::date_header));
        let (tx, rx) = oneshot::channel::<()>();
        let (tls_files, tls_config) = match tls {
            Some((files, config)) => (Some(files), Some(config)),
            None => (None, None),
        };
        let task = tls::spawn_server(listener, app, tls_config, rx)
            .map_err(|source| StartError::Bind { addr: config_addr, source })?;
        let scheme = if tls_files.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{local}");
        tracing::info!(%url, persistent, "devorg started");
        Ok(RunningOrg { org, url, shutdown: Some(tx), task: Some(task), tls: tls_files })
    }
}

/// A started org.
#[derive(Debug)]
pub struct RunningOrg {
    org: Arc<org::Org>,
    url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    tls: Option<tls::TlsFiles>,
}

impl RunningOrg {
    /// `http://127.0.0.1:PORT` (`https://` with [`Config::tls`]).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The certificate authority (PEM) clients should trust, when serving HTTPS.
    pub fn ca_pem_path(&self) -> Option<&std::path::Path> {
        self.tls.as_ref().map(|t| t.ca_pem.as_path())
    }

    /// The 18-character organization id.
    pub fn org_id(&self) -> &str {
        &self.org.org_id
    }

    /// The org's clock.
    pub fn clock(&self) -> &Clock {
        &self.org.clock
    }

    /// Server-side handles for tests and tools.
    pub fn admin(&self) -> Admin {
        Admin::new(self.org.clone())
    }

    /// Stops accepting requests and waits for in-flight ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.org.planner_stats.optimize_now(&self.org.db());
        tracing::info!("devorg stopped");
    }
}

impl Drop for RunningOrg {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
