//! Create, edit and delete: forms built from the object's schema, values checked before
//! they reach the store, and a refused value shown beside its field with the reason.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use maud::{Markup, html};
use serde_json::{Number, Value};
use soql::schema::{FieldSchema, FieldType};
use store::{ChangeOp, Record, StoreError};
use tracing::debug;

use super::layout::{Page, Tab, csrf_field, shell};
use super::objects::{editable_fields, label, object_label};
use super::records::{ObjectView, query_records, text_of};
use super::{WebError, WebState, current_status};
use crate::app::AppHandle;

/// Lookup choices offered per field at most.
const CHOICES_LIMIT: usize = 500;

/// Fields a record cannot be saved without.
// FIXME: describe's `nillable`/`defaultedOnCreate` are not kept in the local catalog, so
// required fields are listed here for the standard field-service objects; the engine's
// edit validation against describe replaces this once the app uses it.
const REQUIRED: &[(&str, &str)] = &[
    ("Account", "Name"),
    ("Asset", "Name"),
    ("Product2", "Name"),
    ("Contact", "LastName"),
    ("WorkOrderLineItem", "WorkOrderId"),
    ("ServiceAppointment", "ParentRecordId"),
];

/// Form values per field, as typed, and the reasons values were refused.
#[derive(Debug, Default)]
struct FormState {
    values: HashMap<String, String>,
    errors: BTreeMap<String, String>,
    general: Option<String>,
}

/// `GET /records/{object}/new` (query parameters prefill fields, e.g. `?WorkOrderId=...`).
pub async fn new_page(
    State(state): State<WebState>,
    Path(object): Path<String>,
    Query(prefill): Query<HashMap<String, String>>,
) -> Result<Markup, WebError> {
    let view = ObjectView::load(&state.handle, &object)?;
    let form = FormState { values: prefill, ..FormState::default() };
    render(&state, &view, None, &form)
}

/// `GET /records/{object}/{id}/edit`
pub async fn edit_page(
    State(state): State<WebState>,
    Path((object, id)): Path<(String, String)>,
) -> Result<Markup, WebError> {
    let view = ObjectView::load(&state.handle, &object)?;
    let record = load(&state.handle, &view, &id)?;
    let values = editable_fields(&view.schema, &view.synced)
        .into_iter()
        .map(|f| (f.name.clone(), input_value(f, record.get(&f.name))))
        .collect();
    render(&state, &view, Some(&id), &FormState { values, ..FormState::default() })
}

fn load(handle: &AppHandle, view: &ObjectView, id: &str) -> Result<Record, WebError> {
    handle.store().read(|r| r.get_record(&view.schema.name, id))?.ok_or_else(|| {
        WebError::not_found(format!("No {} with id {id} on this device", view.schema.name))
    })
}

/// `POST /records/{object}`
pub async fn create(
    State(state): State<WebState>,
    Path(object): Path<String>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let view = ObjectView::load(&state.handle, &object)?;
    let mut form = FormState { values: submitted(&body), ..FormState::default() };
    let fields = parse_fields(&state.handle, &view, &mut form, None);
    if !form.errors.is_empty() {
        return Ok(refused(&state, &view, None, &form));
    }
    let now = state.handle.clock().now();
    let object = view.schema.name.clone();
    match state
        .handle
        .store()
        .write(|tx| tx.record_edit(&object, None, ChangeOp::Create, &fields, now))
    {
        Ok(outcome) => {
            debug!(object = %object, "record created on the device");
            super::pending::refresh_pending(&state.handle);
            Ok(Redirect::to(&format!("/records/{object}/{}", outcome.record_id)).into_response())
        }
        Err(e) => {
            form.general = Some(refusal(&e)?);
            Ok(refused(&state, &view, None, &form))
        }
    }
}

/// `POST /records/{object}/{id}`
pub async fn update(
    State(state): State<WebState>,
    Path((object, id)): Path<(String, String)>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let view = ObjectView::load(&state.handle, &object)?;
    let current = load(&state.handle, &view, &id)?;
    let mut form = FormState { values: submitted(&body), ..FormState::default() };
    let fields = parse_fields(&state.handle, &view, &mut form, Some(&current));
    if !form.errors.is_empty() {
        return Ok(refused(&state, &view, Some(&id), &form));
    }
    let object = view.schema.name.clone();
    if fields.is_empty() {
        return Ok(Redirect::to(&format!("/records/{object}/{id}")).into_response());
    }
    let now = state.handle.clock().now();
    match state
        .handle
        .store()
        .write(|tx| tx.record_edit(&object, Some(&id), ChangeOp::Update, &fields, now))
    {
        Ok(_) => {
            debug!(object = %object, fields = fields.len(), "record edited on the device");
            super::pending::refresh_pending(&state.handle);
            Ok(Redirect::to(&format!("/records/{object}/{id}")).into_response())
        }
        Err(e) => {
            form.general = Some(refusal(&e)?);
            Ok(refused(&state, &view, Some(&id), &form))
        }
    }
}

/// `POST /records/{object}/{id}/delete`
pub async fn delete(
    State(state): State<WebState>,
    Path((object, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let view = ObjectView::load(&state.handle, &object)?;
    let object = view.schema.name.clone();
    let now = state.handle.clock().now();
    state
        .handle
        .store()
        .write(|tx| tx.record_edit(&object, Some(&id), ChangeOp::Delete, &Record::new(), now))?;
    debug!(object = %object, "record deleted on the device");
    super::pending::refresh_pending(&state.handle);
    Ok(Redirect::to(&format!("/records/{object}")).into_response())
}

/// A store refusal the person can act on becomes a message; anything else is an error.
fn refusal(e: &StoreError) -> Result<String, WebError> {
    match e {
        StoreError::InvalidEdit { reason, .. } => Ok(format!("Not saved: {reason}.")),
        StoreError::NoSuchRecord { .. } => {
            Ok("Not saved: the record is no longer on this device.".into())
        }
        other => Err(WebError::internal(other)),
    }
}

fn refused(state: &WebState, view: &ObjectView, id: Option<&str>, form: &FormState) -> Response {
    match render(state, view, id, form) {
        Ok(markup) => (StatusCode::UNPROCESSABLE_ENTITY, markup).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The submitted `f.<Field>` values; for repeated names (a checkbox after its hidden
/// default) the last one wins.
fn submitted(body: &[(String, String)]) -> HashMap<String, String> {
    body.iter()
        .filter_map(|(k, v)| k.strip_prefix("f.").map(|k| (k.to_owned(), v.clone())))
        .collect()
}

/// Checks and converts the form's values. With `current`, only fields whose value differs
/// are returned.
// FIXME: the engine's edit validation against describe (picklist values, lengths,
// required fields, createable/updateable) should run here; until the app calls it, these
// checks cover types, lookups and the required fields listed above.
fn parse_fields(
    handle: &AppHandle,
    view: &ObjectView,
    form: &mut FormState,
    current: Option<&Record>,
) -> Record {
    let mut out = Record::new();
    for f in editable_fields(&view.schema, &view.synced) {
        let raw = form.values.get(&f.name).map(|s| s.trim().to_owned()).unwrap_or_default();
        let value = match convert(handle, f, &raw) {
            Ok(v) => v,
            Err(reason) => {
                form.errors.insert(f.name.clone(), reason);
                continue;
            }
        };
        let required =
            REQUIRED.iter().any(|(o, n)| o.eq_ignore_ascii_case(&view.schema.name) && *n == f.name);
        if required && value.is_null() {
            form.errors.insert(f.name.clone(), format!("{} is required", label(&f.name)));
            continue;
        }
        match current {
            Some(record) if same_value(record.get(&f.name), &value) => {}
            Some(_) => {
                out.insert(f.name.clone(), value);
            }
            None if !value.is_null() => {
                out.insert(f.name.clone(), value);
            }
            None => {}
        }
    }
    out
}

fn same_value(stored: Option<&Value>, new: &Value) -> bool {
    match (stored.unwrap_or(&Value::Null), new) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.is_empty(),
        (a, b) => a == b,
    }
}

/// One typed value as the store keeps it, or why it is refused.
fn convert(handle: &AppHandle, f: &FieldSchema, raw: &str) -> Result<Value, String> {
    if raw.is_empty() {
        return Ok(if f.field_type == FieldType::Boolean {
            Value::Bool(false)
        } else {
            Value::Null
        });
    }
    match f.field_type {
        FieldType::Boolean => Ok(Value::Bool(raw == "true" || raw == "on")),
        FieldType::Int => raw
            .parse::<i64>()
            .map(|n| Value::Number(n.into()))
            .map_err(|_| "Enter a whole number".to_owned()),
        FieldType::Double | FieldType::Currency | FieldType::Percent => raw
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| "Enter a number".to_owned()),
        FieldType::Date => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| "Enter a date".to_owned()),
        FieldType::DateTime => parse_local_datetime(raw)
            .map(|t| Value::String(t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()))
            .ok_or_else(|| "Enter a date and time".to_owned()),
        FieldType::Email => {
            let ok = raw.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.'));
            if ok {
                Ok(Value::String(raw.to_owned()))
            } else {
                Err("Enter an email address".into())
            }
        }
        FieldType::Reference => {
            let found = f
                .reference_to
                .iter()
                .any(|t| handle.store().read(|r| r.get_record(t, raw)).ok().flatten().is_some());
            if found {
                Ok(Value::String(raw.to_owned()))
            } else {
                Err("Choose a record on this device".into())
            }
        }
        _ => Ok(Value::String(raw.to_owned())),
    }
}

fn parse_local_datetime(raw: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    Local.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc))
}

/// A stored value as an input's `value`.
fn input_value(f: &FieldSchema, value: Option<&Value>) -> String {
    match (f.field_type, value) {
        (FieldType::DateTime, Some(Value::String(s))) => store::values::parse_datetime(s)
            .map(|t| t.with_timezone(&Local).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        (FieldType::Boolean, Some(Value::Bool(b))) => b.to_string(),
        (_, v) => text_of(v),
    }
}

/// The records of the lookup's target objects on this device, by name.
fn lookup_choices(handle: &AppHandle, f: &FieldSchema) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for target in &f.reference_to {
        let Ok(view) = ObjectView::load(handle, target) else { continue };
        let soql = format!(
            "SELECT Id, {} FROM {} ORDER BY {} LIMIT {CHOICES_LIMIT}",
            view.name_field, view.schema.name, view.name_field
        );
        if let Ok(rows) = query_records(handle, &soql) {
            for r in rows {
                let id = text_of(r.get("Id"));
                out.push((
                    id,
                    format!("{} ({})", view.display(&r), object_label(&view.schema.name)),
                ));
            }
        }
    }
    out
}

/// The values a picklist holds on this device.
// FIXME: describe's picklist values are not kept in the local catalog, so the choices are
// the values local records already hold; keeping describe's values would offer them all.
fn picklist_choices(handle: &AppHandle, view: &ObjectView, f: &FieldSchema) -> Vec<String> {
    let soql = format!("SELECT {} FROM {} WHERE {} != null", f.name, view.schema.name, f.name);
    let mut values: Vec<String> = query_records(handle, &soql)
        .unwrap_or_default()
        .iter()
        .map(|r| text_of(r.get(&f.name)))
        .collect();
    values.sort();
    values.dedup();
    values
}

fn render(
    state: &WebState,
    view: &ObjectView,
    id: Option<&str>,
    form: &FormState,
) -> Result<Markup, WebError> {
    let handle = &state.handle;
    let status = current_status(handle);
    let object = &view.schema.name;
    let (title, action, back) = match id {
        Some(id) => (
            format!("Edit {}", object_label(object)),
            format!("/records/{object}/{id}"),
            format!("/records/{object}/{id}"),
        ),
        None => (
            format!("New {}", object_label(object)),
            format!("/records/{object}"),
            format!("/records/{object}"),
        ),
    };
    let content = html! {
        div.titlebar {
            a.back href=(back) aria-label="Back" { "‹" }
            h1 { (title) }
        }
        @if let Some(msg) = &form.general { p.error role="alert" #form-error { (msg) } }
        @if !form.errors.is_empty() { p.error role="alert" { "Please fix the fields marked below." } }
        form.record-form method="post" action=(action) novalidate {
            (csrf_field(state.csrf()))
            @for f in editable_fields(&view.schema, &view.synced) {
                @let name = format!("f.{}", f.name);
                @let input_id = format!("field-{}", f.name);
                @let value = form.values.get(&f.name).cloned().unwrap_or_default();
                @let error = form.errors.get(&f.name);
                @let err_id = format!("err-{}", f.name);
                div.form-field.invalid[error.is_some()] {
                    @if f.field_type == FieldType::Boolean {
                        input type="hidden" name=(name) value="false";
                        label.check for=(input_id) {
                            input type="checkbox" id=(input_id) name=(name) value="true" checked[value == "true"];
                            span { (label(&f.name)) }
                        }
                    } @else {
                        label for=(input_id) { (label(&f.name)) }
                        (field_input(handle, view, f, &name, &input_id, &value, error.map(|_| err_id.as_str())))
                    }
                    @if let Some(e) = error { p.field-error id=(err_id) { (e) } }
                }
            }
            div.form-actions {
                a.button.secondary href=(back) { "Cancel" }
                button.primary type="submit" { "Save" }
            }
        }
    };
    Ok(shell(Page { title: &title, tab: Tab::Records, live: false, status: &status }, content))
}

fn field_input(
    handle: &AppHandle,
    view: &ObjectView,
    f: &FieldSchema,
    name: &str,
    id: &str,
    value: &str,
    described_by: Option<&str>,
) -> Markup {
    let invalid = described_by.map(|_| "true");
    match f.field_type {
        FieldType::Reference => {
            let choices = lookup_choices(handle, f);
            html! {
                select id=(id) name=(name) aria-invalid=[invalid] aria-describedby=[described_by] {
                    option value="" { "— None —" }
                    @for (cid, cname) in &choices { option value=(cid) selected[cid == value] { (cname) } }
                    @if !value.is_empty() && !choices.iter().any(|(c, _)| c == value) {
                        option value=(value) selected { (value) }
                    }
                }
            }
        }
        FieldType::Picklist => {
            let mut choices = picklist_choices(handle, view, f);
            if !value.is_empty() && !choices.iter().any(|c| c == value) {
                choices.push(value.to_owned());
            }
            html! {
                select id=(id) name=(name) aria-invalid=[invalid] aria-describedby=[described_by] {
                    option value="" { "— None —" }
                    @for c in &choices { option value=(c) selected[c == value] { (c) } }
                }
            }
        }
        FieldType::TextArea => html! {
            textarea id=(id) name=(name) rows="4" aria-invalid=[invalid] aria-describedby=[described_by] { (value) }
        },
        other => {
            let (kind, extra) = match other {
                FieldType::Int => ("number", Some("1")),
                FieldType::Double | FieldType::Currency | FieldType::Percent => {
                    ("number", Some("any"))
                }
                FieldType::Date => ("date", None),
                FieldType::DateTime => ("datetime-local", None),
                FieldType::Email => ("email", None),
                FieldType::Phone => ("tel", None),
                FieldType::Url => ("url", None),
                _ => ("text", None),
            };
            html! {
                input type=(kind) id=(id) name=(name) value=(value) step=[extra]
                    inputmode=[(kind == "number").then_some("decimal")]
                    aria-invalid=[invalid] aria-describedby=[described_by];
            }
        }
    }
}
