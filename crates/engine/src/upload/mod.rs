//! The upload path: sends the store's queue of local changes to the org, exactly once, in
//! dependency order, with field-level conflict checks.
//!
//! - [`plan`]: a pure planner that turns the queue into ordered batches (no I/O).
//! - [`conflict`]: the field-level three-way merge and the profile's conflict policies.
//! - [`compare`]: value equality across the store's and the server's JSON spellings.
//! - [`retry`]: capped exponential backoff with jitter, through a replaceable sleeper.
//! - [`recover`]: finding out what became of creates whose outcome is unknown.
//! - [`recreate`]: creating again a record the server deleted while it was edited here.
//! - [`run`]: [`upload`], which executes a plan against the client and the store.
//! - [`report`]: what an upload did, for the caller and the sync history.
//!
//! # Invariants
//!
//! - A change is marked `uploading` in the store before its request leaves, and every
//!   answer is recorded in one store transaction per batch: a crash in between leaves the
//!   change `uploading`, which the next run checks against the server before re-sending.
//! - A create is never re-sent blindly: with an external id field it is an upsert on a
//!   value stored with the change; without one the server is searched for it first.
//! - A child created offline is sent only after its parent's server id is known; the
//!   store's `remap_id` rewrites every local reference in the same transaction. Creates
//!   in a circle go one after the other, the last without its references back, which
//!   follow as an update.
//! - A create whose outcome is unknown is looked for by the values its request carried.
//! - A record the server deleted while edited here is dropped (server-wins), created again
//!   with the local values (client-wins), or parked for the user (manual).
//! - Every retry loop is bounded ([`UploadOptions::max_attempts`]) and sleeps between
//!   attempts; nothing spins.

pub mod compare;
pub mod conflict;
mod error;
pub mod plan;
pub mod recover;
pub mod recreate;
mod report;
mod resume;
pub mod retry;
mod run;
mod send;
mod updates;

pub use error::UploadError;
pub use report::{ConflictOutcome, ConflictSettlement, FieldConflict, IdRemap, UploadReport};
pub use retry::{Backoff, Sleeper, TokioSleeper};
pub use run::{UploadOptions, upload, upload_with_progress};
