//! The profile file as TOML text spells it, before any check against describe data.
//! Every name keeps its byte span so that errors can name their line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProfile {
    /// Format version; only `1` exists.
    pub version: Option<Spanned<i64>>,
    /// The objects, keyed by API name.
    #[serde(default)]
    pub objects: BTreeMap<Spanned<String>, RawObject>,
}

/// One `[objects.Name]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawObject {
    /// A list of field names, or the string `"*"`.
    pub fields: Option<Spanned<toml::Value>>,
    pub filter: Option<Spanned<String>>,
    pub related_only: Option<Spanned<bool>>,
    pub interval: Option<Spanned<String>>,
    pub conflict: Option<Spanned<String>>,
    #[serde(default)]
    pub conflict_fields: BTreeMap<Spanned<String>, Spanned<String>>,
    pub external_id: Option<Spanned<String>>,
    pub max_records: Option<Spanned<i64>>,
    #[serde(default)]
    pub parents: Vec<Spanned<RawParent>>,
    #[serde(default)]
    pub children: Vec<Spanned<RawChild>>,
}

/// One entry of `parents`: a lookup field whose target records come along.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawParent {
    pub field: Spanned<String>,
    /// The target object, needed when the lookup is polymorphic.
    pub object: Option<Spanned<String>>,
    pub filter: Option<Spanned<String>>,
}

/// One entry of `children`: a child relationship whose records come along.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChild {
    pub relationship: Spanned<String>,
    pub filter: Option<Spanned<String>>,
}
