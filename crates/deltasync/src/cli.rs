//! Command-line arguments: the global options and one variant per subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "deltasync", version, about = "Offline-first delta sync for Salesforce data")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Folder holding the local store, its key file (when there is no OS keyring) and the
    /// sync profile (default: ~/.local/share/deltasync).
    #[arg(long, global = true, env = "DELTASYNC_HOME")]
    pub data_dir: Option<PathBuf>,
    /// Log filter, e.g. `info` or `engine=debug` (also `RUST_LOG`).
    #[arg(long, global = true, env = "DELTASYNC_LOG", default_value = "warn")]
    pub log: String,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to an org, then download the records the sync profile selects.
    Login(LoginArgs),
    /// Remove the local store, its key and the tokens from this device.
    Logout(LogoutArgs),
    /// Who is logged in, whether the org answers, and each object's sync state.
    Status,
    /// Upload pending changes, then download what changed.
    Sync(SyncArgs),
    /// Run a SOQL query over the records on this device (offline).
    Query(QueryArgs),
    /// Create a record locally; it uploads with the next sync.
    Create(CreateArgs),
    /// Change fields of a record locally.
    Update(UpdateArgs),
    /// Delete a record locally.
    Delete(DeleteArgs),
    /// List changes waiting for upload, or act on one.
    Pending(PendingArgs),
    /// Past sync runs, newest first, or one run's detail.
    History(HistoryArgs),
    /// Each object's sync interval, last sync and next due time.
    Schedule,
    /// Run the long-running app: scheduled syncs, connectivity and the web app.
    App(AppArgs),
    /// Start devorg, log in as a demo technician, prime, and run the app.
    Demo(DemoArgs),
    /// Run the Salesforce-compatible development org.
    Devorg(DevorgArgs),
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The login server: https://login.salesforce.com, a My Domain URL, or a devorg URL.
    #[arg(long)]
    pub url: String,
    /// Username (password and JWT logins).
    #[arg(long)]
    pub username: Option<String>,
    /// Password (the password grant; for devorg and tests).
    #[arg(long, env = "DELTASYNC_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Log in through the system browser (authorization code with PKCE).
    #[arg(long, conflicts_with_all = ["password", "jwt_key"])]
    pub browser: bool,
    /// RSA private key (PEM) for the JWT bearer grant.
    #[arg(long, conflicts_with = "password")]
    pub jwt_key: Option<PathBuf>,
    /// The connected app's client id.
    #[arg(long, default_value = devorg::DEMO_CLIENT_ID)]
    pub client_id: String,
    /// The connected app's client secret, for confidential apps.
    #[arg(long, env = "DELTASYNC_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Sync profile (TOML) to use; copied into the data folder. Default: field service.
    #[arg(long)]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Log out even though changes are waiting for upload (they are lost).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Also compare every object's id set with the server's.
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The SOQL query.
    pub soql: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Object API name, e.g. WorkOrder.
    pub object: String,
    /// Field values as field=value (`null` or nothing clears a field).
    pub fields: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Object API name.
    pub object: String,
    /// Record id (a server id, or a local id for a record created offline).
    pub id: String,
    /// Field values as field=value.
    #[arg(required = true)]
    pub fields: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Object API name.
    pub object: String,
    /// Record id.
    pub id: String,
}

#[derive(Debug, Args)]
pub struct PendingArgs {
    #[command(subcommand)]
    pub action: Option<PendingAction>,
}

#[derive(Debug, Subcommand)]
pub enum PendingAction {
    /// Put a failed change back in the upload queue.
    Retry {
        /// The change's number, as `pending` lists it.
        seq: i64,
    },
    /// Drop a change and undo it on this device (a record the server deleted goes too).
    Discard {
        /// The change's number.
        seq: i64,
    },
    /// Settle a conflict field by field: field=local, field=server, or field=VALUE; or,
    /// for a record the server deleted, `recreate` to create it again.
    Resolve {
        /// The change's number.
        seq: i64,
        /// One choice per conflicting field, or `recreate`.
        #[arg(required = true)]
        choices: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// One run with its per-record detail.
    Show {
        /// The run's id, as `history` lists it.
        id: i64,
    },
}

#[derive(Debug, Args)]
pub struct AppArgs {
    /// Address the web app listens on.
    #[arg(long, default_value = "127.0.0.1:8788")]
    pub addr: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many records the field-service seed creates.
    #[arg(long, default_value_t = 2000)]
    pub records: u64,
    /// Address the web app listens on (loopback only).
    #[arg(long, default_value = "127.0.0.1:8788")]
    pub addr: String,
}

#[derive(Debug, Args)]
pub struct DevorgArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: String,
    /// Folder for persistent storage; in memory when absent.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Seed data set to load into an empty org.
    #[arg(long)]
    pub seed: Option<String>,
    /// Number of records the seed creates.
    #[arg(long, default_value_t = 2000)]
    pub records: u64,
    /// Seed value that makes the data set deterministic.
    #[arg(long, default_value_t = 1)]
    pub seed_value: u64,
    /// Serve HTTPS with a self-signed certificate written to the data folder.
    #[arg(long)]
    pub tls: bool,
    /// Lifetime of access tokens, e.g. 2h, 15m, 90s.
    #[arg(long, default_value = "2h")]
    pub token_ttl: String,
}
