//! The upload planner: from the queue of pending changes, the batches to send and the
//! order to send them in. Pure: no store, no network, no clock.
//!
//! Changes are grouped by object and operation into batches of at most
//! [`PlanOptions::batch_size`] records, in queue order. A change that refers to a record
//! created offline (a `local-...` id in one of its values) goes in a later *level* than
//! that record's create, so the parent's server id is known, and remapped into the
//! child, before the child is sent. Records created offline that refer to each other in
//! a circle are created one after the other: a create that closes the circle leaves out
//! its references to the records before it ([`UploadPlan::left_out`]), and sends them as
//! a follow-up update once those records have their server ids. A change whose dependency
//! cannot be sent in this run (it failed, is in conflict, or its outcome is unknown) is
//! blocked, with a reason naming the dependency.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use store::pending::is_local_id;
use store::{ChangeOp, ChangeState, PendingChange};

use crate::profile::Profile;

/// At most this many levels of records created offline under one another are planned;
/// deeper chains wait for the next run.
pub const MAX_LEVELS: u32 = 32;

/// What the planner needs to know of one pending change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedChange {
    pub seq: i64,
    pub object: String,
    pub record_id: String,
    pub op: ChangeOp,
    pub state: ChangeState,
    /// Ids of records created offline that the change's values refer to (not its own).
    pub local_refs: Vec<String>,
}

impl QueuedChange {
    /// The planner's view of a pending change.
    pub fn from_pending(change: &PendingChange) -> QueuedChange {
        let mut local_refs: Vec<String> = change
            .fields
            .values()
            .filter_map(|v| v.as_str())
            .filter(|s| is_local_id(s) && *s != change.record_id)
            .map(str::to_owned)
            .collect();
        local_refs.sort();
        local_refs.dedup();
        QueuedChange {
            seq: change.seq,
            object: change.object.clone(),
            record_id: change.record_id.clone(),
            op: change.op,
            state: change.state,
            local_refs,
        }
    }
}

/// How a batch is sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BatchOp {
    /// A collection create (`POST composite/sobjects`).
    Create,
    /// A collection upsert on the object's external id field: creates made idempotent.
    Upsert { field: String },
    /// A collection update, after a conflict check.
    Update,
    /// A collection delete.
    Delete,
    /// Deletes of records that never reached the server: settled locally, no request.
    LocalDelete,
}

/// Changes of one object and operation, sent together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub object: String,
    pub op: BatchOp,
    /// Queue order.
    pub seqs: Vec<i64>,
    /// 0 for changes that refer to no record created offline; a change's level is one
    /// more than the highest level of the creates it refers to.
    pub level: u32,
}

/// A change the plan does not send, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedChange {
    pub seq: i64,
    /// The change it waits for, when there is one in the queue.
    pub waits_for: Option<i64>,
    pub reason: String,
}

/// The batches of one upload, in the order to send them, and the changes held back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadPlan {
    pub batches: Vec<Batch>,
    pub blocked: Vec<BlockedChange>,
    /// Creates that break a circle of records created offline: the local ids whose
    /// references the create leaves out. The store keeps those fields queued, and they go
    /// as an update once the records referred to have their server ids.
    pub left_out: BTreeMap<i64, Vec<String>>,
}

impl UploadPlan {
    /// The batches of the lowest level, the ones that can be sent now.
    pub fn first_level(&self) -> impl Iterator<Item = &Batch> {
        let first = self.batches.first().map(|b| b.level);
        self.batches.iter().filter(move |b| Some(b.level) == first)
    }
}

/// Limits and exclusions for [`plan`].
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Records per batch, at most 200 (the collections' limit).
    pub batch_size: usize,
    /// Changes not to send in this run (they were tried and left waiting), with the
    /// reason dependent changes are told.
    pub deferred: BTreeSet<i64>,
}

impl Default for PlanOptions {
    fn default() -> PlanOptions {
        PlanOptions {
            batch_size: salesforce::client::MAX_COLLECTION_RECORDS,
            deferred: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Clone)]
enum Placement {
    Ready(u32),
    Blocked { waits_for: Option<i64>, reason: String },
}

/// Plans the upload of `changes` (the queue, in any state).
pub fn plan(changes: &[QueuedChange], profile: &Profile, options: &PlanOptions) -> UploadPlan {
    let creators: HashMap<&str, &QueuedChange> = changes
        .iter()
        .filter(|c| is_local_id(&c.record_id))
        .map(|c| (c.record_id.as_str(), c))
        .collect();
    let mut placer =
        Placer { creators, options, placements: HashMap::new(), left_out: BTreeMap::new() };
    for change in changes.iter().filter(|c| is_candidate(c, options)) {
        let mut path = Vec::new();
        placer.place(change, &mut path);
    }
    let placements = placer.placements;

    // Group what is ready by level, object and operation, keeping queue order.
    let mut groups: BTreeMap<(u32, String, BatchOp), Vec<i64>> = BTreeMap::new();
    let mut plan = UploadPlan::default();
    let mut ordered: Vec<&QueuedChange> = changes.iter().collect();
    ordered.sort_by_key(|c| c.seq);
    for change in ordered {
        match placements.get(&change.seq) {
            Some(Placement::Ready(level)) => {
                let op = batch_op(change, profile);
                groups.entry((*level, change.object.clone(), op)).or_default().push(change.seq);
                if let Some(ids) = placer.left_out.remove(&change.seq) {
                    plan.left_out.insert(change.seq, ids);
                }
            }
            Some(Placement::Blocked { waits_for, reason }) => plan.blocked.push(BlockedChange {
                seq: change.seq,
                waits_for: *waits_for,
                reason: reason.clone(),
            }),
            None => {}
        }
    }
    let size = options.batch_size.clamp(1, salesforce::client::MAX_COLLECTION_RECORDS);
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by_key(|((level, _, _), seqs)| (*level, seqs.first().copied()));
    for ((level, object, op), seqs) in groups {
        for chunk in seqs.chunks(size) {
            plan.batches.push(Batch {
                object: object.clone(),
                op: op.clone(),
                seqs: chunk.to_vec(),
                level,
            });
        }
    }
    tracing::debug!(batches = plan.batches.len(), blocked = plan.blocked.len(), "upload planned");
    plan
}

/// Whether the change is to be sent in this run (if its dependencies allow).
fn is_candidate(change: &QueuedChange, options: &PlanOptions) -> bool {
    matches!(change.state, ChangeState::Waiting | ChangeState::Blocked)
        && !options.deferred.contains(&change.seq)
}

fn batch_op(change: &QueuedChange, profile: &Profile) -> BatchOp {
    match change.op {
        ChangeOp::Create => {
            match profile.object(&change.object).and_then(|o| o.external_id.clone()) {
                Some(field) => BatchOp::Upsert { field },
                None => BatchOp::Create,
            }
        }
        ChangeOp::Update => BatchOp::Update,
        ChangeOp::Delete if is_local_id(&change.record_id) => BatchOp::LocalDelete,
        ChangeOp::Delete => BatchOp::Delete,
    }
}

/// The state of placing the candidate changes.
struct Placer<'a> {
    creators: HashMap<&'a str, &'a QueuedChange>,
    options: &'a PlanOptions,
    placements: HashMap<i64, Placement>,
    left_out: BTreeMap<i64, Vec<String>>,
}

type Dependency = Result<u32, (Option<i64>, String)>;

impl Placer<'_> {
    /// Places a candidate change: ready at a level, or blocked. `path` holds the changes
    /// being placed above this one; a create that refers back to one of them closes a
    /// circle, and leaves that reference out.
    fn place(&mut self, change: &QueuedChange, path: &mut Vec<i64>) -> Placement {
        if let Some(done) = self.placements.get(&change.seq) {
            return done.clone();
        }
        let mut level = 0;
        let mut blocked = None;
        path.push(change.seq);
        for local_id in &change.local_refs {
            let dependency = match self.creators.get(local_id.as_str()).copied() {
                None => Err((
                    None,
                    format!(
                        "refers to {local_id}, a record created offline that is no longer queued"
                    ),
                )),
                Some(parent) if path.contains(&parent.seq) && change.op == ChangeOp::Create => {
                    tracing::debug!(seq = change.seq, "circle of offline creates broken");
                    self.left_out.entry(change.seq).or_default().push(local_id.clone());
                    continue;
                }
                Some(parent) => self.dependency_level(parent, local_id, path),
            };
            match dependency {
                Ok(parent_level) => level = level.max(parent_level + 1),
                Err(why) => {
                    blocked = Some(why);
                    break;
                }
            }
        }
        path.pop();

        let placement = match blocked {
            Some((waits_for, reason)) => Placement::Blocked { waits_for, reason },
            None if level > MAX_LEVELS => Placement::Blocked {
                waits_for: None,
                reason: format!("more than {MAX_LEVELS} levels of records created offline"),
            },
            None => Placement::Ready(level),
        };
        self.placements.insert(change.seq, placement.clone());
        placement
    }

    /// The level of the create `parent` (of the record `local_id`), or why it cannot go.
    fn dependency_level(
        &mut self,
        parent: &QueuedChange,
        local_id: &str,
        path: &mut Vec<i64>,
    ) -> Dependency {
        let what = format!("{} {local_id} (change {})", parent.object, parent.seq);
        let blocked = |reason: String| Err((Some(parent.seq), reason));
        if parent.op == ChangeOp::Delete {
            return blocked(format!("refers to {what}, which was deleted locally"));
        }
        match parent.state {
            ChangeState::Failed => {
                return blocked(format!("waits for {what}, whose upload failed"));
            }
            ChangeState::Conflict => {
                return blocked(format!("waits for {what}, which is in conflict"));
            }
            ChangeState::Uploading => {
                return blocked(format!("waits for {what}, whose upload outcome is not known yet"));
            }
            ChangeState::Waiting | ChangeState::Blocked => {}
        }
        if self.options.deferred.contains(&parent.seq) {
            return blocked(format!("waits for {what}, left waiting after transient failures"));
        }
        if path.contains(&parent.seq) {
            // Only a change that is not a create gets here: it cannot leave the value out.
            return blocked(format!(
                "refers to {what} in a circle of records created offline that refer to each other"
            ));
        }
        match self.place(parent, path) {
            Placement::Ready(level) => Ok(level),
            Placement::Blocked { .. } => {
                blocked(format!("waits for {what}, which is blocked itself"))
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
