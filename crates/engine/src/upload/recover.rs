//! What became of creates whose outcome is unknown: the request left, but the answer
//! never came back (the process died, or the connection dropped).
//!
//! A create sent as an upsert on an external id field can simply be sent again. Any other
//! create is looked for on the org first: records of the object created by this user
//! since shortly before the change was made, whose values equal every value the create
//! set, and that this device does not know yet. Exactly one match is adopted as the
//! record; none means the create never landed and is sent again; more than one cannot be
//! told apart and is left for the user to decide. Several identical creates with as many
//! (or fewer) identical matches are paired off in order.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use salesforce::Client;
use salesforce::wire::Record;

use super::compare::same_value;

/// A create whose outcome is unknown.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownCreate {
    pub seq: i64,
    /// The record's local id.
    pub local_id: String,
    pub created_at: DateTime<Utc>,
    /// The values the create set (nulls are not compared).
    pub fields: Record,
}

/// What to do with an unknown create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The org has it: this is its id.
    Adopt(String),
    /// The org does not have it: send it again.
    Resend,
    /// Several records on the org match; a person must decide. The ids found.
    Ambiguous(Vec<String>),
}

/// The query for the records that could be `creates` (all of one object).
pub fn candidate_query(
    object: &str,
    creates: &[UnknownCreate],
    user_id: &str,
    since: DateTime<Utc>,
) -> String {
    let mut fields: Vec<&str> = vec!["Id"];
    for create in creates {
        for name in create.fields.keys() {
            if !fields.iter().any(|f| f.eq_ignore_ascii_case(name)) {
                fields.push(name);
            }
        }
    }
    format!(
        "SELECT {} FROM {object} WHERE CreatedById = {} AND CreatedDate >= {} ORDER BY CreatedDate, Id",
        fields.join(", "),
        quote(user_id),
        salesforce::time::format_datetime_z(since),
    )
}

/// A SOQL string literal.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Decides each create from the candidate records (in creation order). `known` holds ids
/// this device already has, which cannot be one of the creates.
pub fn match_candidates(
    creates: &[UnknownCreate],
    candidates: &[Record],
    known: &HashSet<String>,
) -> Vec<(i64, Finding)> {
    let candidates: Vec<(&str, &Record)> = candidates
        .iter()
        .filter_map(|r| r.get("Id").and_then(|v| v.as_str()).map(|id| (id, r)))
        .filter(|(id, _)| !known.contains(*id))
        .collect();

    // Creates that match the same records are told apart only by order.
    let mut groups: BTreeMap<(Vec<&str>, String), Vec<&UnknownCreate>> = BTreeMap::new();
    for create in creates {
        let matching: Vec<&str> = candidates
            .iter()
            .filter(|(_, record)| matches(create, record))
            .map(|(id, _)| *id)
            .collect();
        groups.entry((matching, values_key(create))).or_default().push(create);
    }
    let mut claimed: BTreeMap<&str, usize> = BTreeMap::new();
    for (ids, _) in groups.keys() {
        for id in ids {
            *claimed.entry(id).or_default() += 1;
        }
    }

    let mut findings = Vec::new();
    for ((ids, key), mut group) in groups {
        // A create with no values to compare (a create deleted while in flight) matches
        // every candidate: only the absence of any candidate is conclusive.
        if key.is_empty() {
            let finding = if candidates.is_empty() {
                Finding::Resend
            } else {
                Finding::Ambiguous(candidates.iter().map(|(id, _)| id.to_string()).collect())
            };
            findings.extend(group.iter().map(|c| (c.seq, finding.clone())));
            continue;
        }
        group.sort_by_key(|c| c.seq);
        let shared = ids.iter().any(|id| claimed.get(id).copied().unwrap_or(0) > 1);
        if ids.len() > group.len() || shared {
            let found: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
            findings.extend(group.iter().map(|c| (c.seq, Finding::Ambiguous(found.clone()))));
            continue;
        }
        for (i, create) in group.iter().enumerate() {
            let finding = match ids.get(i) {
                Some(id) => Finding::Adopt(id.to_string()),
                None => Finding::Resend,
            };
            findings.push((create.seq, finding));
        }
    }
    findings.sort_by_key(|(seq, _)| *seq);
    findings
}

/// The create's non-null values in a form equal for equal creates.
fn values_key(create: &UnknownCreate) -> String {
    let values: BTreeMap<String, String> = create
        .fields
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    if values.is_empty() { String::new() } else { format!("{values:?}") }
}

fn matches(create: &UnknownCreate, record: &Record) -> bool {
    create.fields.iter().filter(|(_, v)| !v.is_null()).all(|(name, value)| {
        let server = record
            .get(name)
            .or_else(|| record.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v));
        server.is_some_and(|s| same_value(s, value))
    })
}

/// Runs the candidate query, reading at most `max_records` records. Returns the records,
/// the number of requests made, and whether the query was read to its end.
pub async fn fetch_candidates(
    client: &Client,
    soql: &str,
    max_records: usize,
    requests: &mut u32,
) -> Result<(Vec<Record>, bool), salesforce::Error> {
    let mut pager = client.query_pages(soql, 2000);
    let mut records = Vec::new();
    loop {
        *requests += 1;
        let Some(page) = pager.next_page().await? else { return Ok((records, true)) };
        records.extend(page.records);
        if page.done {
            return Ok((records, true));
        }
        if records.len() >= max_records {
            return Ok((records, false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::{Value, json};

    fn record(v: Value) -> Record {
        serde_json::from_value(v).unwrap()
    }

    fn create(seq: i64, fields: Value) -> UnknownCreate {
        UnknownCreate {
            seq,
            local_id: format!("local-{seq:012}"),
            created_at: Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap(),
            fields: record(fields),
        }
    }

    #[test]
    fn the_query_names_user_time_and_fields() {
        let creates =
            [create(1, json!({"Name": "a"})), create(2, json!({"name": "b", "Phone": 1}))];
        let since = Utc.with_ymd_and_hms(2026, 5, 1, 7, 0, 0).unwrap();
        assert_eq!(
            candidate_query("Account", &creates, "005x'y", since),
            "SELECT Id, Name, Phone FROM Account WHERE CreatedById = '005x\\'y' \
             AND CreatedDate >= 2026-05-01T07:00:00Z ORDER BY CreatedDate, Id"
        );
    }

    #[test]
    fn one_match_is_adopted_none_resent_several_ambiguous() {
        let creates = [
            create(1, json!({"Name": "Acme", "Phone": null})),
            create(2, json!({"Name": "Globex"})),
            create(3, json!({"Name": "Initech"})),
        ];
        let candidates = [
            record(json!({"Id": "001000000000001AAA", "Name": "Acme", "Phone": "1"})),
            record(json!({"Id": "001000000000002AAA", "Name": "Initech"})),
            record(json!({"Id": "001000000000003AAA", "Name": "Initech"})),
            record(json!({"Id": "001000000000004AAA", "Name": "Globex"})),
        ];
        let known: HashSet<String> = ["001000000000004AAA".to_string()].into();
        assert_eq!(
            match_candidates(&creates, &candidates, &known),
            vec![
                (1, Finding::Adopt("001000000000001AAA".into())),
                (2, Finding::Resend),
                (
                    3,
                    Finding::Ambiguous(vec![
                        "001000000000002AAA".into(),
                        "001000000000003AAA".into()
                    ])
                ),
            ]
        );
    }

    #[test]
    fn identical_creates_pair_off_with_identical_matches() {
        let creates = [
            create(1, json!({"Subject": "Visit"})),
            create(2, json!({"Subject": "Visit"})),
            create(3, json!({"Subject": "Visit"})),
        ];
        let candidates = [
            record(json!({"Id": "00T000000000001AAA", "Subject": "Visit"})),
            record(json!({"Id": "00T000000000002AAA", "Subject": "Visit"})),
        ];
        assert_eq!(
            match_candidates(&creates, &candidates, &HashSet::new()),
            vec![
                (1, Finding::Adopt("00T000000000001AAA".into())),
                (2, Finding::Adopt("00T000000000002AAA".into())),
                (3, Finding::Resend),
            ]
        );
    }

    #[test]
    fn a_create_without_values_is_adopted_never() {
        let creates = [create(1, json!({}))];
        let one = [record(json!({"Id": "001000000000001AAA", "Name": "A"}))];
        assert!(matches!(
            match_candidates(&creates, &one, &HashSet::new())[0].1,
            Finding::Ambiguous(_)
        ));
        assert_eq!(match_candidates(&creates, &[], &HashSet::new()), vec![(1, Finding::Resend)]);
    }

    #[test]
    fn a_record_matching_two_different_creates_is_ambiguous() {
        let creates =
            [create(1, json!({"Name": "A"})), create(2, json!({"Name": "A", "Phone": "1"}))];
        let candidates = [record(json!({"Id": "001000000000001AAA", "Name": "A", "Phone": "1"}))];
        let findings = match_candidates(&creates, &candidates, &HashSet::new());
        assert!(findings.iter().all(|(_, f)| matches!(f, Finding::Ambiguous(_))), "{findings:?}");
    }
}
