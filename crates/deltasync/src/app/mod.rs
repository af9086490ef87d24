//! The long-running app: the shared [`AppHandle`], and the loops that run syncs on
//! request, on schedule and when the connection comes back.

pub mod handle;

pub use handle::{AppEvent, AppHandle, AppStatus, Identity, NextDue, SyncRequest};
pub use store::history::SyncKind as Trigger;
