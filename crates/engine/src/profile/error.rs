//! What can be wrong with a sync profile, each error tied to the line that causes it.

use std::fmt;

/// One problem in a profile, with the file name and line it comes from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: line {line}: {kind}")]
pub struct ProfileError {
    /// The name the profile was loaded under, such as `profile.toml`.
    pub source_name: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: ProfileErrorKind,
}

/// What is wrong in a profile. None of these goes away on retry: the file must change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileErrorKind {
    /// Occurs when the text is not valid TOML or does not have the profile's shape.
    #[error("{0}")]
    Syntax(String),
    /// Occurs when `version` is anything but 1.
    #[error("unsupported profile version {0}; this deltasync reads version 1")]
    UnsupportedVersion(i64),
    /// Occurs when the profile declares no object.
    #[error("the profile declares no object")]
    NoObjects,
    /// Occurs when an object name is not one the org knows.
    #[error("unknown object '{0}'")]
    UnknownObject(String),
    /// Occurs when the same object is declared twice under different letter case.
    #[error("object '{0}' is declared twice")]
    DuplicateObject(String),
    /// Occurs when the org knows an object but no describe for it was given.
    #[error("object '{0}' could not be described")]
    NotDescribed(String),
    /// Occurs when an object lacks the `Id` or `SystemModstamp` field delta sync needs.
    #[error("object '{0}' has no SystemModstamp field; it cannot be synced by delta")]
    NotReplicable(String),
    /// Occurs when a field name is not a field of its object.
    #[error("unknown field '{field}' on {object}")]
    UnknownField {
        /// The object the field was looked up on.
        object: String,
        /// The name as written.
        field: String,
    },
    /// Occurs when `fields` is neither `"*"` nor a list of names.
    #[error("fields of {0} must be \"*\" or a list of field names")]
    BadFields(String),
    /// Occurs when a filter does not parse as a SOQL condition.
    #[error("filter of {object} does not parse: {reason}")]
    BadFilter {
        /// The object the filter applies to.
        object: String,
        /// What the parser said.
        reason: String,
    },
    /// Occurs when an interval is not a duration such as `15m` or `1d`.
    #[error("bad interval '{value}': {reason}")]
    BadInterval {
        /// The interval as written.
        value: String,
        /// Why it does not read.
        reason: String,
    },
    /// Occurs when a conflict policy is none of `server-wins`, `client-wins`, `manual`.
    #[error("unknown conflict policy '{0}'; use server-wins, client-wins or manual")]
    BadConflict(String),
    /// Occurs when `max_records` is zero or negative.
    #[error("max_records must be a positive number, not {0}")]
    BadMaxRecords(i64),
    /// Occurs when a `parents` entry names a field that is not a lookup.
    #[error("field '{field}' on {object} is not a lookup")]
    NotALookup {
        /// The object holding the field.
        object: String,
        /// The field.
        field: String,
    },
    /// Occurs when a polymorphic lookup is used without saying which target comes along.
    #[error("lookup '{field}' on {object} may point to {targets}; say which with object = \"...\"")]
    AmbiguousLookup {
        /// The object holding the field.
        object: String,
        /// The field.
        field: String,
        /// The possible targets, comma-separated.
        targets: String,
    },
    /// Occurs when `object` in a `parents` entry is not a target of the lookup.
    #[error("lookup '{field}' on {object} cannot point to {target}")]
    NotATarget {
        /// The object holding the field.
        object: String,
        /// The field.
        field: String,
        /// The target as written.
        target: String,
    },
    /// Occurs when a relationship brings in an object the profile does not declare.
    #[error("{0} comes in through related scope but has no [objects.{0}] table")]
    RelatedNotDeclared(String),
    /// Occurs when a child relationship name is not one of the object's.
    #[error("unknown child relationship '{relationship}' on {object}")]
    UnknownRelationship {
        /// The parent object.
        object: String,
        /// The name as written.
        relationship: String,
    },
    /// Occurs when related scope loops back on itself.
    #[error("related scope forms a cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// Occurs when an object is `related_only` but no rule brings it in.
    #[error("{0} is related_only but no parents or children rule brings it in")]
    Unreachable(String),
    /// Occurs when an object is `related_only` and also has its own filter.
    #[error("{0} is related_only, so its own filter would never apply; put it on the rule")]
    FilterOnRelatedOnly(String),
}

/// Every problem found in one profile. Loading is all-or-nothing, so any error means no
/// profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileErrors(pub Vec<ProfileError>);

impl fmt::Display for ProfileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProfileErrors {}

/// The 1-based line that byte `offset` of `text` falls on.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
}
