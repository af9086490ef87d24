//! Which objects are due, and when the next ones will be: pure decisions over the stored
//! schedule and a given instant.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use store::ScheduleEntry;

/// Objects due within this span of each other share one sync.
pub const SAME_SYNC_WINDOW: Duration = Duration::minutes(1);

/// The next scheduled sync: which objects, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextDue {
    /// The objects it downloads, in profile-independent name order.
    pub objects: Vec<String>,
    /// When the first of them is due.
    pub at: DateTime<Utc>,
}

/// When an entry is due; an entry without a due time is due at once.
fn due_at(entry: &ScheduleEntry) -> DateTime<Utc> {
    entry.next_due_at.unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The objects to sync at `now`: nothing unless some object is due (overdue ones after a
/// restart included); otherwise every object due by `now` plus [`SAME_SYNC_WINDOW`], so
/// objects falling due a few seconds apart share the sync.
pub fn due_objects(entries: &[ScheduleEntry], now: DateTime<Utc>) -> Vec<String> {
    if !entries.iter().any(|e| due_at(e) <= now) {
        return Vec::new();
    }
    let until = now.checked_add_signed(SAME_SYNC_WINDOW).unwrap_or(now);
    sorted(entries.iter().filter(|e| due_at(e) <= until).map(|e| e.object.clone()).collect())
}

/// The next sync the schedule asks for: the earliest due time, with every object due
/// within [`SAME_SYNC_WINDOW`] of it. `None` when nothing is scheduled.
pub fn next_due(entries: &[ScheduleEntry]) -> Option<NextDue> {
    let at = entries.iter().map(due_at).min()?;
    let until = at.checked_add_signed(SAME_SYNC_WINDOW).unwrap_or(at);
    let objects =
        sorted(entries.iter().filter(|e| due_at(e) <= until).map(|e| e.object.clone()).collect());
    Some(NextDue { objects, at })
}

/// How long to wait at `now` until `next` is due (zero when it already is).
pub fn wait_until(next: &NextDue, now: DateTime<Utc>) -> std::time::Duration {
    (next.at - now).to_std().unwrap_or(std::time::Duration::ZERO)
}

fn sorted(mut objects: Vec<String>) -> Vec<String> {
    objects.sort();
    objects.dedup();
    objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, h, m, s).unwrap()
    }

    fn entry(object: &str, due: DateTime<Utc>) -> ScheduleEntry {
        ScheduleEntry {
            object: object.into(),
            interval_secs: 900,
            last_sync_at: None,
            next_due_at: Some(due),
        }
    }

    #[test]
    fn nothing_due_before_the_first_due_time() {
        let entries = [entry("WorkOrder", t(14, 30, 0)), entry("Account", t(15, 0, 0))];
        assert!(due_objects(&entries, t(14, 29, 59)).is_empty());
        assert_eq!(due_objects(&entries, t(14, 30, 0)), vec!["WorkOrder"]);
    }

    #[test]
    fn objects_due_in_the_same_minute_share_a_sync() {
        let entries = [
            entry("WorkOrder", t(14, 30, 0)),
            entry("ServiceAppointment", t(14, 30, 40)),
            entry("Account", t(14, 31, 1)),
        ];
        assert_eq!(due_objects(&entries, t(14, 30, 0)), vec!["ServiceAppointment", "WorkOrder"]);
        let next = next_due(&entries).unwrap();
        assert_eq!(next.objects, vec!["ServiceAppointment", "WorkOrder"]);
        assert_eq!(next.at, t(14, 30, 0));
    }

    #[test]
    fn overdue_objects_are_due_at_once() {
        let entries = [entry("Product2", t(2, 0, 0)), entry("WorkOrder", t(13, 0, 0))];
        assert_eq!(due_objects(&entries, t(14, 0, 0)), vec!["Product2", "WorkOrder"]);
        assert_eq!(
            wait_until(&next_due(&entries).unwrap(), t(14, 0, 0)),
            std::time::Duration::ZERO
        );
    }

    #[test]
    fn waits_until_the_next_due_time() {
        let entries = [entry("WorkOrder", t(14, 30, 0))];
        let next = next_due(&entries).unwrap();
        assert_eq!(wait_until(&next, t(14, 29, 0)), std::time::Duration::from_secs(60));
        assert!(next_due(&[]).is_none());
    }
}
