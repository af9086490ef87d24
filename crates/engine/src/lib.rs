//! The sync engine: decides what to download and upload, and drives the Salesforce client
//! and the local store. It never talks HTTP or SQL itself.
//!
//! - [`profile`]: the admin's sync profile (TOML), validated against the org's describe.
//! - [`scope`]: the planner turning a profile into the SOQL that selects each object's
//!   in-scope records.
//! - [`sync`]: priming, delta download and reconciliation; decisions in [`sync::decide`].
//! - [`upload`]: sending the store's queue of local edits, with conflict policies; every
//!   sync runs it first ([`upload_pending`]).
//! - [`Engine`]: the public entry point tying them to a [`store::Store`], a
//!   [`salesforce::client::Client`] and a [`Clock`]: [`Engine::open`], [`Engine::prime`],
//!   [`Engine::sync`], [`Engine::query`] (and [`Engine::query_more`] for its later pages),
//!   [`Engine::change_profile`].
//!
//! # Invariants
//!
//! - The engine never talks HTTP or SQL itself: it goes through the client and the store.
//! - Nothing reads the wall clock: time comes from the [`Clock`] passed in.
//! - A cursor commits in the same store transaction as the rows it covers, and never
//!   passes the replication API's `latestDateCovered`.
//! - A record with pending local changes is never removed by a download: the store keeps
//!   it and flags it out of scope.
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
pub mod edit;
mod engine;
pub mod history;
pub mod profile;
pub mod schedule;
pub mod scope;
pub mod sync;
pub mod upload;

#[cfg(test)]
mod test_schema;

pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{Engine, ProfileChange, Progress};
pub use sync::upload_step::{UploadCounts, upload_pending};
pub use sync::{ObjectCounts, SyncError, SyncEvent, SyncKind, SyncOptions, SyncReport};
