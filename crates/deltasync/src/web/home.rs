//! Home: who is signed in, the connection, the last and next sync, pending changes, the
//! objects on the device, and the Sync Now button with live progress.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use tracing::info;

use super::layout::{Page, Tab, csrf_field, shell};
use super::objects::object_label;
use super::timefmt::{clock_time, when};
use super::{WebError, WebState};
use crate::app::{NextDue, Trigger};

/// `GET /`
pub async fn page(State(state): State<WebState>) -> Result<Markup, WebError> {
    render(&state)
}

fn render(state: &WebState) -> Result<Markup, WebError> {
    let handle = &state.handle;
    let status = super::current_status(handle);
    let now = handle.clock().now();
    let store = handle.store();

    let names = store.catalog().names();
    let counts: Vec<(String, u64)> = store.read(|r| {
        names.iter().map(|n| Ok((n.clone(), r.count(n)?))).collect::<Result<_, store::StoreError>>()
    })?;
    let schedule = store.read(|r| r.schedule())?;
    let next_due = status.next_due.clone().or_else(|| {
        let first = schedule.iter().filter_map(|e| e.next_due_at).min()?;
        let objects = schedule
            .iter()
            .filter(|e| e.next_due_at == Some(first))
            .map(|e| e.object.clone())
            .collect();
        Some(NextDue { objects, at: first })
    });
    let last_sync =
        status.last_sync_at.or_else(|| schedule.iter().filter_map(|e| e.last_sync_at).max());
    let pending = store.read(|r| r.pending_counts())?.iter().map(|(_, n)| n).sum::<u64>();

    let content = html! {
        section.card.identity aria-label="Account" {
            div.avatar aria-hidden="true" { (initial(&status.identity.username)) }
            div {
                div.strong #user { (status.identity.username) }
                div.muted { "Org " (status.identity.org_id) }
            }
        }
        section.stats aria-label="Sync status" {
            div.stat {
                div.stat-label { "Last sync" }
                div.stat-value #last-sync {
                    @match last_sync { Some(t) => (when(t, now)), None => "Never" }
                }
                @if let Some(outcome) = &status.last_outcome { div.muted { (outcome) } }
            }
            div.stat {
                div.stat-label { "Next sync" }
                div.stat-value #next-sync {
                    @match &next_due { Some(n) => (when(n.at, now)), None => "Not scheduled" }
                }
                @if let Some(n) = &next_due { div.muted { (n.objects.join(", ")) } }
            }
            a.stat.link href="/pending" {
                div.stat-label { "Pending changes" }
                div.stat-value #pending-count { (pending) }
                div.muted { @if pending == 0 { "All uploaded" } @else { "Waiting to upload" } }
            }
        }
        section.card aria-labelledby="objects-h" {
            h2 #objects-h { "On this device" }
            ul.list {
                @for (name, count) in &counts {
                    li {
                        a.row href={ "/records/" (name) } {
                            span { (object_label(name)) }
                            span.count data-object=(name) { (count) }
                        }
                    }
                }
            }
        }
        section #progress .card.progress aria-live="polite" hidden[status.syncing.is_none()] {
            h2 { "Syncing…" }
            p #progress-upload .muted {}
            ul #progress-objects .list.compact {}
        }
        p #sync-message .message role="status" hidden {}
        form.syncbar method="post" action="/sync" #sync-form {
            (csrf_field(state.csrf()))
            button.primary.big type="submit" #sync-now disabled[status.syncing.is_some()] {
                @if status.syncing.is_some() { "Syncing…" } @else { "Sync Now" }
            }
        }
        @if let Some(n) = &next_due {
            template #next-due-text { (clock_time(n.at, now)) }
        }
    };
    Ok(shell(Page { title: "Home", tab: Tab::Home, live: true, status: &status }, content))
}

fn initial(username: &str) -> String {
    username.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default()
}

/// `POST /sync`: asks for a sync now; the page follows it over the event stream.
pub async fn sync_now(State(state): State<WebState>) -> impl IntoResponse {
    info!("sync requested from the web app");
    state.handle.request_sync(Trigger::User, &[]);
    Redirect::to("/")
}
