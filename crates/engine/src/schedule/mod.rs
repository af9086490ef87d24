//! The sync schedule: each object syncs on its profile interval. Decisions are pure
//! functions of the stored schedule and an instant from the engine's [`crate::Clock`]
//! ([`due_objects`], [`next_due`], [`next_sync_message`]); [`apply_profile`] and
//! [`record_completion`] keep the store's schedule up to date.
//!
//! Objects falling due within [`SAME_SYNC_WINDOW`] of each other share one sync. After a
//! restart the stored due times still hold, so objects that fell due while the app was
//! not running are due at once.

mod due;
mod message;
mod record;

pub use due::{NextDue, SAME_SYNC_WINDOW, due_objects, next_due, wait_until};
pub use message::next_sync_message;
pub use record::{FAILED_SYNC_RETRY_SECS, apply_profile, load, record_completion, record_failure};
