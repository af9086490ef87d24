//! Property test: any sequence of local edits, uploads and discards keeps the record's row,
//! its queue entry and the `_pending` flag consistent with a simple model.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};
use store::{ChangeOp, ChangeState, PendingFilter};

use crate::{Fixture, account, account_id, rec, t};

#[derive(Debug, Clone)]
enum Op {
    Update(usize, usize),
    Delete,
    Discard,
    StartUpload,
    Complete,
    /// A download brings this value for a field.
    Download(usize, usize),
}

const FIELDS: [&str; 3] = ["Name", "Industry", "NumberOfEmployees"];

fn value(field: usize, choice: usize) -> Value {
    match field {
        0 => json!(["Acme", "B", "C"][choice % 3]),
        1 => json!(["Energy", "X"][choice % 2]),
        _ => json!([12, 13][choice % 2]),
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..3usize).prop_map(|(f, v)| Op::Update(f, v)),
        1 => Just(Op::Delete),
        1 => Just(Op::Discard),
        2 => Just(Op::StartUpload),
        2 => Just(Op::Complete),
        3 => (0..3usize, 0..3usize).prop_map(|(f, v)| Op::Download(f, v)),
    ]
}

#[derive(Debug, Default)]
struct Model {
    server: BTreeMap<String, Value>,
    local: BTreeMap<String, Value>,
    deleted_local: bool,
    gone: bool,
    uploading: Option<(ChangeOp, store::Record)>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn edits_uploads_and_discards_stay_consistent(ops in proptest::collection::vec(op(), 1..14)) {
        let fx = Fixture::new();
        let id = account_id(1);
        fx.store.write(|tx| tx.upsert_records("Account", &[account(1, "Acme")])).unwrap();
        let mut m = Model::default();
        for (i, f) in FIELDS.iter().enumerate() {
            m.server.insert((*f).to_owned(), value(i, 0));
        }
        m.local = m.server.clone();
        let entry = |fx: &Fixture| {
            fx.store.read(|r| r.pending_changes(&PendingFilter::default())).unwrap()
        };

        for op in ops {
            let before = entry(&fx);
            let seq = before.first().map(|c| c.seq);
            match op {
                Op::Update(f, v) => {
                    let fields = rec(json!({ FIELDS[f]: value(f, v) }));
                    let r = fx.store.write(|tx| tx.record_edit("Account", Some(&id), ChangeOp::Update, &fields, t(1)));
                    if r.is_ok() {
                        m.local.insert(FIELDS[f].to_owned(), value(f, v));
                    } else {
                        prop_assert!(m.deleted_local || m.gone);
                    }
                }
                Op::Delete => {
                    let r = fx.store.write(|tx| tx.record_edit("Account", Some(&id), ChangeOp::Delete, &rec(json!({})), t(1)));
                    if r.is_ok() { m.deleted_local = true } else { prop_assert!(m.deleted_local || m.gone) }
                }
                Op::Discard => {
                    let Some(seq) = seq else { continue };
                    let r = fx.store.write(|tx| tx.discard(seq, t(2)));
                    if r.is_ok() {
                        m.local = m.server.clone();
                        m.deleted_local = false;
                    } else {
                        prop_assert!(m.uploading.is_some());
                    }
                }
                Op::StartUpload => {
                    let Some(seq) = seq else { continue };
                    if let Ok(sent) = fx.store.write(|tx| tx.mark_uploading(seq, t(3))) {
                        prop_assert!(m.uploading.is_none());
                        m.uploading = Some((sent.op, sent.fields));
                    } else {
                        prop_assert!(m.uploading.is_some());
                    }
                }
                Op::Download(f, v) => {
                    let name = FIELDS[f];
                    let mut server = rec(json!({"Id": id, name: value(f, v)}));
                    server.insert(name.to_owned(), value(f, v));
                    let out = fx.store.write(|tx| tx.upsert_records("Account", &[server])).unwrap();
                    let protected = before.first().is_some_and(|c| {
                        c.fields.contains_key(name) || c.base.contains_key(name)
                    });
                    if m.gone {
                        // The server sent it again: it is back, with only what was sent.
                        prop_assert_eq!(out.inserted.len(), 1);
                        return Ok(());
                    }
                    if !protected {
                        m.local.insert(name.to_owned(), value(f, v));
                    }
                    m.server.insert(name.to_owned(), value(f, v));
                }
                Op::Complete => {
                    let Some(seq) = seq else { continue };
                    if fx.store.write(|tx| tx.complete(seq, t(4))).is_ok() {
                        let (op, sent) = m.uploading.take().unwrap();
                        if op == ChangeOp::Delete {
                            m.gone = true;
                        } else {
                            m.server.extend(sent);
                        }
                    } else {
                        prop_assert!(m.uploading.is_none());
                    }
                }
            }

            // The row shows the local values, or is hidden or gone.
            let flags = fx.store.read(|r| r.record_flags("Account", &id)).unwrap();
            if m.gone {
                prop_assert!(flags.is_none());
                prop_assert!(entry(&fx).is_empty());
                continue;
            }
            let flags = flags.unwrap();
            prop_assert_eq!(flags.deleted, m.deleted_local);
            if !m.deleted_local {
                let row = fx.store.read(|r| r.get_record("Account", &id)).unwrap().unwrap();
                for f in FIELDS {
                    prop_assert_eq!(&row[f], &m.local[f], "field {}", f);
                }
            }

            // One entry at most, exactly when something differs from the server or is in flight.
            let entries = entry(&fx);
            prop_assert!(entries.len() <= 1);
            prop_assert_eq!(flags.pending, !entries.is_empty());
            let differs = m.local != m.server;
            prop_assert_eq!(!entries.is_empty(), m.deleted_local || differs || m.uploading.is_some());
            if let Some(c) = entries.first().filter(|c| c.op == ChangeOp::Update && c.state != ChangeState::Uploading) {
                let diff: store::Record = m.local.iter()
                    .filter(|(k, v)| m.server.get(*k) != Some(*v))
                    .map(|(k, v)| (k.clone(), v.clone())).collect();
                prop_assert_eq!(&c.fields, &diff);
                // Each changed field has a base (the value before its first edit).
                let base_keys: std::collections::BTreeSet<_> = c.base.keys().collect();
                let field_keys: std::collections::BTreeSet<_> = c.fields.keys().collect();
                prop_assert_eq!(base_keys, field_keys);
            }
        }
    }
}
