//! Pending Changes: every local change not yet on the server, its state, and what a
//! person can do about it: retry, discard, settle a conflict field by field, or create again
//! a record the server deleted while it was edited here.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use engine::upload::conflict::is_deleted_on_server;
use engine::upload::recreate;
use maud::{Markup, html};
use serde_json::Value;
use store::{ChangeOp, ChangeState, PendingChange, Resolution};
use tracing::info;

use super::fields::field_labels;
use super::layout::{Page, Tab, csrf_field, shell};
use super::objects::{label, object_label};
use super::records::{name_of, text_of};
use super::timefmt::{date_time, when};
use super::{WebError, WebState, current_status};
use crate::app::{AppHandle, Trigger};

/// `GET /pending`
pub async fn page(State(state): State<WebState>) -> Result<Markup, WebError> {
    let handle = &state.handle;
    let status = current_status(handle);
    let changes = handle.store().read(|r| r.pending_changes(&Default::default()))?;
    let now = handle.clock().now();
    let content = html! {
        h1 { "Pending changes" }
        @if changes.is_empty() {
            div.card.empty-state #pending-empty {
                p.big { "✓" }
                p { "Everything is uploaded." }
            }
        } @else {
            p.muted { (changes.len()) " change" @if changes.len() != 1 { "s" } " not yet on the server. They upload with the next sync." }
            ul.changes {
                @for c in &changes { (change_card(&state, handle, c, now)) }
            }
        }
    };
    Ok(shell(Page { title: "Pending", tab: Tab::Pending, live: true, status: &status }, content))
}

fn state_label(state: ChangeState) -> (&'static str, &'static str) {
    match state {
        ChangeState::Waiting => ("Waiting", "waiting"),
        ChangeState::Uploading => ("Uploading", "uploading"),
        ChangeState::Failed => ("Failed", "failed"),
        ChangeState::Conflict => ("Conflict", "conflict"),
        ChangeState::Blocked => ("Blocked", "blocked"),
    }
}

fn op_label(op: ChangeOp) -> &'static str {
    match op {
        ChangeOp::Create => "New",
        ChangeOp::Update => "Edited",
        ChangeOp::Delete => "Deleted",
    }
}

/// The server's error as one readable line.
fn error_text(error: &Value) -> String {
    let one = |e: &Value| {
        let msg = e.get("message").and_then(Value::as_str).unwrap_or_default();
        let code = e.get("errorCode").and_then(Value::as_str).unwrap_or_default();
        match (msg.is_empty(), code.is_empty()) {
            (false, false) => format!("{msg} ({code})"),
            (false, true) => msg.to_owned(),
            _ => e.to_string(),
        }
    };
    match error {
        Value::Array(items) => items.iter().map(one).collect::<Vec<_>>().join("; "),
        Value::String(s) => s.clone(),
        other => one(other),
    }
}

fn change_card(
    state: &WebState,
    handle: &AppHandle,
    c: &PendingChange,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let (state_text, state_class) = state_label(c.state);
    let name = name_of(handle, &c.object, &c.record_id)
        .or_else(|| c.base.get("Name").or(c.base.get("Subject")).map(|v| text_of(Some(v))))
        .unwrap_or_else(|| c.record_id.clone());
    let record_link = format!("/records/{}/{}", c.object, c.record_id);
    let labels = field_labels(handle.store(), &c.object);
    let label = |field: &str| labels.get(field).cloned().unwrap_or_else(|| label(field));
    html! {
        li.card.change data-seq=(c.seq) data-state=(state_class) {
            div.change-head {
                div {
                    div.kicker.muted { (op_label(c.op)) " " (object_label(&c.object)) }
                    @if c.op == ChangeOp::Delete { div.title { (name) } }
                    @else { a.title href=(record_link) { (name) } }
                }
                span class={ "state " (state_class) } { (state_text) }
            }
            @if c.op != ChangeOp::Delete && c.state != ChangeState::Conflict {
                dl.diff {
                    @for (field, value) in &c.fields {
                        div {
                            dt { (label(field)) }
                            dd {
                                @if let Some(old) = c.base.get(field).filter(|v| !v.is_null()) { del { (shown(handle, Some(old))) } " → " }
                                ins { (shown(handle, Some(value))) }
                            }
                        }
                    }
                }
            }
            @if let (ChangeState::Failed, Some(err)) = (c.state, &c.error) {
                p.error role="note" { "Server said: " (error_text(err)) }
            }
            @if c.state == ChangeState::Blocked {
                p.muted { "Waits for a related record created on this device to upload first." }
            }
            @if c.state == ChangeState::Conflict { (conflict_form(state, c, &label)) }
            p.muted.small { "Changed " (when(c.updated_at, now)) @if c.attempts > 0 { " · " (c.attempts) " attempt" @if c.attempts != 1 { "s" } } }
            div.actions {
                @if matches!(c.state, ChangeState::Failed | ChangeState::Blocked) {
                    form method="post" action={ "/pending/" (c.seq) "/retry" } .inline {
                        (csrf_field(state.csrf()))
                        button type="submit" { "Retry" }
                    }
                }
                @if c.state != ChangeState::Uploading {
                    form method="post" action={ "/pending/" (c.seq) "/discard" } .inline data-confirm="Discard this change? The record goes back to the server's version." {
                        (csrf_field(state.csrf()))
                        button.danger.secondary type="submit" { "Discard" }
                    }
                }
            }
        }
    }
}

/// A value as shown: a lookup id of a record on the device becomes its name.
fn shown(handle: &AppHandle, value: Option<&Value>) -> Markup {
    if let Some(Value::String(id)) = value
        && (id.len() == 18 || store::pending::is_local_id(id))
    {
        for object in handle.store().catalog().names() {
            if let Some(name) = name_of(handle, &object, id) {
                return html! { (name) };
            }
        }
    }
    plain(value)
}

/// A value as text, a date and time in the browser's zone.
fn plain(value: Option<&Value>) -> Markup {
    if let Some(Value::String(s)) = value
        && s.len() >= 19
        && s.as_bytes().get(10) == Some(&b'T')
        && let Ok(t) = salesforce::time::parse_datetime(s)
    {
        return date_time(t);
    }
    html! { (text_of(value)) }
}

/// Settle a conflict: one row per field, the local value against the server's; for a
/// record the server deleted, the choice to create it again (Discard drops the edit).
fn conflict_form(state: &WebState, c: &PendingChange, label: &dyn Fn(&str) -> String) -> Markup {
    if is_deleted_on_server(c) {
        return html! {
            form.conflict method="post" action={ "/pending/" (c.seq) "/recreate" } {
                (csrf_field(state.csrf()))
                p { "This record was deleted on the server while you edited it. Create it again with your values, or discard your edit." }
                button.primary type="submit" { "Create again" }
            }
        };
    }
    html! {
        form.conflict method="post" action={ "/pending/" (c.seq) "/resolve" } {
            (csrf_field(state.csrf()))
            p { "The server changed the same fields. Choose which value to keep for each." }
            @for (field, local) in &c.fields {
                @let server = c.server_values.get(field);
                fieldset.choice {
                    legend { (label(field)) }
                    label {
                        input type="radio" name={ "r." (field) } value="local" checked;
                        span { "Mine: " strong { (plain(Some(local))) } }
                    }
                    label {
                        input type="radio" name={ "r." (field) } value="server";
                        span { "Server: " strong { (plain(server)) } }
                    }
                }
            }
            button.primary type="submit" { "Resolve" }
        }
    }
}

/// `POST /pending/{seq}/retry`
pub async fn retry(
    State(state): State<WebState>,
    Path(seq): Path<i64>,
) -> Result<Response, WebError> {
    let now = state.handle.clock().now();
    state.handle.store().write(|tx| tx.retry(seq, now))?;
    info!(seq, "pending change put back in the queue");
    state.handle.request_sync(Trigger::User, &[]);
    Ok(Redirect::to("/pending").into_response())
}

/// `POST /pending/{seq}/discard`
pub async fn discard(
    State(state): State<WebState>,
    Path(seq): Path<i64>,
) -> Result<Response, WebError> {
    let now = state.handle.clock().now();
    state.handle.store().write(|tx| tx.discard(seq, now))?;
    info!(seq, "pending change discarded");
    refresh_pending(&state.handle);
    Ok(Redirect::to("/pending").into_response())
}

/// `POST /pending/{seq}/recreate`: creates again, with the device's values, a record the
/// server deleted while it was edited here.
pub async fn recreate(
    State(state): State<WebState>,
    Path(seq): Path<i64>,
) -> Result<Response, WebError> {
    let now = state.handle.clock().now();
    match recreate::recreate(state.handle.store(), seq, now) {
        Ok(_) => {}
        Err(engine::edit::EditError::Store(e)) => return Err(e.into()),
        Err(refused) => return Err(WebError::refused(refused.to_string())),
    }
    info!(seq, "record deleted on the server to be created again");
    state.handle.request_sync(Trigger::User, &[]);
    refresh_pending(&state.handle);
    Ok(Redirect::to("/pending").into_response())
}

/// `POST /pending/{seq}/resolve` with `r.<Field>` = `local` or `server` per field.
pub async fn resolve(
    State(state): State<WebState>,
    Path(seq): Path<i64>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let choices: BTreeMap<String, Resolution> = body
        .iter()
        .filter_map(|(k, v)| {
            let field = k.strip_prefix("r.")?;
            let choice = if v == "server" { Resolution::TakeServer } else { Resolution::KeepLocal };
            Some((field.to_owned(), choice))
        })
        .collect();
    let now = state.handle.clock().now();
    let left = state.handle.store().write(|tx| tx.resolve(seq, &choices, now))?;
    info!(seq, fields = choices.len(), "conflict resolved");
    if left.is_some() {
        state.handle.request_sync(Trigger::User, &[]);
    }
    refresh_pending(&state.handle);
    Ok(Redirect::to("/pending").into_response())
}

/// Tells subscribers the pending count after a change made here.
pub fn refresh_pending(handle: &AppHandle) {
    let count = current_status(handle).pending;
    handle.update_status(|s| s.pending = count);
}
