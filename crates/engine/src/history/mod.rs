//! Sync history: writes each sync run into the store's history, with its counts, its
//! outcome (succeeded, partial, failed with a reason) and one detail row per record it
//! touched, named the way a person recognizes the record ([`display_name`]).

mod name;
mod run;
pub mod settled;

pub use name::{NAME_FIELDS, display_name};
pub use run::{
    MAX_NOTED_CHANGES, RunEnd, RunSummary, SyncRun, UploadOutcome, begin, close_unfinished,
};
