//! The sync engine: decides what to download and upload, and drives the Salesforce client
//! and the local store. It never talks HTTP or SQL itself.
//!
//! - [`profile`]: the admin's sync profile (TOML), validated against the org's describe.
//! - [`scope`]: the planner turning a profile into the SOQL that selects each object's
//!   in-scope records.
//! - [`sync`]: priming, delta download and reconciliation; decisions in [`sync::decide`].
//! - [`Engine`]: the public entry point tying them to a [`store::Store`], a
//!   [`salesforce::client::Client`] and a [`Clock`].
//!
//! ```no_run
//! # async fn example(store: std::sync::Arc<store::Store>, client: salesforce::client::Client)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use engine::{Engine, SyncKind, SystemClock, profile::ProfileSource};
//! let source = ProfileSource::parse("profile.toml", &std::fs::read_to_string("profile.toml")?)?;
//! let engine = Engine::open(store, client, &source, std::sync::Arc::new(SystemClock)).await?;
//! engine.prime(&mut |event| println!("{event:?}")).await?;
//! let report = engine.sync(SyncKind::Delta, &mut |_| {}).await?;
//! # let _ = report; Ok(()) }
//! ```

pub mod clock;
mod engine;
pub mod history;
pub mod profile;
pub mod schedule;
pub mod scope;
pub mod sync;

#[cfg(test)]
mod test_schema;

pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{Engine, ProfileChange, Progress};
pub use sync::upload_step::{UploadCounts, upload_pending};
pub use sync::{ObjectCounts, SyncError, SyncEvent, SyncKind, SyncOptions, SyncReport};
