//! Checks a parsed profile against describe data and resolves it into a [`Profile`].

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use soql::schema::{FieldType, ObjectSchema};
use toml::Spanned;

use super::error::line_of;
use super::filter::check_filter;
use super::raw::{RawObject, RawProfile};
use super::{
    ChildRule, ConflictPolicy, DEFAULT_INTERVAL_SECS, FieldSelection, ObjectProfile, ParentRule,
    Profile, ProfileError, ProfileErrorKind, ProfileErrors, dependency_order, parse_interval,
};

/// What the org says about its objects: the names it knows (from describeGlobal) and the
/// full describe of the objects a profile uses.
#[derive(Debug, Clone, Default)]
pub struct Describes {
    known: BTreeMap<String, String>,
    schemas: BTreeMap<String, ObjectSchema>,
}

impl Describes {
    /// Describe data from the org's object names and the schemas described so far. A
    /// described object counts as known.
    pub fn new(
        known_objects: impl IntoIterator<Item = String>,
        schemas: impl IntoIterator<Item = ObjectSchema>,
    ) -> Describes {
        let mut known: BTreeMap<String, String> =
            known_objects.into_iter().map(|n| (n.to_ascii_lowercase(), n)).collect();
        let mut by_name = BTreeMap::new();
        for schema in schemas {
            known.insert(schema.name.to_ascii_lowercase(), schema.name.clone());
            by_name.insert(schema.name.to_ascii_lowercase(), schema);
        }
        Describes { known, schemas: by_name }
    }

    /// The schema of `name`, compared case-insensitively.
    pub fn schema(&self, name: &str) -> Option<&ObjectSchema> {
        self.schemas.get(&name.to_ascii_lowercase())
    }

    /// Whether the org knows an object by this name.
    pub fn is_known(&self, name: &str) -> bool {
        self.known.contains_key(&name.to_ascii_lowercase())
    }
}

/// Collects errors with their lines.
struct Errors<'a> {
    source_name: &'a str,
    text: &'a str,
    list: Vec<ProfileError>,
}

impl Errors<'_> {
    fn at(&mut self, span: Range<usize>, kind: ProfileErrorKind) {
        self.at_line(line_of(self.text, span.start), kind);
    }

    fn at_line(&mut self, line: usize, kind: ProfileErrorKind) {
        self.list.push(ProfileError { source_name: self.source_name.to_string(), line, kind });
    }

    /// The line where `word` appears quoted inside `span`, or the span's first line.
    fn line_of_word(&self, span: Range<usize>, word: &str) -> usize {
        let slice = self.text.get(span.clone()).unwrap_or("");
        let found = [format!("\"{word}\""), format!("'{word}'")]
            .iter()
            .filter_map(|quoted| slice.find(quoted.as_str()))
            .min();
        line_of(self.text, span.start + found.unwrap_or(0))
    }
}

/// A declared object, found in the describe data.
struct Declared<'a> {
    name: String,
    key_span: Range<usize>,
    raw: &'a RawObject,
    schema: &'a ObjectSchema,
}

pub(super) fn validate(
    source_name: &str,
    text: &str,
    raw: &RawProfile,
    describes: &Describes,
) -> Result<Profile, ProfileErrors> {
    let mut errors = Errors { source_name, text, list: Vec::new() };

    if let Some(version) = &raw.version
        && *version.get_ref() != 1
    {
        errors.at(version.span(), ProfileErrorKind::UnsupportedVersion(*version.get_ref()));
    }
    if raw.objects.is_empty() {
        errors.at_line(1, ProfileErrorKind::NoObjects);
    }

    // Find every declared object in the describe data, in file order.
    let mut entries: Vec<(&Spanned<String>, &RawObject)> = raw.objects.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    let mut declared: Vec<Declared<'_>> = Vec::new();
    let mut seen = BTreeSet::new();
    for (key, object) in entries {
        let name = key.get_ref();
        if !describes.is_known(name) {
            errors.at(key.span(), ProfileErrorKind::UnknownObject(name.clone()));
            continue;
        }
        let Some(schema) = describes.schema(name) else {
            errors.at(key.span(), ProfileErrorKind::NotDescribed(name.clone()));
            continue;
        };
        if !seen.insert(schema.name.to_ascii_lowercase()) {
            errors.at(key.span(), ProfileErrorKind::DuplicateObject(schema.name.clone()));
            continue;
        }
        if schema.field("Id").is_none() || schema.field("SystemModstamp").is_none() {
            errors.at(key.span(), ProfileErrorKind::NotReplicable(schema.name.clone()));
            continue;
        }
        declared.push(Declared {
            name: schema.name.clone(),
            key_span: key.span(),
            raw: object,
            schema,
        });
    }

    // Resolve each object on its own, then the rules that join them.
    let mut rule_lines: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut objects: Vec<ObjectProfile> = Vec::new();
    for d in &declared {
        objects.push(resolve_object(d, &declared, &mut errors, &mut rule_lines));
    }
    if !errors.list.is_empty() {
        return Err(ProfileErrors(errors.list));
    }

    // Children rules need the child's lookup fetched too; related_only objects need a rule.
    let child_fields: Vec<(String, String)> = objects
        .iter()
        .flat_map(|o| o.children.iter().map(|c| (c.child.clone(), c.field.clone())))
        .collect();
    for (child, field) in child_fields {
        if let Some(o) = objects.iter_mut().find(|o| o.name == child) {
            push_unique(&mut o.fetch_fields, &field);
        }
    }
    let profile = Profile { objects };
    for (o, d) in profile.objects.iter().zip(&declared) {
        if o.related_only && super::graph::scope_sources(&profile, &o.name).is_empty() {
            errors.at(d.key_span.clone(), ProfileErrorKind::Unreachable(o.name.clone()));
        }
    }
    if let Err(cycle) = dependency_order(&profile) {
        let line = cycle
            .windows(2)
            .find_map(|w| {
                rule_lines.get(&(w[0].to_ascii_lowercase(), w[1].to_ascii_lowercase())).copied()
            })
            .unwrap_or(1);
        errors.at_line(line, ProfileErrorKind::Cycle(cycle));
    }
    if errors.list.is_empty() { Ok(profile) } else { Err(ProfileErrors(errors.list)) }
}

fn push_unique(fields: &mut Vec<String>, field: &str) {
    if !fields.iter().any(|f| f.eq_ignore_ascii_case(field)) {
        fields.push(field.to_string());
    }
}

/// Resolves one declared object; problems go to `errors` and the result is then unused.
fn resolve_object(
    d: &Declared<'_>,
    declared: &[Declared<'_>],
    errors: &mut Errors<'_>,
    rule_lines: &mut BTreeMap<(String, String), usize>,
) -> ObjectProfile {
    let raw = d.raw;
    let schema = d.schema;
    let mut fetch_fields = vec!["Id".to_string(), "SystemModstamp".to_string()];
    // Offline queries leave out rows whose IsDeleted is not 0, so it is always fetched.
    if let Some(f) = schema.field("IsDeleted") {
        push_unique(&mut fetch_fields, &f.name);
    }

    // Fields.
    let fields = match &raw.fields {
        None => FieldSelection::All,
        Some(value) => match value.get_ref() {
            toml::Value::String(s) if s == "*" => FieldSelection::All,
            toml::Value::Array(items) => {
                let mut listed = Vec::new();
                for item in items {
                    let Some(name) = item.as_str() else {
                        errors.at(value.span(), ProfileErrorKind::BadFields(d.name.clone()));
                        continue;
                    };
                    match schema.field(name) {
                        Some(f) => listed.push(f.name.clone()),
                        None => {
                            let line = errors.line_of_word(value.span(), name);
                            errors.at_line(
                                line,
                                ProfileErrorKind::UnknownField {
                                    object: d.name.clone(),
                                    field: name.to_string(),
                                },
                            );
                        }
                    }
                }
                FieldSelection::Listed(listed)
            }
            _ => {
                errors.at(value.span(), ProfileErrorKind::BadFields(d.name.clone()));
                FieldSelection::All
            }
        },
    };
    match &fields {
        FieldSelection::All => {
            schema.fields.iter().for_each(|f| push_unique(&mut fetch_fields, &f.name))
        }
        FieldSelection::Listed(list) => list.iter().for_each(|f| push_unique(&mut fetch_fields, f)),
    }

    // Root filter.
    let related_only = raw.related_only.as_ref().is_some_and(|r| *r.get_ref());
    let filter = raw.filter.as_ref().map(|f| {
        if related_only {
            errors.at(f.span(), ProfileErrorKind::FilterOnRelatedOnly(d.name.clone()));
        }
        check_filter_at(errors, f, d.schema);
        f.get_ref().trim().to_string()
    });

    // Interval, conflicts, external id, limits.
    let interval_secs = match &raw.interval {
        None => DEFAULT_INTERVAL_SECS,
        Some(i) => parse_interval(i.get_ref()).unwrap_or_else(|reason| {
            errors
                .at(i.span(), ProfileErrorKind::BadInterval { value: i.get_ref().clone(), reason });
            DEFAULT_INTERVAL_SECS
        }),
    };
    let conflict = raw.conflict.as_ref().map_or(ConflictPolicy::ServerWins, |c| {
        parse_conflict(errors, c).unwrap_or(ConflictPolicy::ServerWins)
    });
    let mut field_conflicts = BTreeMap::new();
    for (field, policy) in &raw.conflict_fields {
        let Some(f) = schema.field(field.get_ref()) else {
            errors.at(
                field.span(),
                ProfileErrorKind::UnknownField {
                    object: d.name.clone(),
                    field: field.get_ref().clone(),
                },
            );
            continue;
        };
        if let Some(p) = parse_conflict(errors, policy) {
            field_conflicts.insert(f.name.clone(), p);
        }
    }
    let external_id = raw.external_id.as_ref().and_then(|e| match schema.field(e.get_ref()) {
        Some(f) => {
            push_unique(&mut fetch_fields, &f.name);
            Some(f.name.clone())
        }
        None => {
            errors.at(
                e.span(),
                ProfileErrorKind::UnknownField {
                    object: d.name.clone(),
                    field: e.get_ref().clone(),
                },
            );
            None
        }
    });
    let max_records = raw.max_records.as_ref().and_then(|m| {
        let n = *m.get_ref();
        if n <= 0 {
            errors.at(m.span(), ProfileErrorKind::BadMaxRecords(n));
            None
        } else {
            u64::try_from(n).ok()
        }
    });

    // Related scope.
    let mut parents = Vec::new();
    for rule in &raw.parents {
        let r = rule.get_ref();
        let Some(field) = schema.field(r.field.get_ref()) else {
            errors.at(
                r.field.span(),
                ProfileErrorKind::UnknownField {
                    object: d.name.clone(),
                    field: r.field.get_ref().clone(),
                },
            );
            continue;
        };
        if field.field_type != FieldType::Reference || field.reference_to.is_empty() {
            errors.at(
                r.field.span(),
                ProfileErrorKind::NotALookup { object: d.name.clone(), field: field.name.clone() },
            );
            continue;
        }
        let target = match &r.object {
            Some(o) => {
                match field.reference_to.iter().find(|t| t.eq_ignore_ascii_case(o.get_ref())) {
                    Some(t) => t.clone(),
                    None => {
                        errors.at(
                            o.span(),
                            ProfileErrorKind::NotATarget {
                                object: d.name.clone(),
                                field: field.name.clone(),
                                target: o.get_ref().clone(),
                            },
                        );
                        continue;
                    }
                }
            }
            None if field.reference_to.len() == 1 => field.reference_to[0].clone(),
            None => {
                errors.at(
                    r.field.span(),
                    ProfileErrorKind::AmbiguousLookup {
                        object: d.name.clone(),
                        field: field.name.clone(),
                        targets: field.reference_to.join(", "),
                    },
                );
                continue;
            }
        };
        let Some(target_decl) = declared.iter().find(|x| x.name.eq_ignore_ascii_case(&target))
        else {
            errors.at(rule.span(), ProfileErrorKind::RelatedNotDeclared(target));
            continue;
        };
        let filter = r.filter.as_ref().map(|f| {
            check_filter_at(errors, f, target_decl.schema);
            f.get_ref().trim().to_string()
        });
        push_unique(&mut fetch_fields, &field.name);
        rule_lines.insert(
            (d.name.to_ascii_lowercase(), target_decl.name.to_ascii_lowercase()),
            line_of(errors.text, rule.span().start),
        );
        parents.push(ParentRule {
            field: field.name.clone(),
            target: target_decl.name.clone(),
            filter,
        });
    }
    let mut children = Vec::new();
    for rule in &raw.children {
        let r = rule.get_ref();
        let Some(rel) = schema.child_relationship(r.relationship.get_ref()) else {
            errors.at(
                r.relationship.span(),
                ProfileErrorKind::UnknownRelationship {
                    object: d.name.clone(),
                    relationship: r.relationship.get_ref().clone(),
                },
            );
            continue;
        };
        let Some(child_decl) =
            declared.iter().find(|x| x.name.eq_ignore_ascii_case(&rel.child_object))
        else {
            errors.at(rule.span(), ProfileErrorKind::RelatedNotDeclared(rel.child_object.clone()));
            continue;
        };
        let field =
            child_decl.schema.field(&rel.field).map_or(rel.field.clone(), |f| f.name.clone());
        let filter = r.filter.as_ref().map(|f| {
            check_filter_at(errors, f, child_decl.schema);
            f.get_ref().trim().to_string()
        });
        rule_lines.insert(
            (d.name.to_ascii_lowercase(), child_decl.name.to_ascii_lowercase()),
            line_of(errors.text, rule.span().start),
        );
        children.push(ChildRule {
            relationship: rel.name.clone(),
            child: child_decl.name.clone(),
            field,
            filter,
        });
    }

    ObjectProfile {
        name: d.name.clone(),
        fields,
        fetch_fields,
        filter,
        related_only,
        interval_secs,
        conflict,
        field_conflicts,
        external_id,
        max_records,
        parents,
        children,
    }
}

fn check_filter_at(errors: &mut Errors<'_>, filter: &Spanned<String>, schema: &ObjectSchema) {
    if let Err(reason) = check_filter(schema, filter.get_ref()) {
        let object = schema.name.clone();
        errors.at(filter.span(), ProfileErrorKind::BadFilter { object, reason });
    }
}

fn parse_conflict(errors: &mut Errors<'_>, policy: &Spanned<String>) -> Option<ConflictPolicy> {
    let parsed = ConflictPolicy::parse(policy.get_ref());
    if parsed.is_none() {
        errors.at(policy.span(), ProfileErrorKind::BadConflict(policy.get_ref().clone()));
    }
    parsed
}
