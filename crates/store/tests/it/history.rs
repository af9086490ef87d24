//! Sync history caps and retention, and the per-object schedule.

use chrono::Duration;
use serde_json::json;
use store::history::{KEEP_EVENTS, MAX_EVENT_RECORDS};
use store::{EventRecord, RecordAction, SyncKind, SyncOutcome};

use crate::{Fixture, account_id, t};

fn line(n: u64) -> EventRecord {
    EventRecord {
        object: "Account".into(),
        record_id: account_id(n),
        display_name: Some(format!("Account {n}")),
        action: RecordAction::Updated,
        detail: None,
    }
}

#[test]
fn event_detail_is_capped_while_counts_stay_exact() {
    let fx = Fixture::new();
    let lines: Vec<_> = (1..=1500).map(line).collect();
    let id = fx
        .store
        .write(|tx| {
            let id = tx.begin_sync_event(SyncKind::User, t(0))?;
            assert_eq!(tx.add_sync_event_records(id, &lines[..900])?, 900);
            assert_eq!(tx.add_sync_event_records(id, &lines[900..])?, 100);
            tx.finish_sync_event(
                id,
                t(1),
                SyncOutcome::Succeeded,
                None,
                &json!({"Account": {"updated": 1500}}),
                &json!({"uploaded": 0}),
            )?;
            Ok(id)
        })
        .unwrap();
    let event = fx.store.read(|r| r.sync_event(id)).unwrap().unwrap();
    assert!(event.truncated);
    assert_eq!(event.detail_total, 1500);
    assert_eq!(event.counts["Account"]["updated"], json!(1500));
    assert_eq!((event.kind, event.outcome), (SyncKind::User, Some(SyncOutcome::Succeeded)));
    assert_eq!(event.ended_at, Some(t(1)));
    let stored = fx.store.read(|r| r.sync_event_records(id)).unwrap();
    assert_eq!(stored.len() as i64, MAX_EVENT_RECORDS);
    assert_eq!(stored[0], line(1));
    assert_eq!(stored[999].record_id, account_id(1000));
}

fn add_events(fx: &Fixture, count: usize, start: chrono::DateTime<chrono::Utc>) {
    fx.store
        .write(|tx| {
            for i in 0..count {
                let at = start + Duration::minutes(i as i64);
                let id = tx.begin_sync_event(SyncKind::Scheduled, at)?;
                tx.add_sync_event_records(id, &[line(i as u64 + 1)])?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn retention_keeps_the_last_500_events_when_all_are_old() {
    let fx = Fixture::new();
    add_events(&fx, 600, t(0) - Duration::days(60));
    let removed = fx.store.write(|tx| tx.prune_history(t(0))).unwrap();
    assert_eq!(removed, 100);
    let events = fx.store.read(|r| r.sync_events(1000, None)).unwrap();
    assert_eq!(events.len() as i64, KEEP_EVENTS);
    // The oldest went, and their detail rows with them.
    assert_eq!(
        events.last().unwrap().started_at,
        t(0) - Duration::days(60) + Duration::minutes(100)
    );
    let first_id = events.last().unwrap().id;
    assert!(fx.store.read(|r| r.sync_event_records(first_id - 1)).unwrap().is_empty());
}

#[test]
fn retention_keeps_30_days_when_that_keeps_more() {
    let fx = Fixture::new();
    add_events(&fx, 20, t(0) - Duration::days(45));
    add_events(&fx, 550, t(0) - Duration::days(10));
    fx.store.write(|tx| tx.prune_history(t(0))).unwrap();
    let events = fx.store.read(|r| r.sync_events(1000, None)).unwrap();
    assert_eq!(events.len(), 550, "every recent event stays; only the old ones go");
    assert!(events.iter().all(|e| e.started_at > t(0) - Duration::days(30)));
}

#[test]
fn retention_keeps_old_events_while_fewer_than_500() {
    let fx = Fixture::new();
    add_events(&fx, 30, t(0) - Duration::days(90));
    add_events(&fx, 5, t(0) - Duration::days(1));
    // Finishing an event prunes too.
    fx.store
        .write(|tx| {
            let id = tx.begin_sync_event(SyncKind::Automatic, t(0))?;
            tx.finish_sync_event(
                id,
                t(0),
                SyncOutcome::Failed,
                Some("offline"),
                &json!({}),
                &json!({}),
            )
        })
        .unwrap();
    let events = fx.store.read(|r| r.sync_events(1000, None)).unwrap();
    assert_eq!(events.len(), 36);
    assert_eq!(events[0].reason.as_deref(), Some("offline"));
    let page = fx.store.read(|r| r.sync_events(10, Some(events[9].id))).unwrap();
    assert_eq!(page[0].id, events[10].id, "paging goes on from the given id");
}

#[test]
fn schedule_tracks_due_objects() {
    let fx = Fixture::new();
    fx.store
        .write(|tx| {
            tx.set_sync_interval("Account", 600, t(0))?;
            tx.set_sync_interval("Contact", 3600, t(0))
        })
        .unwrap();
    assert_eq!(fx.store.read(|r| r.due_objects(t(0))).unwrap(), vec!["Account", "Contact"]);
    fx.store
        .write(|tx| {
            tx.record_scheduled_sync("Account", t(1))?;
            tx.record_scheduled_sync("Contact", t(1))
        })
        .unwrap();
    assert!(fx.store.read(|r| r.due_objects(t(5))).unwrap().is_empty());
    assert_eq!(fx.store.read(|r| r.due_objects(t(11))).unwrap(), vec!["Account"]);
    let entry = fx.store.read(|r| r.schedule_for("Account")).unwrap().unwrap();
    assert_eq!(entry.last_sync_at, Some(t(1)));
    assert_eq!(entry.next_due_at, Some(t(11)));
    // A shorter interval moves the due time from the last sync.
    fx.store.write(|tx| tx.set_sync_interval("Contact", 120, t(6))).unwrap();
    assert_eq!(fx.store.read(|r| r.due_objects(t(6))).unwrap(), vec!["Contact"]);
    fx.store.write(|tx| tx.remove_schedule("Contact")).unwrap();
    assert_eq!(fx.store.read(|r| r.schedule()).unwrap().len(), 1);
}

#[test]
fn a_failed_sync_is_retried_soon_and_keeps_the_last_success() {
    let fx = Fixture::new();
    fx.store
        .write(|tx| {
            tx.set_sync_interval("Account", 3600, t(0))?;
            tx.set_sync_interval("Contact", 120, t(0))?;
            tx.record_scheduled_sync("Account", t(1))?;
            tx.record_scheduled_sync("Contact", t(1))
        })
        .unwrap();
    fx.store
        .write(|tx| {
            tx.record_failed_sync("Account", t(20), 600)?;
            tx.record_failed_sync("Contact", t(20), 600)
        })
        .unwrap();
    let account = fx.store.read(|r| r.schedule_for("Account")).unwrap().unwrap();
    assert_eq!(account.last_sync_at, Some(t(1)), "the last success is kept");
    assert_eq!(account.next_due_at, Some(t(30)), "retried after the pause, not the hour");
    let contact = fx.store.read(|r| r.schedule_for("Contact")).unwrap().unwrap();
    assert_eq!(contact.next_due_at, Some(t(22)), "a shorter interval wins over the pause");
}

#[test]
fn huge_intervals_saturate_instead_of_overflowing() {
    let fx = Fixture::new();
    fx.store
        .write(|tx| {
            tx.set_sync_interval("Account", u64::MAX, t(0))?;
            tx.record_scheduled_sync("Account", t(1))
        })
        .unwrap();
    assert!(fx.store.read(|r| r.due_objects(t(59))).unwrap().is_empty());
    let unknown = fx.store.write(|tx| tx.add_sync_event_records(12345, &[line(1)]));
    assert!(matches!(unknown, Err(store::StoreError::NoSuchEvent(12345))));
}
