//! The running app's shared handle: what the web app, the scheduler loop and the
//! connectivity watcher use to see the app's state and to ask for syncs.
//!
//! The handle holds no sync logic. It keeps the current status, fans out [`AppEvent`]s to
//! every subscriber (the web app's live updates, the CLI's progress bars), and collects
//! sync requests: requests that arrive while a sync runs are merged into the next one, so
//! at most one sync runs at a time and none is lost.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use engine::{Clock, Engine};
use serde::Serialize;
use store::Store;
use store::history::SyncKind as Trigger;
use tokio::sync::{Notify, broadcast};

/// Who is logged in, for display.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Identity {
    pub user_id: String,
    pub username: String,
    pub org_id: String,
    pub instance_url: String,
}

pub use engine::schedule::NextDue;

/// A snapshot of the app's state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AppStatus {
    pub identity: Identity,
    /// Whether the org answered the last check or call.
    pub online: bool,
    /// The trigger of the sync running now, if any.
    pub syncing: Option<&'static str>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    pub next_due: Option<NextDue>,
    /// Pending changes not yet on the server.
    pub pending: u64,
}

/// Something that happened in the app, as it happens.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    /// A sync started.
    SyncStarted { trigger: &'static str },
    /// Upload progress: changes sent so far of the total.
    Uploading { done: u64, total: u64 },
    /// Download progress for one object.
    Downloading { object: String, done: u64, total: Option<u64> },
    /// A sync ended; `event_id` opens its history entry.
    SyncFinished { event_id: Option<i64>, outcome: String, next_due: Option<NextDue> },
    /// The org became reachable or unreachable.
    Connectivity { online: bool },
    /// The number of pending changes changed.
    Pending { count: u64 },
}

#[derive(Debug, Default)]
struct Requests {
    triggers: BTreeSet<&'static str>,
    objects: BTreeSet<String>,
}

struct Inner {
    engine: Arc<Engine>,
    clock: Arc<dyn Clock>,
    status: Mutex<AppStatus>,
    events: broadcast::Sender<AppEvent>,
    requests: Mutex<Requests>,
    wake: Notify,
    /// Wakes the scheduler loop: a sync finished or the schedule changed.
    schedule_changed: Notify,
    /// Wakes the connectivity watcher: a call failed on the network.
    check_connection: Notify,
}

/// A cheap, cloneable handle to the running app.
#[derive(Clone)]
pub struct AppHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AppHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppHandle").finish_non_exhaustive()
    }
}

/// Sync requests gathered since the last sync began, taken as one batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncRequest {
    /// The triggers that asked, e.g. `{"user", "scheduled"}`.
    pub triggers: Vec<Trigger>,
    /// Objects a schedule asked for; empty when only an upload or a full sync was asked.
    pub objects: Vec<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppHandle {
    /// A handle over an open engine.
    pub fn new(engine: Arc<Engine>, clock: Arc<dyn Clock>, identity: Identity) -> AppHandle {
        let (events, _) = broadcast::channel(256);
        let status = AppStatus { identity, ..AppStatus::default() };
        AppHandle {
            inner: Arc::new(Inner {
                engine,
                clock,
                status: Mutex::new(status),
                events,
                requests: Mutex::new(Requests::default()),
                wake: Notify::new(),
                schedule_changed: Notify::new(),
                check_connection: Notify::new(),
            }),
        }
    }

    /// The engine the app drives.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }

    /// The local store: the single source of truth for everything the app shows.
    pub fn store(&self) -> &Arc<Store> {
        self.inner.engine.store()
    }

    /// The app's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The current state.
    pub fn status(&self) -> AppStatus {
        lock(&self.inner.status).clone()
    }

    /// Changes the state and tells subscribers what changed.
    pub fn update_status(&self, change: impl FnOnce(&mut AppStatus)) {
        let (before, after) = {
            let mut status = lock(&self.inner.status);
            let before = (status.online, status.pending);
            change(&mut status);
            (before, (status.online, status.pending))
        };
        if before.0 != after.0 {
            self.publish(AppEvent::Connectivity { online: after.0 });
        }
        if before.1 != after.1 {
            self.publish(AppEvent::Pending { count: after.1 });
        }
    }

    /// Every event from now on. A slow subscriber that falls more than 256 events behind
    /// misses the oldest ones (`RecvError::Lagged`) and should re-read [`AppHandle::status`].
    pub fn subscribe(&self) -> broadcast::Receiver<AppEvent> {
        self.inner.events.subscribe()
    }

    /// Sends an event to every subscriber; having none is fine.
    pub fn publish(&self, event: AppEvent) {
        let _ = self.inner.events.send(event);
    }

    /// Asks for a sync. Requests made while a sync runs are merged into the next one.
    pub fn request_sync(&self, trigger: Trigger, objects: &[String]) {
        {
            let mut requests = lock(&self.inner.requests);
            requests.triggers.insert(trigger.as_str());
            requests.objects.extend(objects.iter().cloned());
        }
        self.inner.wake.notify_one();
    }

    /// Takes every request made so far, or `None` when there is none.
    pub fn take_requests(&self) -> Option<SyncRequest> {
        let mut requests = lock(&self.inner.requests);
        if requests.triggers.is_empty() {
            return None;
        }
        let taken = std::mem::take(&mut *requests);
        Some(SyncRequest {
            triggers: taken.triggers.iter().filter_map(|t| Trigger::parse(t)).collect(),
            objects: taken.objects.into_iter().collect(),
        })
    }

    /// Waits until a sync is requested (returns at once if one already is).
    pub async fn requested(&self) {
        if lock(&self.inner.requests).triggers.is_empty() {
            self.inner.wake.notified().await;
        }
    }

    /// A local edit was saved: updates the pending count and, when the org is reachable,
    /// asks for an `automatic` upload. Offline, the upload waits for the connection.
    pub fn local_edit_made(&self) {
        let pending = pending_count(self.store());
        self.update_status(|s| s.pending = pending);
        if self.status().online {
            self.request_sync(Trigger::Automatic, &[]);
        }
    }

    /// Tells the scheduler loop to look at the schedule again.
    pub fn schedule_changed(&self) {
        self.inner.schedule_changed.notify_one();
    }

    /// Waits until [`AppHandle::schedule_changed`] is called.
    pub async fn schedule_change(&self) {
        self.inner.schedule_changed.notified().await;
    }

    /// Tells the connectivity watcher to check the connection now (a call failed).
    pub fn connection_failed(&self) {
        self.update_status(|s| s.online = false);
        self.inner.check_connection.notify_one();
    }

    /// Waits until [`AppHandle::connection_failed`] is called.
    pub async fn connection_check_requested(&self) {
        self.inner.check_connection.notified().await;
    }
}

/// Changes in the store's queue not yet on the server, in any state; 0 when the store
/// cannot be read (the next refresh corrects it).
pub fn pending_count(store: &Store) -> u64 {
    store
        .read(|r| r.pending_counts())
        .map(|counts| counts.iter().map(|(_, n)| n).sum())
        .unwrap_or(0)
}
