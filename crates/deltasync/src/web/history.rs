//! History: sync events newest first, a small timeline of recent syncs drawn as SVG on the
//! server, and each event's detail (records retrieved per object, changes uploaded).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use maud::{Markup, html};
use serde_json::Value;
use store::{EventRecord, RecordAction, SyncEvent, SyncKind, SyncOutcome};

use super::layout::{Page, Tab, shell};
use super::objects::object_label;
use super::timefmt::{clock_time, duration, when};
use super::{WebError, WebState, current_status};

/// Events the list shows.
const LIST_EVENTS: usize = 50;
/// Events the timeline draws.
const TIMELINE_EVENTS: usize = 20;

fn kind_label(kind: SyncKind) -> &'static str {
    match kind {
        SyncKind::Initial => "Initial download",
        SyncKind::User => "Sync Now",
        SyncKind::Scheduled => "Scheduled",
        SyncKind::Automatic => "Automatic upload",
    }
}

fn outcome_label(event: &SyncEvent) -> (&'static str, &'static str) {
    match event.outcome {
        Some(SyncOutcome::Succeeded) => ("Succeeded", "ok"),
        Some(SyncOutcome::Partial) => ("Partial", "warn"),
        Some(SyncOutcome::Failed) => ("Failed", "bad"),
        None if event.ended_at.is_none() => ("Running", "running"),
        None => ("Unknown", "warn"),
    }
}

/// Per-object download counts: `{"WorkOrder": {"new": 1, ...}, ...}`.
fn object_counts(event: &SyncEvent) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    if let Value::Object(objects) = &event.counts {
        for (object, counts) in objects {
            if let Value::Object(counts) = counts {
                let numbers: BTreeMap<String, u64> =
                    counts.iter().filter_map(|(k, v)| Some((k.clone(), v.as_u64()?))).collect();
                out.insert(object.clone(), numbers);
            }
        }
    }
    out
}

fn upload_count(event: &SyncEvent, key: &str) -> u64 {
    event.upload_counts.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Records retrieved plus changes uploaded: the size of a sync.
fn size(event: &SyncEvent) -> u64 {
    let down: u64 = object_counts(event)
        .values()
        .flat_map(|c| {
            c.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "kept_pending" | "over_limit"))
                .map(|(_, v)| *v)
        })
        .sum();
    down + upload_count(event, "uploaded")
        + upload_count(event, "failed")
        + upload_count(event, "conflicts")
}

fn duration_ms(event: &SyncEvent) -> Option<i64> {
    event.ended_at.map(|end| (end - event.started_at).num_milliseconds().max(0))
}

/// `GET /history`
pub async fn page(State(state): State<WebState>) -> Result<Markup, WebError> {
    let handle = &state.handle;
    let status = current_status(handle);
    let now = handle.clock().now();
    let events = handle.store().read(|r| r.sync_events(LIST_EVENTS, None))?;
    let content = html! {
        h1 { "History" }
        @if events.is_empty() {
            div.card.empty-state { p { "No syncs yet." } }
        } @else {
            section.card aria-label="Recent syncs" { (timeline(&events)) }
            ul.list.card.history {
                @for e in &events {
                    @let (outcome, class) = outcome_label(e);
                    li {
                        a.row href={ "/history/" (e.id) } data-kind=(e.kind.as_str()) {
                            span.main {
                                span.title { (kind_label(e.kind)) }
                                span.sub.muted {
                                    (when(e.started_at, now))
                                    @if let Some(ms) = duration_ms(e) { " · " (duration(ms)) }
                                    " · " (size(e)) " record" @if size(e) != 1 { "s" }
                                    @if upload_count(e, "uploaded") > 0 { " · " (upload_count(e, "uploaded")) " uploaded" }
                                }
                            }
                            span class={ "state " (class) } { (outcome) }
                        }
                    }
                }
            }
        }
    };
    Ok(shell(Page { title: "History", tab: Tab::History, live: true, status: &status }, content))
}

/// Bars for the recent syncs, oldest on the left, height by size, colour by outcome.
fn timeline(events: &[SyncEvent]) -> Markup {
    let recent: Vec<&SyncEvent> = events.iter().take(TIMELINE_EVENTS).rev().collect();
    let largest = recent.iter().map(|e| size(e)).max().unwrap_or(0).max(1);
    let (width, height, gap) = (300.0_f64, 64.0_f64, 3.0_f64);
    let bar = (width / TIMELINE_EVENTS as f64) - gap;
    let summary = format!(
        "The last {} syncs; the tallest moved {largest} record{}.",
        recent.len(),
        if largest == 1 { "" } else { "s" }
    );
    html! {
        figure.timeline {
            svg viewBox={ "0 0 " (width) " " (height + 14.0) } role="img" aria-label=(summary) {
                line x1="0" y1=(height) x2=(width) y2=(height) class="axis" {}
                @for (i, e) in recent.iter().enumerate() {
                    @let h = ((size(e) as f64 / largest as f64) * (height - 4.0)).max(3.0);
                    @let x = i as f64 * (bar + gap);
                    @let (outcome, class) = outcome_label(e);
                    rect x=(format!("{x:.1}")) y=(format!("{:.1}", height - h)) width=(format!("{bar:.1}")) height=(format!("{h:.1}")) rx="2" class={ "bar " (class) " " (e.kind.as_str()) } {
                        title { (kind_label(e.kind)) ", " (clock_time(e.started_at, e.started_at)) ": " (size(e)) " records, " (outcome) }
                    }
                }
                text x="0" y=(height + 12.0) class="tick" { "older" }
                text x=(width) y=(height + 12.0) class="tick end" { "latest" }
            }
            figcaption.muted.small { (summary) }
        }
    }
}

fn action_label(action: RecordAction) -> &'static str {
    match action {
        RecordAction::New => "New",
        RecordAction::Updated => "Updated",
        RecordAction::Deleted => "Deleted",
        RecordAction::LeftScope => "Left scope",
        RecordAction::EnteredScope => "Entered scope",
        RecordAction::Uploaded => "Uploaded",
        RecordAction::Failed => "Upload failed",
        RecordAction::Conflict => "Conflict",
    }
}

fn is_upload(action: RecordAction) -> bool {
    matches!(action, RecordAction::Uploaded | RecordAction::Failed | RecordAction::Conflict)
}

/// `GET /history/{id}`
pub async fn detail_page(
    State(state): State<WebState>,
    Path(id): Path<i64>,
) -> Result<Markup, WebError> {
    let handle = &state.handle;
    let status = current_status(handle);
    let now = handle.clock().now();
    let event = handle
        .store()
        .read(|r| r.sync_event(id))?
        .ok_or_else(|| WebError::not_found(format!("No sync event {id}")))?;
    let rows = handle.store().read(|r| r.sync_event_records(id))?;
    // Objects the sync looked at but found unchanged are summed up in one line.
    let mut counts = object_counts(&event);
    let looked_at = counts.len();
    counts.retain(|_, c| c.values().any(|n| *n > 0));
    let (outcome, class) = outcome_label(&event);
    let (uploads, downloads): (Vec<&EventRecord>, Vec<&EventRecord>) =
        rows.iter().partition(|r| is_upload(r.action));
    let mut by_object: BTreeMap<&str, Vec<&EventRecord>> = BTreeMap::new();
    for r in &downloads {
        by_object.entry(r.object.as_str()).or_default().push(r);
    }

    let content = html! {
        div.titlebar {
            a.back href="/history" aria-label="History" { "‹" }
            h1 { (kind_label(event.kind)) }
        }
        section.card {
            dl.fields {
                div.field { dt { "Started" } dd { (when(event.started_at, now)) } }
                div.field { dt { "Duration" } dd { @match duration_ms(&event) { Some(ms) => (duration(ms)), None => "Running" } } }
                div.field { dt { "Outcome" } dd { span class={ "state " (class) } { (outcome) } } }
                @if let Some(reason) = &event.reason { div.field { dt { "Reason" } dd { (reason) } } }
                div.field { dt { "Uploaded" } dd { (upload_count(&event, "uploaded")) " accepted · " (upload_count(&event, "failed")) " failed · " (upload_count(&event, "conflicts")) " conflicts" } }
            }
        }
        section.card aria-labelledby="up-h" {
            h2 #up-h { "Changes uploaded" }
            ul.list #uploads {
                @for r in &uploads { (record_row(r)) }
                @if uploads.is_empty() { li.empty { "None" } }
            }
        }
        section.card aria-labelledby="down-h" {
            h2 #down-h { "Records retrieved" }
            @if counts.is_empty() && by_object.is_empty() { p.muted { "No changes" } }
            @if looked_at > counts.len() {
                p.muted.small { (looked_at - counts.len()) " object" @if looked_at - counts.len() != 1 { "s" } " checked with no changes." }
            }
            @for (object, c) in &counts {
                @let n = |k: &str| c.get(k).copied().unwrap_or(0);
                div.object-counts {
                    h3 { (object_label(object)) }
                    p.muted.small { (n("new") + n("entered_scope")) " new · " (n("updated")) " updated · " (n("deleted")) " deleted · " (n("left_scope")) " left scope" }
                    @if n("over_limit") > 0 {
                        p.small.over-limit { (n("over_limit")) " not stored: the profile's limit for this object is reached" }
                    }
                    @if let Some(list) = by_object.get(object.as_str()) {
                        ul.list.compact { @for r in list { (record_row(r)) } }
                    }
                }
            }
            @for (object, list) in by_object.iter().filter(|(o, _)| !counts.contains_key(**o)) {
                div.object-counts {
                    h3 { (object_label(object)) }
                    ul.list.compact { @for r in list { (record_row(r)) } }
                }
            }
            @if event.truncated { p.muted.small { "Only the first " (store::history::MAX_EVENT_RECORDS) " records are listed." } }
        }
    };
    Ok(shell(
        Page { title: "Sync detail", tab: Tab::History, live: false, status: &status },
        content,
    ))
}

fn record_row(r: &EventRecord) -> Markup {
    html! {
        li.row.event-record data-action=(r.action.as_str()) {
            span.main {
                span.title { (r.display_name.clone().unwrap_or_else(|| r.record_id.clone())) }
                span.sub.muted { (object_label(&r.object)) @if let Some(d) = &r.detail { " · " (d) } }
            }
            span class={ "tag " (r.action.as_str()) } { (action_label(r.action)) }
        }
    }
}
