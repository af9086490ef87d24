//! What changed between two profiles, so that a new profile re-scopes only what it must.

use std::collections::BTreeSet;

use super::{ChildRule, ObjectProfile, ParentRule, Profile};

/// How one object present in both profiles changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectChange {
    /// The object's API name.
    pub name: String,
    /// The root filter or `related_only` changed.
    pub filter_changed: bool,
    /// Fields fetched now that were not before.
    pub fields_added: Vec<String>,
    /// Fields no longer fetched.
    pub fields_removed: Vec<String>,
    /// Parent rules declared on this object that are new (or whose filter changed).
    pub parents_added: Vec<ParentRule>,
    /// Parent rules declared on this object that are gone (or whose filter changed).
    pub parents_removed: Vec<ParentRule>,
    /// Child rules declared on this object that are new (or whose filter changed).
    pub children_added: Vec<ChildRule>,
    /// Child rules declared on this object that are gone (or whose filter changed).
    pub children_removed: Vec<ChildRule>,
    /// Interval, conflict policy, external id or record limit changed; no records move.
    pub settings_changed: bool,
}

impl ObjectChange {
    /// True when the set of records in scope may differ.
    pub fn scope_changed(&self) -> bool {
        self.filter_changed
            || !self.parents_added.is_empty()
            || !self.parents_removed.is_empty()
            || !self.children_added.is_empty()
            || !self.children_removed.is_empty()
    }
}

/// The difference between an old and a new profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileDiff {
    /// Objects only the new profile has.
    pub added: Vec<String>,
    /// Objects only the old profile has.
    pub removed: Vec<String>,
    /// Objects both have, with what changed; objects that did not change are left out.
    pub changed: Vec<ObjectChange>,
}

impl ProfileDiff {
    /// Compares `old` with `new`.
    pub fn between(old: &Profile, new: &Profile) -> ProfileDiff {
        let mut diff = ProfileDiff::default();
        for o in &new.objects {
            match old.object(&o.name) {
                None => diff.added.push(o.name.clone()),
                Some(before) => {
                    let change = compare(before, o);
                    if change != (ObjectChange { name: o.name.clone(), ..ObjectChange::default() })
                    {
                        diff.changed.push(change);
                    }
                }
            }
        }
        for o in &old.objects {
            if new.object(&o.name).is_none() {
                diff.removed.push(o.name.clone());
            }
        }
        diff
    }

    /// True when the profiles sync the same records the same way.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn compare(old: &ObjectProfile, new: &ObjectProfile) -> ObjectChange {
    ObjectChange {
        name: new.name.clone(),
        filter_changed: old.filter != new.filter || old.related_only != new.related_only,
        fields_added: minus(&new.fetch_fields, &old.fetch_fields),
        fields_removed: minus(&old.fetch_fields, &new.fetch_fields),
        parents_added: minus(&new.parents, &old.parents),
        parents_removed: minus(&old.parents, &new.parents),
        children_added: minus(&new.children, &old.children),
        children_removed: minus(&old.children, &new.children),
        settings_changed: old.interval_secs != new.interval_secs
            || old.conflict != new.conflict
            || old.field_conflicts != new.field_conflicts
            || old.external_id != new.external_id
            || old.max_records != new.max_records,
    }
}

fn minus<T: Clone + Ord>(a: &[T], b: &[T]) -> Vec<T> {
    let b: BTreeSet<&T> = b.iter().collect();
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}
