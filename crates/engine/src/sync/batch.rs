//! Deciding which reads of a delta run travel together: each due object's first reads
//! depend only on its cursor and the clock, so they can be sent ahead for every object in
//! as few Composite calls as Salesforce's limits allow (25 subrequests, at most 5 of them
//! queries). Plain functions over plain values; [`super::prefetch`] does the sending.

use chrono::{DateTime, Duration, Utc};

use super::decide::{DELETED_REACH, UPDATED_REACH, Window, replication_window};

/// A read a delta of one object starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstRead {
    /// Deletions in the window, from the replication log (`deleted`).
    Deleted(Window),
    /// Deletions from soft-deleted rows (`queryAll`): the object keeps no log.
    DeletedRows,
    /// Changed ids and `latestDateCovered` in the window, from the log (`updated`).
    Updated(Window),
    /// Changed ids by `SystemModstamp` (a query): the object keeps no log.
    ChangedRows,
    /// The first page of the server-evaluated scope changed since the cursor.
    ScopePage,
}

impl FirstRead {
    /// Whether the read is a query operation, of which a Composite call takes few.
    pub fn is_query(&self) -> bool {
        matches!(self, FirstRead::DeletedRows | FirstRead::ChangedRows | FirstRead::ScopePage)
    }
}

/// The reads a delta of one object, primed up to `since`, makes first at `now`, in the
/// order it makes them: the same choices `delta_object` makes. `has_log`: the replication
/// API serves the object; `has_scope_query`: some rule is evaluated by the server. A
/// window beyond the log's reach is left out (the delta reconciles, or finds
/// `latestDateCovered` with a call of its own).
pub fn first_reads(
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    overlap: Duration,
    has_log: bool,
    has_scope_query: bool,
) -> Vec<FirstRead> {
    let mut reads = Vec::with_capacity(3);
    match replication_window(since, now, overlap, DELETED_REACH) {
        Some(w) if has_log => reads.push(FirstRead::Deleted(w)),
        Some(_) => reads.push(FirstRead::DeletedRows),
        None => {}
    }
    match replication_window(since, now, overlap, UPDATED_REACH) {
        Some(w) if has_log => reads.push(FirstRead::Updated(w)),
        _ if !has_log => reads.push(FirstRead::ChangedRows),
        _ => {}
    }
    if has_scope_query {
        reads.push(FirstRead::ScopePage);
    }
    reads
}

/// Packs the objects' groups of first reads, in order and each group whole, into calls
/// of at most `max_reads` reads and `max_queries` queries; returns the group indexes of
/// each call. An empty group needs no call; a group that alone exceeds a limit is left
/// out (its object reads directly).
pub fn composite_batches(
    groups: &[Vec<FirstRead>],
    max_reads: usize,
    max_queries: usize,
) -> Vec<Vec<usize>> {
    let mut calls: Vec<Vec<usize>> = Vec::new();
    let (mut reads, mut queries) = (0, 0);
    for (i, group) in groups.iter().enumerate() {
        let (n, q) = (group.len(), group.iter().filter(|r| r.is_query()).count());
        if n == 0 || n > max_reads || q > max_queries {
            continue;
        }
        match calls.last_mut() {
            Some(call) if reads + n <= max_reads && queries + q <= max_queries => {
                call.push(i);
                reads += n;
                queries += q;
            }
            _ => {
                calls.push(vec![i]);
                (reads, queries) = (n, q);
            }
        }
    }
    calls
}

/// Whether a Composite call's own failure means the org does not serve Composite (no
/// such resource, method not allowed, not implemented, or an answer that is not a
/// Composite response), so the reads should go directly from now on. Any other failure
/// is the call's to report, as a direct call's would be.
pub fn composite_not_served(e: &salesforce::client::Error) -> bool {
    use salesforce::client::Error;
    match e {
        Error::Api { status, .. } => matches!(status, 404 | 405 | 501),
        Error::Decode { status, .. } => (200..300).contains(status),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use salesforce::client::{Error, MAX_COMPOSITE_QUERIES, MAX_COMPOSITE_SUBREQUESTS};
    use salesforce::wire::ApiError;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 10, h, m, 0).unwrap()
    }

    #[test]
    fn first_reads_follow_the_log_and_the_scope() {
        let five = Duration::minutes(5);
        let w = Window { start: at(9, 55), end: at(11, 0) };
        assert_eq!(
            first_reads(at(10, 0), at(11, 0), five, true, true),
            [FirstRead::Deleted(w), FirstRead::Updated(w), FirstRead::ScopePage]
        );
        assert_eq!(
            first_reads(at(10, 0), at(11, 0), five, true, false),
            [FirstRead::Deleted(w), FirstRead::Updated(w)]
        );
        assert_eq!(
            first_reads(at(10, 0), at(11, 0), five, false, true),
            [FirstRead::DeletedRows, FirstRead::ChangedRows, FirstRead::ScopePage]
        );

        // Twenty days back: deletions are out of the log's reach, changes are not.
        let old = at(10, 0) - Duration::days(20);
        let reads = first_reads(old, at(10, 0), five, true, true);
        assert!(matches!(reads.as_slice(), [FirstRead::Updated(_), FirstRead::ScopePage]));
        // Forty days back, nothing is in reach: the delta finds its covered point itself.
        let older = at(10, 0) - Duration::days(40);
        assert_eq!(first_reads(older, at(10, 0), five, true, true), [FirstRead::ScopePage]);
        assert_eq!(first_reads(older, at(10, 0), five, false, false), [FirstRead::ChangedRows]);
    }

    #[test]
    fn seven_objects_go_in_one_call() {
        // The field-service profile: two objects with a server-evaluated scope, five
        // reached only through links; all keep a replication log.
        let w = Window { start: at(9, 55), end: at(11, 0) };
        let linked = vec![FirstRead::Deleted(w), FirstRead::Updated(w)];
        let scoped = vec![FirstRead::Deleted(w), FirstRead::Updated(w), FirstRead::ScopePage];
        let groups = vec![
            scoped.clone(),
            linked.clone(),
            linked.clone(),
            linked.clone(),
            linked.clone(),
            linked,
            scoped,
        ];
        assert_eq!(
            composite_batches(&groups, MAX_COMPOSITE_SUBREQUESTS, MAX_COMPOSITE_QUERIES),
            vec![vec![0, 1, 2, 3, 4, 5, 6]]
        );
    }

    #[test]
    fn calls_respect_both_limits_and_keep_groups_whole() {
        let w = Window { start: at(9, 55), end: at(11, 0) };
        let no_log = vec![FirstRead::DeletedRows, FirstRead::ChangedRows, FirstRead::ScopePage];
        let scoped = vec![FirstRead::Deleted(w), FirstRead::Updated(w), FirstRead::ScopePage];
        // Three queries each: two objects without a log never share a call.
        let groups = vec![no_log.clone(), no_log.clone(), scoped.clone(), scoped.clone()];
        assert_eq!(composite_batches(&groups, 25, 5), vec![vec![0], vec![1, 2, 3]]);
        // Twelve two-read groups fill a call (24 reads); the thirteenth starts another.
        let groups = vec![vec![FirstRead::Deleted(w), FirstRead::Updated(w)]; 13];
        let calls = composite_batches(&groups, 25, 5);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].len(), 12);
        assert_eq!(calls[1], vec![12]);
        for call in &calls {
            let reads: usize = call.iter().map(|&i| groups[i].len()).sum();
            assert!(reads <= 25);
        }
        // Empty groups need nothing; a group over a limit is left to direct reads.
        let groups = vec![vec![], scoped.clone(), no_log];
        assert_eq!(composite_batches(&groups, 25, 2), vec![vec![1]]);
        assert!(composite_batches(&[], 25, 5).is_empty());
    }

    #[test]
    fn only_an_unserved_composite_falls_back() {
        let api = |status| Error::Api { status, errors: vec![ApiError::new("NOT_FOUND", "m")] };
        assert!(composite_not_served(&api(404)));
        assert!(composite_not_served(&api(405)));
        assert!(composite_not_served(&api(501)));
        assert!(!composite_not_served(&api(500)));
        assert!(!composite_not_served(&api(400)));
        assert!(!composite_not_served(&Error::SessionExpired));
        let html = |status| Error::Decode { what: "x".into(), detail: "y".into(), status };
        assert!(composite_not_served(&html(200)));
        assert!(!composite_not_served(&html(502)));
    }
}
