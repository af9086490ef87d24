//! The sync profile: which objects, fields and records a user's device holds, how often
//! each is refreshed and how conflicts resolve. An admin writes it in TOML.
//!
//! # Format
//!
//! ```toml
//! version = 1
//!
//! [objects.ServiceAppointment]
//! fields = ["AppointmentNumber", "Status", "SchedStartTime", "ParentRecordId", "OwnerId"]
//! filter = "OwnerId = :user AND SchedStartTime >= LAST_N_DAYS:7"
//! interval = "15m"                 # s, m, h, d, or sums such as 1h30m
//! conflict = "server-wins"         # or client-wins, manual
//! conflict_fields = { Status = "client-wins" }
//! max_records = 5000
//! parents = [{ field = "ParentRecordId", object = "WorkOrder" }]
//!
//! [objects.WorkOrder]
//! fields = "*"                     # every field the user can read
//! related_only = true              # only records that related scope brings in
//! children = [{ relationship = "WorkOrderLineItems", filter = "Status != 'Canceled'" }]
//! ```
//!
//! An object without `related_only` is a root: its records are in scope when they match
//! `filter` (or always, without one). `parents` bring along the records a lookup points to;
//! `children` bring along the records of a child relationship; each may narrow the records
//! it brings with its own `filter`. A record is in scope while any rule brings it in.
//! `:user` in a filter stands for the syncing user's id.
//!
//! # `max_records`
//!
//! The most records of the object the device stores, at all times. Priming reads at most
//! the room left (the server scope first, by `SystemModstamp`, then what held links
//! bring); a delta, a reconciliation and records entering scope store a new record only
//! while the object holds fewer than the cap. Stored records are always updated, and a
//! record with pending local changes is never dropped, so local creates can take an
//! object past its cap (it then takes no new records until it is back under); lowering
//! the cap drops nothing already stored. What a run leaves out is counted in
//! [`crate::ObjectCounts::over_limit`], which reaches the sync report, the CLI and
//! history: the records in scope the run read and could not store (a delta re-reads its
//! overlap window, so a record left out just before counts again). A delta's cursor moves
//! past a record it left out: the record is fetched later only once room has freed up
//! and it changes again on the server (or is re-read in the overlap window), or when a
//! full sync finds room for it.

mod diff;
mod error;
pub(crate) mod filter;
mod graph;
mod interval;
mod raw;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use diff::{ObjectChange, ProfileDiff};
pub use error::{ProfileError, ProfileErrorKind, ProfileErrors};
pub use graph::dependency_order;
pub use interval::parse_interval;
pub use validate::Describes;

/// Which fields of an object to sync, as the profile declares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSelection {
    /// `"*"`: every field the user can read.
    All,
    /// The fields listed, as the schema spells them.
    Listed(Vec<String>),
}

/// How a conflict between a local edit and a server change resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConflictPolicy {
    /// The server's value stays; the local edit is dropped.
    ServerWins,
    /// The local edit overwrites the server's value.
    ClientWins,
    /// The conflict is kept for a person to resolve.
    Manual,
}

impl ConflictPolicy {
    /// Reads `server-wins`, `client-wins` or `manual`.
    pub fn parse(text: &str) -> Option<ConflictPolicy> {
        match text {
            "server-wins" => Some(ConflictPolicy::ServerWins),
            "client-wins" => Some(ConflictPolicy::ClientWins),
            "manual" => Some(ConflictPolicy::Manual),
            _ => None,
        }
    }

    /// The name a profile uses for this policy.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::ServerWins => "server-wins",
            ConflictPolicy::ClientWins => "client-wins",
            ConflictPolicy::Manual => "manual",
        }
    }
}

/// A lookup whose target records come along with the records holding it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParentRule {
    /// The lookup field on the declaring object (`ParentRecordId`).
    pub field: String,
    /// The object it brings in (`WorkOrder`).
    pub target: String,
    /// An extra condition on the target records.
    pub filter: Option<String>,
}

/// A child relationship whose records come along with their parent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildRule {
    /// The relationship name on the declaring object (`WorkOrderLineItems`).
    pub relationship: String,
    /// The child object (`WorkOrderLineItem`).
    pub child: String,
    /// The child's lookup field pointing at the parent (`WorkOrderId`).
    pub field: String,
    /// An extra condition on the child records.
    pub filter: Option<String>,
}

/// One object of a validated profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectProfile {
    /// API name, as the schema spells it.
    pub name: String,
    /// The fields as declared.
    pub fields: FieldSelection,
    /// The fields to fetch: `Id`, `SystemModstamp`, `IsDeleted` (when the object has it),
    /// the declared ones and every lookup related scope needs, without duplicates.
    pub fetch_fields: Vec<String>,
    /// The root condition, a SOQL WHERE fragment (may use `:user`).
    pub filter: Option<String>,
    /// True when records come in only through related scope.
    pub related_only: bool,
    /// How often the object is refreshed.
    pub interval_secs: u64,
    /// The default conflict policy.
    pub conflict: ConflictPolicy,
    /// Per-field conflict policies, keyed by field name as the schema spells it.
    pub field_conflicts: BTreeMap<String, ConflictPolicy>,
    /// The external id field used to upsert records created offline.
    pub external_id: Option<String>,
    /// The most records of this object a device holds; priming stops there.
    pub max_records: Option<u64>,
    /// Lookups whose targets come along.
    pub parents: Vec<ParentRule>,
    /// Child relationships whose records come along.
    pub children: Vec<ChildRule>,
}

impl ObjectProfile {
    /// The conflict policy for `field`.
    pub fn conflict_for(&self, field: &str) -> ConflictPolicy {
        self.field_conflicts
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(field))
            .map_or(self.conflict, |(_, policy)| *policy)
    }
}

/// The default refresh interval when an object gives none.
pub const DEFAULT_INTERVAL_SECS: u64 = 900;

/// A validated sync profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The objects in the order the file declares them.
    pub objects: Vec<ObjectProfile>,
}

impl Profile {
    /// The object with this name, compared case-insensitively.
    pub fn object(&self, name: &str) -> Option<&ObjectProfile> {
        self.objects.iter().find(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// Parses and validates a profile in one step. `source_name` is the name errors cite.
    pub fn load(
        source_name: &str,
        text: &str,
        describes: &Describes,
    ) -> Result<Profile, ProfileErrors> {
        ProfileSource::parse(source_name, text)?.validate(describes)
    }
}

/// A profile that reads as TOML of the right shape but is not yet checked against the org:
/// the first step of loading, which tells which objects to describe.
#[derive(Debug)]
pub struct ProfileSource {
    source_name: String,
    text: String,
    raw: raw::RawProfile,
}

impl ProfileSource {
    /// Reads the TOML text; `source_name` is the name errors cite.
    pub fn parse(source_name: &str, text: &str) -> Result<ProfileSource, ProfileErrors> {
        match toml::from_str::<raw::RawProfile>(text) {
            Ok(raw) => {
                Ok(ProfileSource { source_name: source_name.to_string(), text: text.into(), raw })
            }
            Err(e) => {
                let line = e.span().map_or(1, |s| error::line_of(text, s.start));
                Err(ProfileErrors(vec![ProfileError {
                    source_name: source_name.to_string(),
                    line,
                    kind: ProfileErrorKind::Syntax(e.message().trim().to_string()),
                }]))
            }
        }
    }

    /// The object names the profile declares, as written: the objects to describe.
    pub fn object_names(&self) -> Vec<String> {
        self.raw.objects.keys().map(|k| k.get_ref().clone()).collect()
    }

    /// Checks the profile against describe data and resolves every name.
    pub fn validate(&self, describes: &Describes) -> Result<Profile, ProfileErrors> {
        validate::validate(&self.source_name, &self.text, &self.raw, describes)
    }
}
