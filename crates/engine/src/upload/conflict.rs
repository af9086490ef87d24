//! The field-level three-way merge run before an update is sent, and the profile's
//! conflict policies.
//!
//! For each field the change sets there are three values: `base` (what the field held
//! when the user first edited it), `local` (what the user set) and `server` (what the org
//! holds now). The field is in conflict only when the server moved away from the base
//! *and* to something other than the local value; edits to different fields, or the same
//! edit made on both sides, merge cleanly. A record the server deleted while it was
//! edited locally is a conflict of its own.

use std::collections::BTreeMap;

use serde_json::Value;
use store::{PendingChange, Record, Resolution};

use super::compare::same_value;
use super::report::FieldConflict;
use crate::profile::{ConflictPolicy, ObjectProfile};

/// The key a change's `server_values` carries (as `true`) when the server deleted the
/// record while it was edited locally.
pub const DELETED_ON_SERVER: &str = store::pending::DELETED_ON_SERVER;

/// What to do with one update, given the server's current values.
#[derive(Debug, Clone, PartialEq)]
pub enum Merge {
    /// No conflict: send these fields (local values the server does not hold already).
    /// Empty means the server already has every local value.
    Clean { send: Record },
    /// Conflicts, each settled by a server-wins or client-wins policy: settle them with
    /// the store's `resolve` using `choices`, then send what is left.
    Settled { conflicts: Vec<FieldConflict>, choices: BTreeMap<String, Resolution> },
    /// At least one conflicting field's policy is manual: park the change for the user.
    Parked { conflicts: Vec<FieldConflict> },
    /// The server no longer has the record.
    DeletedOnServer { policy: ConflictPolicy },
}

/// The policy for `field` of an object; objects the profile does not name are manual.
pub fn policy_for(object: Option<&ObjectProfile>, field: &str) -> ConflictPolicy {
    object.map_or(ConflictPolicy::Manual, |o| o.conflict_for(field))
}

/// Merges a local update (`local` over `base`) with the server's record (`None` when the
/// server no longer has it).
pub fn merge(
    local: &Record,
    base: &Record,
    server: Option<&Record>,
    object: Option<&ObjectProfile>,
) -> Merge {
    let Some(server) = server else {
        return Merge::DeletedOnServer {
            policy: object.map_or(ConflictPolicy::Manual, |o| o.conflict),
        };
    };

    let mut send = Record::new();
    let mut conflicts = Vec::new();
    for (field, local_value) in local {
        let Some(server_value) = server_value(server, field) else {
            // The server did not say (the field is not readable): nothing to compare.
            send.insert(field.clone(), local_value.clone());
            continue;
        };
        if same_value(server_value, local_value) {
            continue;
        }
        match base.get(field) {
            Some(base_value) if !same_value(server_value, base_value) => {
                conflicts.push(FieldConflict {
                    field: field.clone(),
                    local: local_value.clone(),
                    base: base_value.clone(),
                    server: server_value.clone(),
                    policy: policy_for(object, field),
                });
            }
            _ => {
                send.insert(field.clone(), local_value.clone());
            }
        }
    }

    if conflicts.is_empty() {
        return Merge::Clean { send };
    }
    if conflicts.iter().any(|c| c.policy == ConflictPolicy::Manual) {
        return Merge::Parked { conflicts };
    }
    let choices = conflicts
        .iter()
        .map(|c| {
            let choice = match c.policy {
                ConflictPolicy::ServerWins => Resolution::TakeServer,
                _ => Resolution::KeepLocal,
            };
            (c.field.clone(), choice)
        })
        .collect();
    Merge::Settled { conflicts, choices }
}

/// The server's values of the fields a change sets, as `mark_conflict` keeps them.
pub fn server_values_for(local: &Record, server: &Record) -> Record {
    local.keys().filter_map(|f| server_value(server, f).map(|v| (f.clone(), v.clone()))).collect()
}

/// Whether a change in conflict is there because the server deleted its record.
pub fn is_deleted_on_server(change: &PendingChange) -> bool {
    change.server_values.get(DELETED_ON_SERVER) == Some(&Value::Bool(true))
}

/// For a change in conflict, the choices the profile's policies make for its fields that
/// are not manual. A user interface adds the user's choices for the manual ones and
/// passes the whole map to the store's `resolve`.
pub fn default_resolutions(
    change: &PendingChange,
    object: Option<&ObjectProfile>,
) -> BTreeMap<String, Resolution> {
    change
        .fields
        .keys()
        .filter(|f| change.server_values.contains_key(*f))
        .filter_map(|f| match policy_for(object, f) {
            ConflictPolicy::ServerWins => Some((f.clone(), Resolution::TakeServer)),
            ConflictPolicy::ClientWins => Some((f.clone(), Resolution::KeepLocal)),
            ConflictPolicy::Manual => None,
        })
        .collect()
}

/// A field of the server's record, matched case-insensitively as Salesforce does.
fn server_value<'a>(server: &'a Record, field: &str) -> Option<&'a Value> {
    server.get(field).or_else(|| {
        server.iter().find(|(name, _)| name.eq_ignore_ascii_case(field)).map(|(_, v)| v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::plan::tests::object_profile;
    use serde_json::json;

    fn record(v: Value) -> Record {
        serde_json::from_value(v).unwrap()
    }

    fn with_policy(default: ConflictPolicy, fields: &[(&str, ConflictPolicy)]) -> ObjectProfile {
        let mut o = object_profile("Account", None);
        o.conflict = default;
        o.field_conflicts = fields.iter().map(|(f, p)| (f.to_string(), *p)).collect();
        o
    }

    #[test]
    fn edits_to_different_fields_merge() {
        let local = record(json!({"Phone": "555-2"}));
        let base = record(json!({"Phone": "555-1"}));
        let server = record(json!({"Id": "001000000000001", "Phone": "555-1", "Name": "Changed"}));
        let o = with_policy(ConflictPolicy::Manual, &[]);
        assert_eq!(
            merge(&local, &base, Some(&server), Some(&o)),
            Merge::Clean { send: record(json!({"Phone": "555-2"})) }
        );
    }

    #[test]
    fn the_same_edit_on_both_sides_is_no_conflict_and_not_resent() {
        let local = record(json!({"Phone": "555-2", "Rating": 3}));
        let base = record(json!({"Phone": "555-1", "Rating": 1}));
        let server = record(json!({"phone": "555-2", "Rating": 1.0}));
        let o = with_policy(ConflictPolicy::Manual, &[]);
        assert_eq!(
            merge(&local, &base, Some(&server), Some(&o)),
            Merge::Clean { send: record(json!({"Rating": 3})) }
        );
    }

    #[test]
    fn a_field_changed_on_both_sides_follows_its_policy() {
        let local = record(json!({"Phone": "local", "Status": "local", "Name": "local"}));
        let base = record(json!({"Phone": "base", "Status": "base", "Name": "base"}));
        let server = record(json!({"Phone": "server", "Status": "server", "Name": "base"}));

        let o = with_policy(ConflictPolicy::ServerWins, &[("Status", ConflictPolicy::ClientWins)]);
        let Merge::Settled { conflicts, choices } = merge(&local, &base, Some(&server), Some(&o))
        else {
            panic!("expected a settled merge");
        };
        assert_eq!(conflicts.len(), 2);
        assert_eq!(conflicts[0].field, "Phone");
        assert_eq!(conflicts[0].server, json!("server"));
        assert_eq!(conflicts[0].base, json!("base"));
        assert_eq!(conflicts[0].local, json!("local"));
        assert_eq!(choices["Phone"], Resolution::TakeServer);
        assert_eq!(choices["Status"], Resolution::KeepLocal);

        let o = with_policy(ConflictPolicy::ClientWins, &[("Phone", ConflictPolicy::Manual)]);
        let Merge::Parked { conflicts } = merge(&local, &base, Some(&server), Some(&o)) else {
            panic!("expected a parked merge");
        };
        assert_eq!(
            conflicts.iter().map(|c| c.policy).collect::<Vec<_>>(),
            vec![ConflictPolicy::Manual, ConflictPolicy::ClientWins]
        );
    }

    #[test]
    fn objects_outside_the_profile_are_manual() {
        let local = record(json!({"Phone": "local"}));
        let base = record(json!({"Phone": "base"}));
        let server = record(json!({"Phone": "server"}));
        assert!(matches!(merge(&local, &base, Some(&server), None), Merge::Parked { .. }));
        assert_eq!(
            merge(&local, &base, None, None),
            Merge::DeletedOnServer { policy: ConflictPolicy::Manual }
        );
    }

    #[test]
    fn fields_the_server_does_not_return_are_sent() {
        let local = record(json!({"Secret__c": "x"}));
        let base = record(json!({"Secret__c": "y"}));
        let server = record(json!({"Id": "001000000000001"}));
        assert_eq!(
            merge(&local, &base, Some(&server), None),
            Merge::Clean { send: record(json!({"Secret__c": "x"})) }
        );
        assert_eq!(server_values_for(&local, &server), Record::new());
    }
}
