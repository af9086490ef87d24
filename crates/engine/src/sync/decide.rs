//! The decisions of download, as pure functions over plain values: where a read starts,
//! which replication window to ask for, what happens to a record, how id sets are split
//! for comparison. Nothing here talks to the server or the store.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

/// How many ids go in one `IN (...)` list.
pub const IDS_PER_QUERY: usize = 200;

/// Records per query page asked of the server.
pub const PAGE_SIZE: u32 = 2000;

/// How far back a delta re-reads before its cursor, to catch late commits and clock skew.
pub const DEFAULT_OVERLAP: Duration = Duration::minutes(5);

/// How far back `updated` answers (30 days); an older window needs reconciliation.
pub const UPDATED_REACH: Duration = Duration::days(30);

/// How far back `deleted` answers (the recycle bin keeps 15 days at most).
pub const DELETED_REACH: Duration = Duration::days(15);

/// Where priming of one object stands; kept in the store's cursor row with the rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimeState {
    /// What is being read.
    pub phase: PrimePhase,
    /// Records stored so far.
    pub done: u64,
    /// The exact total of the server-evaluated scope, from `COUNT()`.
    pub total: Option<u64>,
    /// The replication API's `latestDateCovered` taken before reading: every change
    /// committed before it is in what priming reads, so delta starts there.
    pub covered: DateTime<Utc>,
}

/// The phases of priming one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrimePhase {
    /// Paging through the server-evaluated scope in `(SystemModstamp, Id)` order.
    Server,
    /// Fetching records that held links bring in.
    Held,
    /// Primed; delta sync takes over.
    Done,
}

/// What a run does next with one object, decided from its cursor row alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectStep {
    /// Never primed: prime from the start.
    Prime,
    /// Priming was interrupted: resume it.
    ResumePrime {
        /// Where it stood.
        state: PrimeState,
    },
    /// Primed: read changes since the cursor; reconcile afterwards when asked to.
    Delta {
        /// The cursor's stamp.
        since: DateTime<Utc>,
        /// Whether a reconciliation of id sets follows.
        reconcile: bool,
    },
    /// Primed but the cursor is unreadable: only reconciliation is safe.
    Reconcile,
}

/// The next step for an object whose cursor row holds `prime_state` and `modstamp`;
/// `full` asks for a reconciliation after the delta.
pub fn next_step(
    prime_state: Option<&PrimeState>,
    modstamp: Option<DateTime<Utc>>,
    full: bool,
) -> ObjectStep {
    match (prime_state, modstamp) {
        (None, _) => ObjectStep::Prime,
        (Some(s), _) if s.phase != PrimePhase::Done => ObjectStep::ResumePrime { state: s.clone() },
        (Some(_), Some(since)) => ObjectStep::Delta { since, reconcile: full },
        (Some(_), None) => ObjectStep::Reconcile,
    }
}

/// A replication API window, whole minutes, `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Inclusive end.
    pub end: DateTime<Utc>,
}

/// The window to ask the replication API for changes since `since`, re-reading `overlap`,
/// up to `now`; `None` when it reaches further back than `reach`, so only reconciliation
/// is safe.
pub fn replication_window(
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    overlap: Duration,
    reach: Duration,
) -> Option<Window> {
    let minute = Duration::minutes(1);
    let floor = |t: DateTime<Utc>| t.duration_trunc(minute).unwrap_or(t);
    let start = floor(since - overlap);
    if start < now - reach + minute {
        return None;
    }
    let end = floor(now).max(start + minute);
    Some(Window { start, end })
}

/// What to do with one record whose place in scope was evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Store it; `counted` says under which count.
    Store(StoreKind),
    /// Remove it from the store (the store keeps and flags it if it has pending changes).
    Remove(RemoveKind),
    /// Nothing to do: not held and not in scope.
    Ignore,
}

/// Why a record is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Not held; it was itself created or changed into scope.
    New,
    /// Held, and it changed (or is re-read in an overlap window).
    Updated,
    /// Not held; a related record brought it into scope.
    Entered,
}

/// Why a record is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveKind {
    /// The server no longer has it.
    Deleted,
    /// No rule brings it in any more.
    LeftScope,
}

/// What is known about one record after evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluated {
    /// The store holds it.
    pub held: bool,
    /// The server returned it.
    pub on_server: bool,
    /// Some scope rule brings it in.
    pub in_scope: bool,
    /// It changed itself since the cursor (rather than through a related record).
    pub changed: bool,
}

/// The verdict for one evaluated record.
pub fn verdict(r: Evaluated) -> Verdict {
    match (r.on_server, r.in_scope, r.held) {
        (true, true, true) => Verdict::Store(StoreKind::Updated),
        (true, true, false) if r.changed => Verdict::Store(StoreKind::New),
        (true, true, false) => Verdict::Store(StoreKind::Entered),
        (true, false, true) => Verdict::Remove(RemoveKind::LeftScope),
        (false, _, true) => Verdict::Remove(RemoveKind::Deleted),
        (_, _, false) => Verdict::Ignore,
    }
}

/// Id ranges over sorted `ids`, about `per_range` held ids each, covering the whole id
/// space: the first starts open, the last ends open. Each range is `low <= id < high`.
pub fn id_ranges(ids: &[String], per_range: usize) -> Vec<(Option<String>, Option<String>)> {
    let per_range = per_range.max(1);
    let bounds: Vec<&String> = ids.iter().skip(per_range).step_by(per_range).collect();
    let mut ranges = Vec::with_capacity(bounds.len() + 1);
    let mut low: Option<String> = None;
    for b in bounds {
        ranges.push((low.take(), Some(b.clone())));
        low = Some(b.clone());
    }
    ranges.push((low, None));
    ranges
}

/// Whether `id` falls in `low <= id < high`.
pub fn in_range(id: &str, low: Option<&str>, high: Option<&str>) -> bool {
    low.is_none_or(|l| id >= l) && high.is_none_or(|h| id < h)
}

/// Ids the server has that the store lacks, and ids the store has that the server lacks.
pub fn diff_ids(server: &BTreeSet<String>, local: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    (server.difference(local).cloned().collect(), local.difference(server).cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 10, h, m, s).unwrap()
    }

    #[test]
    fn steps_follow_the_cursor() {
        assert_eq!(next_step(None, None, false), ObjectStep::Prime);
        let mid = PrimeState {
            phase: PrimePhase::Server,
            done: 200,
            total: Some(450),
            covered: at(9, 0, 0),
        };
        assert_eq!(
            next_step(Some(&mid), Some(at(9, 0, 0)), false),
            ObjectStep::ResumePrime { state: mid.clone() }
        );
        let done = PrimeState { phase: PrimePhase::Done, ..mid };
        assert_eq!(
            next_step(Some(&done), Some(at(9, 0, 0)), true),
            ObjectStep::Delta { since: at(9, 0, 0), reconcile: true }
        );
        assert_eq!(next_step(Some(&done), None, false), ObjectStep::Reconcile);
    }

    #[test]
    fn window_drops_seconds_and_overlaps() {
        let w =
            replication_window(at(10, 7, 42), at(10, 30, 15), Duration::minutes(5), UPDATED_REACH)
                .unwrap();
        assert_eq!(w, Window { start: at(10, 2, 0), end: at(10, 30, 0) });
    }

    #[test]
    fn window_start_always_precedes_end() {
        let w = replication_window(at(10, 30, 10), at(10, 30, 20), Duration::zero(), UPDATED_REACH)
            .unwrap();
        assert_eq!(w, Window { start: at(10, 30, 0), end: at(10, 31, 0) });
    }

    #[test]
    fn window_beyond_reach_needs_reconciliation() {
        let now = at(10, 0, 0);
        assert!(
            replication_window(now - Duration::days(16), now, Duration::zero(), DELETED_REACH)
                .is_none()
        );
        assert!(
            replication_window(now - Duration::days(14), now, Duration::zero(), DELETED_REACH)
                .is_some()
        );
        assert!(
            replication_window(now - Duration::days(29), now, Duration::zero(), UPDATED_REACH)
                .is_some()
        );
    }

    #[test]
    fn verdicts() {
        let e = |held, on_server, in_scope, changed| {
            verdict(Evaluated { held, on_server, in_scope, changed })
        };
        assert_eq!(e(true, true, true, true), Verdict::Store(StoreKind::Updated));
        assert_eq!(e(false, true, true, true), Verdict::Store(StoreKind::New));
        assert_eq!(e(false, true, true, false), Verdict::Store(StoreKind::Entered));
        assert_eq!(e(true, true, false, true), Verdict::Remove(RemoveKind::LeftScope));
        assert_eq!(e(true, false, false, false), Verdict::Remove(RemoveKind::Deleted));
        assert_eq!(e(false, true, false, true), Verdict::Ignore);
        assert_eq!(e(false, false, false, false), Verdict::Ignore);
    }

    #[test]
    fn ranges_cover_everything() {
        let ids: Vec<String> = (0..7).map(|i| format!("a{i}")).collect();
        let ranges = id_ranges(&ids, 3);
        assert_eq!(
            ranges,
            vec![
                (None, Some("a3".to_string())),
                (Some("a3".to_string()), Some("a6".to_string())),
                (Some("a6".to_string()), None),
            ]
        );
        for id in &ids {
            let n = ranges.iter().filter(|(l, h)| in_range(id, l.as_deref(), h.as_deref())).count();
            assert_eq!(n, 1, "{id}");
        }
        assert_eq!(id_ranges(&[], 3), vec![(None, None)]);
    }

    #[test]
    fn id_diff() {
        let s: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
        let l: BTreeSet<String> = ["b", "c", "d"].map(String::from).into();
        assert_eq!(diff_ids(&s, &l), (vec!["a".to_string()], vec!["d".to_string()]));
    }

    #[test]
    fn prime_state_round_trips_as_json() {
        let state =
            PrimeState { phase: PrimePhase::Held, done: 12, total: Some(40), covered: at(9, 0, 0) };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["phase"], "held");
        assert_eq!(serde_json::from_value::<PrimeState>(json).unwrap(), state);
    }
}
