//! The scope planner: from a validated profile and the syncing user, the SOQL condition
//! that selects each object's in-scope records. Pure functions; no I/O.
//!
//! An object's scope is the union of its rules:
//! - a root object's own filter (or every record, without one);
//! - for each `parents` rule on object C through lookup F:
//!   `Id IN (SELECT F FROM C WHERE <scope of C>)`, with the rule's filter;
//! - for each `children` rule on object P whose child points back through F:
//!   `F IN (SELECT Id FROM P WHERE <scope of P>)`, with the rule's filter.
//!
//! SOQL allows a single level of semi-join, so the form above serves only when C (or P)
//! is a root whose scope is its own filter. Further from a root, a rule becomes a
//! [`HeldLink`]: it is resolved against the C (or P) records the store already holds,
//! which is exact because objects are synced after the objects their scope is derived
//! from.

mod query;

#[cfg(test)]
mod tests;

use soql::ast::{Condition, FieldPath, InList, Name, Query, SelectItem, Span};

use crate::profile::filter::{bind_user, parse_filter};
use crate::profile::{Profile, dependency_order};

pub use query::{Cursor, StampBound};

/// Why a profile cannot be planned. A validated profile always plans; these guard against
/// profiles built by hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// Occurs when related scope forms a cycle.
    #[error("related scope forms a cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// Occurs when a filter does not parse.
    #[error("filter of {object} does not parse: {reason}")]
    BadFilter {
        /// The object the filter applies to.
        object: String,
        /// What the parser said.
        reason: String,
    },
}

/// Where one rule of an object's scope comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSource {
    /// The object's own filter (or all its records).
    Root,
    /// A lookup `field` on `from` points at these records.
    Parent {
        /// The object holding the lookup.
        from: String,
        /// The lookup field on `from`.
        field: String,
    },
    /// These records point at an in-scope `from` record through their own `field`.
    Child {
        /// The parent object.
        from: String,
        /// The lookup field on this object.
        field: String,
    },
}

/// A link to records held locally, for scope that a single semi-join cannot express
/// (SOQL allows one level of semi-join, so scope two steps from a root is resolved
/// against the records already in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldLink {
    /// This record's `Id` is the value of lookup `field` on a held `from` record.
    LookupTarget {
        /// The object holding the lookup.
        from: String,
        /// The lookup field on `from`.
        field: String,
    },
    /// This record's lookup `field` holds the id of a held `from` record.
    ChildOf {
        /// The parent object.
        from: String,
        /// The lookup field on this object.
        field: String,
    },
}

/// The condition of one rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleCondition {
    /// Every record of the object.
    All,
    /// A condition the server evaluates alone.
    Server(Condition),
    /// A link to held records, plus a condition the server evaluates on the record itself.
    Held {
        /// The link.
        link: HeldLink,
        /// The rule's own filter.
        filter: Option<Condition>,
    },
}

/// One way a record comes into scope.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeRule {
    /// Where the rule comes from.
    pub source: RuleSource,
    /// What a record must meet.
    pub condition: RuleCondition,
}

/// The scope of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectScope {
    /// The object's API name.
    pub object: String,
    /// The fields to fetch, `Id` and `SystemModstamp` first.
    pub fields: Vec<String>,
    /// The rules; a record is in scope while any of them brings it in.
    pub rules: Vec<ScopeRule>,
    /// The most records to hold.
    pub max_records: Option<u64>,
}

impl ObjectScope {
    /// Whether some rule is evaluated by the server alone, so that in-scope records can
    /// be listed with one query.
    pub fn has_server_rules(&self) -> bool {
        self.rules.iter().any(|r| !matches!(r.condition, RuleCondition::Held { .. }))
    }

    /// The held links and their filters.
    pub fn held_rules(&self) -> impl Iterator<Item = (&HeldLink, Option<&Condition>)> {
        self.rules.iter().filter_map(|r| match &r.condition {
            RuleCondition::Held { link, filter } => Some((link, filter.as_ref())),
            _ => None,
        })
    }

    /// The union of the server-evaluated rules; `None` means every record (or, without
    /// server rules, see [`ObjectScope::has_server_rules`]).
    pub fn condition(&self) -> Option<Condition> {
        let mut parts = Vec::new();
        for rule in &self.rules {
            match &rule.condition {
                RuleCondition::All => return None,
                RuleCondition::Server(c) => parts.push(c.clone()),
                RuleCondition::Held { .. } => {}
            }
        }
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Condition::Or(parts)),
        }
    }

    /// The server condition as SOQL text, `None` when it selects every record.
    pub fn condition_text(&self) -> Option<String> {
        self.condition().map(|c| c.to_string())
    }

    /// True when the object's scope reads only the server: no rule needs held records.
    fn is_flat(&self) -> bool {
        self.rules.iter().all(|r| r.source == RuleSource::Root)
    }
}

/// The scope of every object of a profile, ordered so that an object comes after the
/// objects its scope is derived from.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopePlan {
    /// The objects, in dependency order.
    pub objects: Vec<ObjectScope>,
}

impl ScopePlan {
    /// The scope of `object`, compared case-insensitively.
    pub fn object(&self, object: &str) -> Option<&ObjectScope> {
        self.objects.iter().find(|o| o.object.eq_ignore_ascii_case(object))
    }

    /// The objects of `self` whose rules differ from `old`'s, that `old` lacks, or whose
    /// held links reach such an object: the objects a profile change must re-scope.
    pub fn rescoped_since(&self, old: &ScopePlan) -> Vec<String> {
        let mut rescoped: Vec<String> = Vec::new();
        for o in &self.objects {
            let own = old.object(&o.object).is_none_or(|b| b.rules != o.rules);
            let through = o.held_rules().any(|(link, _)| {
                let (HeldLink::LookupTarget { from, .. } | HeldLink::ChildOf { from, .. }) = link;
                rescoped.contains(from)
            });
            if own || through {
                rescoped.push(o.object.clone());
            }
        }
        rescoped
    }
}

/// Plans the scope of every object of `profile` for the user `user_id`.
pub fn plan(profile: &Profile, user_id: &str) -> Result<ScopePlan, ScopeError> {
    let order = dependency_order(profile).map_err(ScopeError::Cycle)?;
    let mut planned: Vec<ObjectScope> = Vec::with_capacity(order.len());
    for name in order {
        let Some(object) = profile.object(&name) else { continue };
        let mut rules = Vec::new();

        // The object's own filter, unless it only comes in through others.
        if !object.related_only {
            let condition = match &object.filter {
                Some(f) => RuleCondition::Server(bound_filter(&object.name, f, user_id)?),
                None => RuleCondition::All,
            };
            rules.push(ScopeRule { source: RuleSource::Root, condition });
        }

        // Every rule of another object that brings this one in: a semi-join on that
        // object's scope when it is a plain root filter, otherwise a link to the records
        // of that object already held.
        for source in &profile.objects {
            let Some(source_scope) = planned.iter().find(|p| p.object == source.name) else {
                continue;
            };
            let flat = source_scope.is_flat();
            for rule in source.parents.iter().filter(|r| r.target == object.name) {
                let filter = match &rule.filter {
                    Some(f) => Some(bound_filter(&object.name, f, user_id)?),
                    None => None,
                };
                let condition = if flat {
                    let join = semi_join("Id", &rule.field, &source.name, source_scope.condition());
                    RuleCondition::Server(and(std::iter::once(join).chain(filter).collect()))
                } else {
                    let link = HeldLink::LookupTarget {
                        from: source.name.clone(),
                        field: rule.field.clone(),
                    };
                    RuleCondition::Held { link, filter }
                };
                let source =
                    RuleSource::Parent { from: source.name.clone(), field: rule.field.clone() };
                rules.push(ScopeRule { source, condition });
            }
            for rule in source.children.iter().filter(|r| r.child == object.name) {
                let filter = match &rule.filter {
                    Some(f) => Some(bound_filter(&object.name, f, user_id)?),
                    None => None,
                };
                let condition = if flat {
                    let join = semi_join(&rule.field, "Id", &source.name, source_scope.condition());
                    RuleCondition::Server(and(std::iter::once(join).chain(filter).collect()))
                } else {
                    let link =
                        HeldLink::ChildOf { from: source.name.clone(), field: rule.field.clone() };
                    RuleCondition::Held { link, filter }
                };
                let source =
                    RuleSource::Child { from: source.name.clone(), field: rule.field.clone() };
                rules.push(ScopeRule { source, condition });
            }
        }

        planned.push(ObjectScope {
            object: object.name.clone(),
            fields: object.fetch_fields.clone(),
            rules,
            max_records: object.max_records,
        });
    }
    Ok(ScopePlan { objects: planned })
}

fn bound_filter(object: &str, filter: &str, user_id: &str) -> Result<Condition, ScopeError> {
    let condition = parse_filter(object, filter)
        .map_err(|reason| ScopeError::BadFilter { object: object.to_string(), reason })?;
    Ok(bind_user(&condition, user_id))
}

/// `field IN (SELECT selected FROM from WHERE condition)`.
pub(crate) fn semi_join(
    field: &str,
    selected: &str,
    from: &str,
    condition: Option<Condition>,
) -> Condition {
    Condition::In {
        field: path(field),
        negated: false,
        list: InList::SubQuery(Box::new(Query {
            select: vec![SelectItem::Field(path(selected))],
            from: Name { text: from.to_string(), span: Span::default() },
            where_clause: condition,
            order_by: Vec::new(),
            limit: None,
            offset: None,
        })),
    }
}

/// A one-part field path.
pub(crate) fn path(field: &str) -> FieldPath {
    FieldPath { parts: vec![field.to_string()], span: Span::default() }
}

/// The conjunction of `parts`, flattening nested `AND`s.
pub(crate) fn and(parts: Vec<Condition>) -> Condition {
    let mut flat = Vec::new();
    for part in parts {
        match part {
            Condition::And(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if flat.len() == 1 { flat.remove(0) } else { Condition::And(flat) }
}
