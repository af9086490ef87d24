//! Create, edit and delete: forms built from the object's cached describe (see
//! [`super::fields`]), values saved through the engine's edit validation
//! ([`engine::edit::Edits`]), and each refused value shown beside its field with the same
//! message the command line gives (`Subject: too long (max 255)`).

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use salesforce::wire::SObjectDescribe;
use serde_json::Value;
use store::{Record, StoreError};
use tracing::debug;

use engine::edit::parse::parse_value;
use engine::edit::{EditError, EditKind, Edits, FieldError};

use super::fields::{FormField, InputKind, form_fields};
use super::layout::{Page, Tab, csrf_field, shell};
use super::objects::object_label;
use super::records::{ObjectView, query_records, text_of};
use super::{WebError, WebState, current_status};
use crate::app::AppHandle;

/// Lookup choices offered per field at most.
const CHOICES_LIMIT: usize = 500;

/// Form values per field, as typed, and the reasons values were refused.
#[derive(Debug, Default)]
struct FormState {
    values: HashMap<String, String>,
    /// Per form field: the engine's message, e.g. `Subject: required`.
    errors: BTreeMap<String, String>,
    /// Refusals not tied to a field of the form.
    general: Vec<String>,
}

/// The object's view and the describe its forms are built from.
struct FormContext {
    view: ObjectView,
    describe: SObjectDescribe,
}

impl FormContext {
    fn load(handle: &AppHandle, object: &str) -> Result<FormContext, WebError> {
        let view = ObjectView::load(handle, object)?;
        let describe = match Edits::new(handle.store()).describe(&view.schema.name) {
            Ok(d) => d,
            Err(EditError::UnknownObject(_)) => {
                return Err(WebError::refused(format!(
                    "The field rules for {} are not on this device yet. Sign in again while \
                     online to fetch them.",
                    object_label(&view.schema.name)
                )));
            }
            Err(e) => return Err(WebError::internal(&e)),
        };
        Ok(FormContext { view, describe })
    }

    fn fields(&self, kind: EditKind) -> Vec<FormField> {
        form_fields(&self.describe, &self.view.synced, kind)
    }
}

/// `GET /records/{object}/new` (query parameters prefill fields, e.g. `?WorkOrderId=...`).
pub async fn new_page(
    State(state): State<WebState>,
    Path(object): Path<String>,
    Query(prefill): Query<HashMap<String, String>>,
) -> Result<Markup, WebError> {
    let ctx = FormContext::load(&state.handle, &object)?;
    let mut values = prefill;
    for f in &ctx.describe.fields {
        if let Some(default) = default_text(f) {
            values.entry(f.name.clone()).or_insert(default);
        }
    }
    let form = FormState { values, ..FormState::default() };
    Ok(render(&state, &ctx, None, &form))
}

/// `GET /records/{object}/{id}/edit`
pub async fn edit_page(
    State(state): State<WebState>,
    Path((object, id)): Path<(String, String)>,
) -> Result<Markup, WebError> {
    let ctx = FormContext::load(&state.handle, &object)?;
    let record = load(&state.handle, &ctx.view, &id)?;
    let values = ctx
        .fields(EditKind::Update)
        .iter()
        .map(|f| (f.name.clone(), input_value(f, record.get(&f.name))))
        .collect();
    Ok(render(&state, &ctx, Some(&id), &FormState { values, ..FormState::default() }))
}

/// A field's default on create as form text: the describe's default value, or the
/// picklist value marked default.
fn default_text(f: &salesforce::wire::FieldDescribe) -> Option<String> {
    match &f.default_value {
        Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
        Some(Value::Bool(b)) => return Some(b.to_string()),
        Some(Value::Number(n)) => return Some(n.to_string()),
        _ => {}
    }
    f.picklist_values.iter().find(|p| p.active && p.default_value).map(|p| p.value.clone())
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
    let ctx = FormContext::load(&state.handle, &object)?;
    let mut form = FormState { values: submitted(&body), ..FormState::default() };
    let (fields, errors) = read_values(&ctx.describe, &form.values, None);
    let result = if errors.is_empty() {
        let now = state.handle.clock().now();
        Edits::new(state.handle.store()).create(&ctx.describe.name, &fields, now)
    } else {
        Err(EditError::Invalid(errors))
    };
    match result {
        Ok(outcome) => {
            debug!(object = %ctx.describe.name, "record created on the device");
            super::pending::refresh_pending(&state.handle);
            let to = format!("/records/{}/{}", ctx.view.schema.name, outcome.record_id);
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            refusal(&ctx, EditKind::Create, &mut form, e)?;
            Ok(refused(&state, &ctx, None, &form))
        }
    }
}

/// `POST /records/{object}/{id}`
pub async fn update(
    State(state): State<WebState>,
    Path((object, id)): Path<(String, String)>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let ctx = FormContext::load(&state.handle, &object)?;
    let current = load(&state.handle, &ctx.view, &id)?;
    let mut form = FormState { values: submitted(&body), ..FormState::default() };
    let (fields, errors) = read_values(&ctx.describe, &form.values, Some(&current));
    let back = format!("/records/{}/{id}", ctx.view.schema.name);
    if errors.is_empty() && fields.is_empty() {
        return Ok(Redirect::to(&back).into_response());
    }
    let result = if errors.is_empty() {
        let now = state.handle.clock().now();
        Edits::new(state.handle.store()).update(&ctx.describe.name, &id, &fields, now)
    } else {
        Err(EditError::Invalid(errors))
    };
    match result {
        Ok(_) => {
            debug!(object = %ctx.describe.name, fields = fields.len(), "record edited on the device");
            super::pending::refresh_pending(&state.handle);
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => {
            refusal(&ctx, EditKind::Update, &mut form, e)?;
            // Read-only fields are never sent; show what the record holds.
            for f in ctx.fields(EditKind::Update).iter().filter(|f| f.read_only) {
                form.values.insert(f.name.clone(), input_value(f, current.get(&f.name)));
            }
            Ok(refused(&state, &ctx, Some(&id), &form))
        }
    }
}

/// `POST /records/{object}/{id}/delete`
pub async fn delete(
    State(state): State<WebState>,
    Path((object, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let view = ObjectView::load(&state.handle, &object)?;
    let now = state.handle.clock().now();
    match Edits::new(state.handle.store()).delete(&view.schema.name, &id, now) {
        Ok(_) => {}
        Err(e @ (EditError::NotAllowed { .. } | EditError::UnknownObject(_))) => {
            return Err(WebError::refused(format!("Not deleted: {e}.")));
        }
        Err(EditError::Store(StoreError::NoSuchRecord { .. })) => {
            return Err(WebError::not_found(format!("No {object} with id {id} on this device")));
        }
        Err(e) => return Err(WebError::internal(&e)),
    }
    debug!(object = %view.schema.name, "record deleted on the device");
    super::pending::refresh_pending(&state.handle);
    Ok(Redirect::to(&format!("/records/{}", view.schema.name)).into_response())
}

/// Puts the engine's refusal on the form: each field's message beside the field, the
/// rest at the top. A failure the person cannot act on is an error page.
fn refusal(
    ctx: &FormContext,
    kind: EditKind,
    form: &mut FormState,
    e: EditError,
) -> Result<(), WebError> {
    let fields = ctx.fields(kind);
    match e {
        EditError::Invalid(errors) => {
            for error in errors {
                match fields
                    .iter()
                    .find(|f| !f.read_only && f.name.eq_ignore_ascii_case(&error.field))
                {
                    Some(f) => {
                        form.errors.insert(f.name.clone(), error.to_string());
                    }
                    None => form.general.push(error.to_string()),
                }
            }
        }
        EditError::NotAllowed { .. } | EditError::UnknownObject(_) => {
            form.general.push(format!("Not saved: {e}."));
        }
        EditError::Store(StoreError::InvalidEdit { reason, .. }) => {
            form.general.push(format!("Not saved: {reason}."));
        }
        EditError::Store(StoreError::NoSuchRecord { .. }) => {
            form.general.push("Not saved: the record is no longer on this device.".into());
        }
        other => return Err(WebError::internal(&other)),
    }
    Ok(())
}

fn refused(state: &WebState, ctx: &FormContext, id: Option<&str>, form: &FormState) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, render(state, ctx, id, form)).into_response()
}

/// The submitted `f.<Field>` values; for repeated names (a checkbox after its hidden
/// default) the last one wins.
fn submitted(body: &[(String, String)]) -> HashMap<String, String> {
    body.iter()
        .filter_map(|(k, v)| k.strip_prefix("f.").map(|k| (k.to_owned(), v.clone())))
        .collect()
}

/// Reads the submitted text by each field's describe type, as the command line does.
/// With `current` (an edit), only values that differ from the record are returned; on a
/// create, empty values are left out so that required fields are reported. Names the
/// describe does not know are passed on for the validation to name.
fn read_values(
    describe: &SObjectDescribe,
    values: &HashMap<String, String>,
    current: Option<&Record>,
) -> (Record, Vec<FieldError>) {
    let mut out = Record::new();
    let mut errors = Vec::new();
    let mut names: Vec<&String> = values.keys().collect();
    names.sort();
    for name in names {
        let raw = values[name].trim();
        let Some(field) = describe.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)) else {
            if !raw.is_empty() {
                out.insert(name.clone(), Value::String(raw.to_owned()));
            }
            continue;
        };
        let text = if field.field_type == "datetime" { datetime_text(raw) } else { raw.to_owned() };
        let value = match parse_value(&field.field_type, &text) {
            Ok(v) => v,
            Err(message) => {
                errors.push(FieldError::new(&field.name, message));
                continue;
            }
        };
        let keep = match current {
            Some(record) => !same_value(&field.field_type, record.get(&field.name), &value),
            None => !value.is_null(),
        };
        if keep {
            out.insert(field.name.clone(), value);
        }
    }
    (out, errors)
}

/// A `datetime-local` value without the script (`2026-05-04T10:00`, taken as UTC) gets
/// its seconds; the script sends full UTC times, which pass unchanged.
fn datetime_text(raw: &str) -> String {
    if raw.len() == 16 && raw.as_bytes().get(10) == Some(&b'T') {
        format!("{raw}:00")
    } else {
        raw.to_owned()
    }
}

/// Whether a submitted value is what the record holds. Times compare to the minute (what
/// the input shows), numbers by value, an unset checkbox as false.
fn same_value(field_type: &str, stored: Option<&Value>, new: &Value) -> bool {
    let stored = stored.unwrap_or(&Value::Null);
    match (field_type, stored, new) {
        ("datetime", Value::String(a), Value::String(b)) => {
            match (salesforce::time::parse_datetime(a), salesforce::time::parse_datetime(b)) {
                (Ok(a), Ok(b)) => a.timestamp() / 60 == b.timestamp() / 60,
                _ => a == b,
            }
        }
        ("boolean", Value::Null, Value::Bool(false)) => true,
        (_, Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (_, Value::Null, Value::String(s)) | (_, Value::String(s), Value::Null) => s.is_empty(),
        (_, a, b) => a == b,
    }
}

/// A stored value as an input's `value`; times in UTC, which the script shows in the
/// browser's zone.
fn input_value(f: &FormField, value: Option<&Value>) -> String {
    match (&f.kind, value) {
        (InputKind::DateTime, Some(Value::String(s))) => datetime_input(s),
        (InputKind::Checkbox, Some(Value::Bool(b))) => b.to_string(),
        (_, v) => text_of(v),
    }
}

/// A time as a `datetime-local` value in UTC (`2026-05-04T10:00`); text that is no time
/// is kept as typed.
fn datetime_input(text: &str) -> String {
    match salesforce::time::parse_datetime(&datetime_text(text)) {
        Ok(t) => t.format("%Y-%m-%dT%H:%M").to_string(),
        Err(_) => text.to_owned(),
    }
}

/// The records of the lookup's target objects on this device, by name.
fn lookup_choices(handle: &AppHandle, targets: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for target in targets {
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

fn render(state: &WebState, ctx: &FormContext, id: Option<&str>, form: &FormState) -> Markup {
    let handle = &state.handle;
    let status = current_status(handle);
    let object = &ctx.view.schema.name;
    let kind = if id.is_some() { EditKind::Update } else { EditKind::Create };
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
    let fields = ctx.fields(kind);
    let content = html! {
        div.titlebar {
            a.back href=(back) aria-label="Back" { "‹" }
            h1 { (title) }
        }
        @for msg in &form.general { p.error role="alert" .form-error { (msg) } }
        @if !form.errors.is_empty() { p.error role="alert" { "Please fix the fields marked below." } }
        @if fields.iter().any(|f| f.required) { p.muted.small { span.req aria-hidden="true" { "*" } " Required" } }
        form.record-form method="post" action=(action) novalidate {
            (csrf_field(state.csrf()))
            @for f in &fields {
                @let value = form.values.get(&f.name).cloned().unwrap_or_default();
                (field_row(handle, f, &value, form.errors.get(&f.name)))
            }
            div.form-actions {
                a.button.secondary href=(back) { "Cancel" }
                button.primary type="submit" { "Save" }
            }
        }
    };
    shell(Page { title: &title, tab: Tab::Records, live: false, status: &status }, content)
}

/// One field: its label (with `*` when required), its input and its error.
fn field_row(handle: &AppHandle, f: &FormField, value: &str, error: Option<&String>) -> Markup {
    let input_id = format!("field-{}", f.name);
    let err_id = format!("err-{}", f.name);
    // A read-only field has no name, so it is never sent back.
    let name = (!f.read_only).then(|| format!("f.{}", f.name));
    html! {
        div.form-field.invalid[error.is_some()].read-only[f.read_only] data-field=(f.name) {
            @if f.kind == InputKind::Checkbox {
                @if let Some(name) = &name { input type="hidden" name=(name) value="false"; }
                label.check for=(input_id) {
                    input type="checkbox" id=(input_id) name=[name.as_deref()] value="true"
                        checked[value == "true"] disabled[f.read_only];
                    span { (f.label) }
                }
            } @else {
                label for=(input_id) {
                    (f.label)
                    @if f.required && !f.read_only { " " span.req aria-hidden="true" { "*" } }
                    @if f.kind == InputKind::DateTime { " " span.tz.muted data-tz-label { "(UTC)" } }
                    @if f.read_only { " " span.muted.small { "(read-only)" } }
                }
                (field_input(handle, f, name.as_deref(), &input_id, value, error.map(|_| err_id.as_str())))
            }
            @if let Some(e) = error { p.field-error id=(err_id) { (e) } }
        }
    }
}

fn field_input(
    handle: &AppHandle,
    f: &FormField,
    name: Option<&str>,
    id: &str,
    value: &str,
    described_by: Option<&str>,
) -> Markup {
    let invalid = described_by.map(|_| "true");
    let required = (f.required && !f.read_only).then_some("true");
    let ro = f.read_only;
    match &f.kind {
        InputKind::Reference(targets) => {
            let choices = lookup_choices(handle, targets);
            html! {
                select id=(id) name=[name] disabled[ro] aria-required=[required] aria-invalid=[invalid] aria-describedby=[described_by] {
                    option value="" { "— None —" }
                    @for (cid, cname) in &choices { option value=(cid) selected[cid == value] { (cname) } }
                    @if !value.is_empty() && !choices.iter().any(|(c, _)| c == value) {
                        option value=(value) selected { (value) }
                    }
                }
            }
        }
        InputKind::Picklist(choices) => html! {
            select id=(id) name=[name] disabled[ro] aria-required=[required] aria-invalid=[invalid] aria-describedby=[described_by] {
                option value="" { "— None —" }
                @for (v, shown) in choices { option value=(v) selected[v == value] { (shown) } }
                @if !value.is_empty() && !choices.iter().any(|(c, _)| c == value) {
                    option value=(value) selected { (value) " (not a choice)" }
                }
            }
        },
        InputKind::TextArea => html! {
            textarea id=(id) name=[name] rows="4" readonly[ro] maxlength=[f.max_length]
                aria-required=[required] aria-invalid=[invalid] aria-describedby=[described_by] { (value) }
        },
        InputKind::DateTime => html! {
            input type="datetime-local" id=(id) name=[name] value=(datetime_input(value)) data-utc
                readonly[ro] aria-required=[required] aria-invalid=[invalid] aria-describedby=[described_by];
        },
        other => {
            let (kind, step) = match other {
                InputKind::Int => ("number", Some("1")),
                InputKind::Decimal(step) => ("number", Some(step.as_str())),
                InputKind::Date => ("date", None),
                InputKind::Email => ("email", None),
                InputKind::Phone => ("tel", None),
                InputKind::Url => ("url", None),
                _ => ("text", None),
            };
            html! {
                input type=(kind) id=(id) name=[name] value=(value) step=[step]
                    inputmode=[(kind == "number").then_some("decimal")]
                    maxlength=[f.max_length] readonly[ro]
                    aria-required=[required] aria-invalid=[invalid] aria-describedby=[described_by];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn submitted_values_compare_by_type() {
        let stored = json!("2026-05-04T10:00:30.000+0000");
        assert!(same_value("datetime", Some(&stored), &json!("2026-05-04T10:00:00")));
        assert!(!same_value("datetime", Some(&stored), &json!("2026-05-04T10:01:00")));
        assert!(same_value("double", Some(&json!(2)), &json!(2.0)));
        assert!(same_value("boolean", None, &json!(false)));
        assert!(same_value("string", Some(&json!("")), &Value::Null));
        assert!(!same_value("string", Some(&json!("a")), &Value::Null));
        assert_eq!(datetime_text("2026-05-04T10:00"), "2026-05-04T10:00:00");
        assert_eq!(datetime_input("2026-05-04T08:00:00.000Z"), "2026-05-04T08:00");
    }
}
