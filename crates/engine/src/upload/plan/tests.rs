use super::*;
use crate::profile::{ConflictPolicy, FieldSelection, ObjectProfile};

pub(crate) fn object_profile(name: &str, external_id: Option<&str>) -> ObjectProfile {
    ObjectProfile {
        name: name.into(),
        fields: FieldSelection::All,
        fetch_fields: vec!["Id".into()],
        filter: None,
        related_only: false,
        interval_secs: 900,
        conflict: ConflictPolicy::Manual,
        field_conflicts: BTreeMap::new(),
        external_id: external_id.map(str::to_owned),
        max_records: None,
        parents: vec![],
        children: vec![],
    }
}

fn profile() -> Profile {
    Profile {
        objects: vec![
            object_profile("Account", None),
            object_profile("Contact", None),
            object_profile("WorkOrder", Some("External_Id__c")),
        ],
    }
}

fn change(seq: i64, object: &str, id: &str, op: ChangeOp, refs: &[&str]) -> QueuedChange {
    let state = if refs.is_empty() { ChangeState::Waiting } else { ChangeState::Blocked };
    QueuedChange {
        seq,
        object: object.into(),
        record_id: id.into(),
        op,
        state,
        local_refs: refs.iter().map(|r| r.to_string()).collect(),
    }
}

fn in_state(mut c: QueuedChange, state: ChangeState) -> QueuedChange {
    c.state = state;
    c
}

#[test]
fn groups_by_object_and_operation_in_batches_of_200() {
    let mut changes = Vec::new();
    for seq in 1..=450 {
        changes.push(change(seq, "Account", &format!("001{seq:012}"), ChangeOp::Update, &[]));
    }
    changes.push(change(451, "Contact", "003000000000001", ChangeOp::Delete, &[]));
    changes.push(change(452, "Account", "001999999999999", ChangeOp::Delete, &[]));
    let plan = plan(&changes, &profile(), &PlanOptions::default());

    let shapes: Vec<(&str, BatchOp, usize)> =
        plan.batches.iter().map(|b| (b.object.as_str(), b.op.clone(), b.seqs.len())).collect();
    assert_eq!(
        shapes,
        vec![
            ("Account", BatchOp::Update, 200),
            ("Account", BatchOp::Update, 200),
            ("Account", BatchOp::Update, 50),
            ("Contact", BatchOp::Delete, 1),
            ("Account", BatchOp::Delete, 1),
        ]
    );
    assert_eq!(plan.batches[0].seqs[0], 1);
    assert_eq!(plan.batches[2].seqs.last(), Some(&450));
    assert!(plan.blocked.is_empty());
}

#[test]
fn parents_created_offline_go_before_their_children() {
    let changes = vec![
        change(1, "Contact", "local-c1", ChangeOp::Create, &["local-a1"]),
        change(2, "Account", "local-a1", ChangeOp::Create, &[]),
        change(3, "Task", "local-t1", ChangeOp::Create, &["local-c1", "local-a1"]),
        change(4, "Contact", "003000000000001", ChangeOp::Update, &["local-a1"]),
    ];
    let plan = plan(&changes, &profile(), &PlanOptions::default());
    let order: Vec<(u32, &str, Vec<i64>)> =
        plan.batches.iter().map(|b| (b.level, b.object.as_str(), b.seqs.clone())).collect();
    assert_eq!(
        order,
        vec![
            (0, "Account", vec![2]),
            (1, "Contact", vec![1]),
            (1, "Contact", vec![4]),
            (2, "Task", vec![3]),
        ]
    );
    assert_eq!(plan.first_level().count(), 1);
}

#[test]
fn creates_with_an_external_id_field_are_upserts() {
    let changes = vec![
        change(1, "WorkOrder", "local-w1", ChangeOp::Create, &[]),
        change(2, "Account", "local-a1", ChangeOp::Create, &[]),
    ];
    let plan = plan(&changes, &profile(), &PlanOptions::default());
    assert_eq!(plan.batches[0].op, BatchOp::Upsert { field: "External_Id__c".into() });
    assert_eq!(plan.batches[1].op, BatchOp::Create);
}

#[test]
fn a_failed_parent_blocks_its_children_and_theirs() {
    let changes = vec![
        in_state(change(1, "Account", "local-a1", ChangeOp::Create, &[]), ChangeState::Failed),
        change(2, "Contact", "local-c1", ChangeOp::Create, &["local-a1"]),
        change(3, "Task", "local-t1", ChangeOp::Create, &["local-c1"]),
        change(4, "Account", "001000000000001", ChangeOp::Update, &[]),
    ];
    let plan = plan(&changes, &profile(), &PlanOptions::default());
    assert_eq!(plan.batches.len(), 1);
    assert_eq!(plan.batches[0].seqs, vec![4]);
    assert_eq!(plan.blocked.len(), 2);
    assert_eq!(plan.blocked[0].seq, 2);
    assert_eq!(plan.blocked[0].waits_for, Some(1));
    assert_eq!(
        plan.blocked[0].reason,
        "waits for Account local-a1 (change 1), whose upload failed"
    );
    assert_eq!(plan.blocked[1].waits_for, Some(2));
    assert!(plan.blocked[1].reason.contains("Contact local-c1 (change 2)"));
    assert!(plan.blocked[1].reason.contains("blocked itself"));
}

#[test]
fn conflict_unknown_outcome_deferred_and_missing_parents_block() {
    let cases = [
        (ChangeState::Conflict, false, "in conflict"),
        (ChangeState::Uploading, false, "outcome is not known"),
        (ChangeState::Waiting, true, "left waiting after transient failures"),
    ];
    for (state, deferred, expected) in cases {
        let changes = vec![
            in_state(change(1, "Account", "local-a1", ChangeOp::Create, &[]), state),
            change(2, "Contact", "local-c1", ChangeOp::Create, &["local-a1"]),
        ];
        let mut options = PlanOptions::default();
        if deferred {
            options.deferred.insert(1);
        }
        let plan = plan(&changes, &profile(), &options);
        assert!(plan.batches.is_empty(), "{state:?}");
        assert!(plan.blocked[0].reason.contains(expected), "{}", plan.blocked[0].reason);
    }

    let orphan = vec![change(5, "Contact", "local-c1", ChangeOp::Create, &["local-gone"])];
    let plan = plan(&orphan, &profile(), &PlanOptions::default());
    assert_eq!(plan.blocked[0].waits_for, None);
    assert!(plan.blocked[0].reason.contains("local-gone"));
}

#[test]
fn a_circle_of_offline_records_is_broken_by_leaving_one_reference_out() {
    let changes = vec![
        change(1, "Account", "local-a1", ChangeOp::Create, &["local-a2"]),
        change(2, "Account", "local-a2", ChangeOp::Create, &["local-a1"]),
        change(3, "Account", "local-a3", ChangeOp::Create, &[]),
        change(4, "Contact", "local-c1", ChangeOp::Create, &["local-a1"]),
    ];
    let plan = plan(&changes, &profile(), &PlanOptions::default());
    assert!(plan.blocked.is_empty(), "{:?}", plan.blocked);
    let levels: Vec<(u32, Vec<i64>)> =
        plan.batches.iter().map(|b| (b.level, b.seqs.clone())).collect();
    assert_eq!(levels, vec![(0, vec![2, 3]), (1, vec![1]), (2, vec![4])]);
    assert_eq!(plan.left_out, BTreeMap::from([(2, vec!["local-a1".to_string()])]));
}

#[test]
fn deletes_of_records_that_never_reached_the_server_need_no_request() {
    let changes = vec![change(1, "Account", "local-a1", ChangeOp::Delete, &[])];
    let plan = plan(&changes, &profile(), &PlanOptions::default());
    assert_eq!(plan.batches[0].op, BatchOp::LocalDelete);
}

#[test]
fn failed_and_conflict_changes_are_not_sent() {
    let changes = vec![
        in_state(
            change(1, "Account", "001000000000001", ChangeOp::Update, &[]),
            ChangeState::Failed,
        ),
        in_state(
            change(2, "Account", "001000000000002", ChangeOp::Update, &[]),
            ChangeState::Conflict,
        ),
        in_state(
            change(3, "Account", "001000000000003", ChangeOp::Update, &[]),
            ChangeState::Uploading,
        ),
    ];
    let plan = plan(&changes, &profile(), &PlanOptions::default());
    assert!(plan.batches.is_empty());
    assert!(plan.blocked.is_empty());
}

#[test]
fn a_long_chain_is_planned_level_by_level() {
    let ids: Vec<String> = (0..10).map(|i| format!("local-{i:012}")).collect();
    let mut changes = Vec::new();
    for i in (0..10).rev() {
        let refs: Vec<&str> = if i == 0 { vec![] } else { vec![ids[i - 1].as_str()] };
        changes.push(change(i as i64 + 1, "Account", &ids[i], ChangeOp::Create, &refs));
    }
    let plan = plan(&changes, &profile(), &PlanOptions::default());
    let levels: Vec<u32> = plan.batches.iter().map(|b| b.level).collect();
    assert_eq!(levels, (0..10).collect::<Vec<u32>>());
}

mod properties {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    fn local(i: usize) -> String {
        format!("local-{i:012}")
    }

    /// A queue of creates and updates referring to random creates (circles included),
    /// in random states.
    fn queue() -> impl Strategy<Value = Vec<QueuedChange>> {
        let state = prop_oneof![
            6 => Just(ChangeState::Waiting),
            1 => Just(ChangeState::Failed),
            1 => Just(ChangeState::Conflict),
            1 => Just(ChangeState::Uploading),
        ];
        let entry = (any::<bool>(), prop::collection::vec(0usize..40, 0..3), state, 0usize..3);
        prop::collection::vec(entry, 1..40).prop_map(|entries| {
            let n = entries.len();
            entries
                .into_iter()
                .enumerate()
                .map(|(i, (is_create, refs, state, object))| {
                    let local_refs: Vec<String> =
                        refs.into_iter().map(|r| local(r % n)).filter(|r| *r != local(i)).collect();
                    let state = match state {
                        ChangeState::Waiting if !local_refs.is_empty() => ChangeState::Blocked,
                        s => s,
                    };
                    QueuedChange {
                        seq: i as i64 + 1,
                        object: ["Account", "Contact", "WorkOrder"][object].into(),
                        record_id: if is_create { local(i) } else { format!("001{i:012}") },
                        op: if is_create { ChangeOp::Create } else { ChangeOp::Update },
                        state,
                        local_refs,
                    }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn every_candidate_is_planned_once_and_after_its_parents(
            changes in queue(),
            batch_size in 1usize..5,
        ) {
            let options = PlanOptions { batch_size, ..PlanOptions::default() };
            let plan = plan(&changes, &profile(), &options);

            let mut level_of: HashMap<i64, u32> = HashMap::new();
            let mut last_level = 0;
            for batch in &plan.batches {
                prop_assert!(!batch.seqs.is_empty() && batch.seqs.len() <= batch_size);
                prop_assert!(batch.level >= last_level);
                last_level = batch.level;
                for seq in &batch.seqs {
                    prop_assert!(level_of.insert(*seq, batch.level).is_none());
                }
            }
            let blocked: Vec<i64> = plan.blocked.iter().map(|b| b.seq).collect();
            for change in &changes {
                let candidate = matches!(change.state, ChangeState::Waiting | ChangeState::Blocked);
                let planned = level_of.contains_key(&change.seq);
                let held = blocked.contains(&change.seq);
                prop_assert_eq!(candidate, planned || held, "seq {}", change.seq);
                prop_assert!(!(planned && held));
            }
            let by_id: HashMap<&str, &QueuedChange> =
                changes.iter().map(|c| (c.record_id.as_str(), c)).collect();
            for change in &changes {
                let Some(level) = level_of.get(&change.seq) else { continue };
                let left_out = plan.left_out.get(&change.seq);
                if left_out.is_some() {
                    prop_assert_eq!(change.op, ChangeOp::Create);
                }
                for r in &change.local_refs {
                    if left_out.is_some_and(|ids| ids.contains(r)) {
                        continue;
                    }
                    let parent = by_id[r.as_str()];
                    let parent_level = level_of.get(&parent.seq);
                    prop_assert!(parent_level.is_some_and(|p| p < level), "seq {}", change.seq);
                }
            }
        }
    }
}
