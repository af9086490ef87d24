//! `GET /events`: the app's events as server-sent events, for the page script.
//!
//! Each event's `event:` name is its type (`sync_started`, `uploading`, `downloading`,
//! `sync_finished`, `connectivity`, `pending`) and its data the event as JSON. A `status`
//! event with the whole [`crate::app::AppStatus`] comes first, and again whenever the
//! stream fell behind and missed events. The next sync's time comes as `next_due_at` (UTC,
//! which the script shows in the browser's zone) and `next_due_text` (UTC text).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;

use super::timefmt::{clock_text, iso};
use super::{WebState, current_status};
use crate::app::{AppEvent, AppHandle};

fn status_event(handle: &AppHandle) -> Event {
    let status = current_status(handle);
    let now = handle.clock().now();
    let mut value = serde_json::to_value(&status).unwrap_or_default();
    if let (Some(next), Some(obj)) = (&status.next_due, value.as_object_mut()) {
        obj.insert("next_due_text".into(), clock_text(next.at, now).into());
        obj.insert("next_due_at".into(), iso(next.at).into());
    }
    Event::default().event("status").data(value.to_string())
}

fn app_event(handle: &AppHandle, event: &AppEvent) -> Event {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    let name = value.get("type").and_then(|t| t.as_str()).unwrap_or("message").to_owned();
    if let AppEvent::SyncFinished { next_due: Some(next), .. } = event
        && let Some(obj) = value.as_object_mut()
    {
        obj.insert("next_due_text".into(), clock_text(next.at, handle.clock().now()).into());
        obj.insert("next_due_at".into(), iso(next.at).into());
    }
    Event::default().event(name).data(value.to_string())
}

/// `GET /events`
pub async fn stream(
    State(state): State<WebState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let handle = state.handle.clone();
    let receiver = handle.subscribe();
    let first = status_event(&handle);
    let events =
        stream::unfold((handle, receiver, Some(first)), |(handle, mut rx, first)| async move {
            if let Some(first) = first {
                return Some((Ok(first), (handle, rx, None)));
            }
            let event = match rx.recv().await {
                Ok(event) => app_event(&handle, &event),
                Err(RecvError::Lagged(_)) => status_event(&handle),
                Err(RecvError::Closed) => return None,
            };
            Some((Ok(event), (handle, rx, None)))
        });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
