//! Records: the objects on the device, a searchable, sortable and paged list per object,
//! and a record's detail with its related records. Everything reads the local store.

use std::collections::HashSet;

use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use soql::schema::{FieldType, ObjectSchema};
use store::Record;

use super::layout::{Page, Tab, csrf_field, shell};
use super::objects::{
    SYSTEM, display_name, label, name_field, number_field, object_label, synced_fields,
};
use super::soql_text::{contains_pattern, literal};
use super::timefmt::date_time;
use super::{WebError, WebState, current_status};
use crate::app::AppHandle;

/// Rows a list shows per page.
pub const PAGE_SIZE: u64 = 50;

/// Related records a detail shows per list at most.
const RELATED_LIMIT: usize = 200;

/// `GET /records`
pub async fn objects_page(State(state): State<WebState>) -> Result<Markup, WebError> {
    let handle = &state.handle;
    let status = current_status(handle);
    let store = handle.store();
    let names = store.catalog().names();
    let counts: Vec<(String, u64)> = store.read(|r| {
        names.iter().map(|n| Ok((n.clone(), r.count(n)?))).collect::<Result<_, store::StoreError>>()
    })?;
    let content = html! {
        h1 { "Records" }
        ul.list.card {
            @for (name, count) in &counts {
                li { a.row href={ "/records/" (name) } { span { (object_label(name)) } span.count { (count) } } }
            }
        }
    };
    Ok(shell(Page { title: "Records", tab: Tab::Records, live: false, status: &status }, content))
}

/// The list's search, sort and page (from 1).
#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub page: Option<String>,
}

impl ListQuery {
    /// The page asked for; anything that is not a page number is the first page.
    fn page(&self) -> u64 {
        self.page.as_deref().and_then(|p| p.trim().parse::<u64>().ok()).unwrap_or(1).max(1)
    }

    /// The list's address at `page`, keeping the search and sort.
    fn href(&self, object: &str, page: u64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        if !self.sort.is_empty() {
            query.append_pair("sort", &self.sort);
        }
        if !self.dir.is_empty() {
            query.append_pair("dir", &self.dir);
        }
        query.append_pair("page", &page.to_string());
        format!("/records/{object}?{}", query.finish())
    }
}

/// Which rows of how many a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// The page shown, from 1 (the last page when a later one was asked for).
    pub page: u64,
    /// How many pages the list has (at least 1).
    pub pages: u64,
    /// Records matching the search.
    pub total: u64,
}

impl Paging {
    /// The page `asked` of `total` rows, `PAGE_SIZE` per page.
    pub fn new(asked: u64, total: u64) -> Paging {
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        Paging { page: asked.clamp(1, pages), pages, total }
    }

    /// Rows skipped before this page.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * PAGE_SIZE
    }

    /// `51–100 of 130`; `0 records` when there are none.
    pub fn summary(&self, shown: usize) -> String {
        if self.total == 0 {
            return "0 records".into();
        }
        let first = self.offset() + 1;
        let last = self.offset() + shown as u64;
        let noun = if self.total == 1 { "record" } else { "records" };
        if self.pages == 1 {
            format!("{} {noun}", self.total)
        } else {
            format!("{first}–{last} of {} {noun}", self.total)
        }
    }
}

/// What the screens know about one object.
#[derive(Debug)]
pub struct ObjectView {
    pub schema: ObjectSchema,
    pub synced: Vec<String>,
    pub name_field: String,
    pub number_field: Option<String>,
}

impl ObjectView {
    /// The object's view, or 404 when the device does not hold it.
    pub fn load(handle: &AppHandle, object: &str) -> Result<ObjectView, WebError> {
        let catalog = handle.store().catalog();
        let schema =
            catalog.objects().find(|o| o.name.eq_ignore_ascii_case(object)).cloned().ok_or_else(
                || WebError::not_found(format!("No object '{object}' on this device")),
            )?;
        let synced = synced_fields(handle, &schema);
        let name_field = name_field(&schema, &synced);
        let number_field = number_field(&schema, &synced);
        Ok(ObjectView { schema, synced, name_field, number_field })
    }

    /// A record's display name.
    pub fn display(&self, record: &Record) -> String {
        display_name(record, &self.name_field, self.number_field.as_deref())
    }

    fn field_type(&self, name: &str) -> Option<FieldType> {
        self.schema.fields.iter().find(|f| f.name == name).map(|f| f.field_type)
    }
}

/// Ids of records with a pending change, for one object.
pub fn pending_ids(handle: &AppHandle, object: &str) -> Result<HashSet<String>, WebError> {
    let filter = store::PendingFilter { object: Some(object.to_owned()), ..Default::default() };
    let changes = handle.store().read(|r| r.pending_changes(&filter))?;
    Ok(changes.into_iter().map(|c| c.record_id).collect())
}

/// Runs an offline query and returns the records of its first page (every caller's
/// LIMIT keeps within one page of [`store::DEFAULT_BATCH_SIZE`]).
pub fn query_records(handle: &AppHandle, soql: &str) -> Result<Vec<Record>, WebError> {
    let answer = handle.store().query(soql, handle.clock().now())?;
    Ok(match answer.get("records") {
        Some(Value::Array(rows)) => rows.iter().filter_map(|r| r.as_object().cloned()).collect(),
        _ => Vec::new(),
    })
}

/// `GET /records/{object}`
pub async fn list_page(
    State(state): State<WebState>,
    Path(object): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Markup, WebError> {
    let handle = &state.handle;
    let status = current_status(handle);
    let view = ObjectView::load(handle, &object)?;
    let object = view.schema.name.clone();

    // Sort only by a real field of the object; anything else falls back to the name.
    let sort = if view.synced.contains(&query.sort) {
        query.sort.clone()
    } else {
        view.name_field.clone()
    };
    let dir = if query.dir == "desc" { "DESC" } else { "ASC" };
    let mut select = vec!["Id".to_owned(), view.name_field.clone()];
    for extra in [view.number_field.clone(), Some("Status".to_owned()), Some(sort.clone())]
        .into_iter()
        .flatten()
    {
        if view.synced.contains(&extra) && !select.contains(&extra) {
            select.push(extra);
        }
    }
    let search = query.q.trim();
    let mut filter = String::new();
    if !search.is_empty() {
        let mut conditions = vec![format!("{} LIKE {}", view.name_field, contains_pattern(search))];
        if let Some(number) = &view.number_field {
            conditions.push(format!("{number} LIKE {}", contains_pattern(search)));
        }
        filter = format!(" WHERE {}", conditions.join(" OR "));
    }
    let total = count_records(handle, &format!("SELECT COUNT() FROM {object}{filter}"))?;
    let paging = Paging::new(query.page(), total);
    let soql = format!(
        "SELECT {} FROM {object}{filter} ORDER BY {sort} {dir} NULLS LAST, Id LIMIT {PAGE_SIZE} OFFSET {}",
        select.join(", "),
        paging.offset()
    );
    let rows = query_records(handle, &soql)?;
    let pending = pending_ids(handle, &object)?;
    let sortable: Vec<&String> = view
        .synced
        .iter()
        .filter(|f| {
            view.field_type(f).is_some_and(|t| {
                !matches!(
                    t,
                    FieldType::Id
                        | FieldType::Reference
                        | FieldType::TextArea
                        | FieldType::MultiPicklist
                )
            })
        })
        .collect();

    let title = super::fields::plural_label(handle.store(), &object);
    let content = html! {
        div.titlebar {
            a.back href="/records" aria-label="All objects" { "‹" }
            h1 { (title) }
            a.button.small href={ "/records/" (object) "/new" } { "+ New" }
        }
        form.search role="search" method="get" action={ "/records/" (object) } {
            label.visually-hidden for="q" { "Search " (object_label(&object)) }
            input #q type="search" name="q" value=(query.q) placeholder={ "Search by " (label(&view.name_field)) } autocomplete="off";
            label.visually-hidden for="sort" { "Sort by" }
            select #sort name="sort" {
                @for f in &sortable {
                    option value=(f) selected[**f == sort] { (label(f)) }
                }
            }
            label.visually-hidden for="dir" { "Order" }
            select #dir name="dir" {
                option value="asc" selected[dir == "ASC"] { "A→Z" }
                option value="desc" selected[dir == "DESC"] { "Z→A" }
            }
            button type="submit" { "Search" }
        }
        p.muted #result-count data-total=(paging.total) { (paging.summary(rows.len())) }
        ul.list.card.records {
            @for r in &rows {
                @let id = r.get("Id").and_then(Value::as_str).unwrap_or_default();
                li {
                    a.row href={ "/records/" (object) "/" (id) } {
                        span.main {
                            span.title { (view.display(r)) }
                            span.sub.muted {
                                @if let Some(n) = &view.number_field { (text_of(r.get(n.as_str()))) " " }
                                @if view.synced.iter().any(|f| f == "Status") { (text_of(r.get("Status"))) }
                                @if sort != view.name_field && Some(&sort) != view.number_field.as_ref() && sort != "Status" {
                                    " · " (label(&sort)) ": " (text_of(r.get(sort.as_str())))
                                }
                            }
                        }
                        @if pending.contains(id) { span.tag.pending title="Has changes not yet uploaded" { "Pending" } }
                    }
                }
            }
            @if rows.is_empty() { li.empty { "No records match." } }
        }
        @if paging.pages > 1 {
            nav.pager aria-label="Pages" {
                @if paging.page > 1 {
                    a.button.small.secondary rel="prev" href=(query.href(&object, paging.page - 1)) { "‹ Previous" }
                } @else { span {} }
                span.muted #page-of { "Page " (paging.page) " of " (paging.pages) }
                @if paging.page < paging.pages {
                    a.button.small.secondary rel="next" href=(query.href(&object, paging.page + 1)) { "Next ›" }
                } @else { span {} }
            }
        }
    };
    Ok(shell(Page { title: &title, tab: Tab::Records, live: false, status: &status }, content))
}

/// Runs an offline `SELECT COUNT()` and returns the count.
pub fn count_records(handle: &AppHandle, soql: &str) -> Result<u64, WebError> {
    let answer = handle.store().query(soql, handle.clock().now())?;
    Ok(answer.get("totalSize").and_then(Value::as_u64).unwrap_or(0))
}

/// A stored value as plain text.
pub fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => {
            if *b {
                "Yes".into()
            } else {
                "No".into()
            }
        }
        Some(other) => other.to_string(),
    }
}

/// A stored value as a person reads it: times in the browser's time zone (see
/// [`super::timefmt`]), dates as `4 May 2026`.
pub fn display_value(field_type: FieldType, value: Option<&Value>) -> Markup {
    match (field_type, value) {
        (FieldType::DateTime, Some(Value::String(s))) => match store::values::parse_datetime(s) {
            Some(t) => date_time(t),
            None => html! { (s) },
        },
        (FieldType::Date, Some(Value::String(s))) => {
            html! { (chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| d.format("%-d %b %Y").to_string())
            .unwrap_or_else(|_| s.clone())) }
        }
        (_, v) => html! { (text_of(v)) },
    }
}

/// The display name of a record of `object` with `id`, if the device holds it.
pub fn name_of(handle: &AppHandle, object: &str, id: &str) -> Option<String> {
    let view = ObjectView::load(handle, object).ok()?;
    let record = handle.store().read(|r| r.get_record(&view.schema.name, id)).ok()??;
    Some(view.display(&record))
}

/// Finds which held object a lookup value points at.
fn lookup_target(handle: &AppHandle, targets: &[String], id: &str) -> Option<(String, String)> {
    let catalog = handle.store().catalog();
    for t in targets {
        if catalog.objects().any(|o| o.name.eq_ignore_ascii_case(t))
            && let Some(name) = name_of(handle, t, id)
        {
            return Some((t.clone(), name));
        }
    }
    None
}

/// `GET /records/{object}/{id}`
pub async fn detail_page(
    State(state): State<WebState>,
    Path((object, id)): Path<(String, String)>,
) -> Result<Markup, WebError> {
    let handle = &state.handle;
    let status = current_status(handle);
    let view = ObjectView::load(handle, &object)?;
    let object = view.schema.name.clone();
    let record = handle
        .store()
        .read(|r| r.get_record(&object, &id))?
        .ok_or_else(|| WebError::not_found(format!("No {object} with id {id} on this device")))?;
    let change = handle.store().read(|r| r.pending_for_record(&object, &id))?;

    // Parents: the lookups this record holds that point at records on the device.
    let mut parents = Vec::new();
    for f in view.schema.fields.iter().filter(|f| f.field_type == FieldType::Reference) {
        if let Some(Value::String(target_id)) = record.get(&f.name)
            && let Some((target, name)) = lookup_target(handle, &f.reference_to, target_id)
        {
            parents.push((f.name.clone(), target, target_id.clone(), name));
        }
    }

    // Children: records of held objects whose lookups point here.
    let catalog = handle.store().catalog();
    let mut children = Vec::new();
    for child in catalog.objects() {
        let child_view = ObjectView::load(handle, &child.name)?;
        for f in child.fields.iter().filter(|f| {
            f.field_type == FieldType::Reference
                && f.reference_to.iter().any(|t| t.eq_ignore_ascii_case(&object))
                && child_view.synced.contains(&f.name)
        }) {
            let mut select = vec!["Id".to_owned(), child_view.name_field.clone()];
            if let Some(n) = &child_view.number_field {
                select.push(n.clone());
            }
            let soql = format!(
                "SELECT {} FROM {} WHERE {} = {} ORDER BY {} LIMIT {RELATED_LIMIT}",
                select.join(", "),
                child.name,
                f.name,
                literal(&id),
                child_view.name_field
            );
            let rows = query_records(handle, &soql)?;
            children.push((
                child.name.clone(),
                f.name.clone(),
                rows,
                child_view.display_rows_pending(handle)?,
            ));
        }
    }
    let title = view.display(&record);
    let labels = super::fields::field_labels(handle.store(), &object);

    let content = html! {
        div.titlebar {
            a.back href={ "/records/" (object) } aria-label={ "All " (object_label(&object)) } { "‹" }
            h1 { (title) }
        }
        p.muted.kicker { (object_label(&object)) @if let Some(n) = &view.number_field { " · " (text_of(record.get(n.as_str()))) } }
        @if let Some(c) = &change {
            p.notice.pending {
                "This record has a change waiting to upload (" (c.state.as_str()) "). "
                a href="/pending" { "See Pending" }
            }
        }
        div.actions {
            a.button href={ "/records/" (object) "/" (id) "/edit" } { "Edit" }
            form method="post" action={ "/records/" (object) "/" (id) "/delete" } .inline data-confirm="Delete this record?" {
                (csrf_field(state.csrf()))
                button.danger type="submit" { "Delete" }
            }
        }
        section.card aria-labelledby="fields-h" {
            h2 #fields-h { "Details" }
            dl.fields {
                @for f in view.schema.fields.iter().filter(|f| view.synced.contains(&f.name) && !SYSTEM.contains(&f.name.as_str())) {
                    @let value = record.get(&f.name);
                    @let changed = change.as_ref().is_some_and(|c| c.fields.contains_key(&f.name));
                    div.field.changed[changed] data-field=(f.name) {
                        dt { (labels.get(&f.name).cloned().unwrap_or_else(|| label(&f.name))) @if changed { span.tag.pending { "Edited" } } }
                        dd {
                            @if let Some((_, target, tid, name)) = parents.iter().find(|p| p.0 == f.name) {
                                a href={ "/records/" (target) "/" (tid) } { (name) }
                            } @else {
                                (display_value(f.field_type, value))
                            }
                        }
                    }
                }
            }
        }
        @if !parents.is_empty() {
            section.card aria-labelledby="parents-h" {
                h2 #parents-h { "Related" }
                ul.list {
                    @for (field, target, tid, name) in &parents {
                        li { a.row href={ "/records/" (target) "/" (tid) } { span.main { span.title { (name) } span.sub.muted { (label(field)) } } } }
                    }
                }
            }
        }
        @if record.get("LastModifiedDate").is_some_and(|v| !v.is_null()) {
            p.muted.small.record-info {
                "Created " (display_value(FieldType::DateTime, record.get("CreatedDate")))
                " · Last modified " (display_value(FieldType::DateTime, record.get("LastModifiedDate")))
            }
        }
        @for (child, field, rows, pending) in &children {
            section.card.related {
                div.section-head {
                    h2 { (object_label(child)) " (" (rows.len()) ")" }
                    a.button.small href={ "/records/" (child) "/new?" (field) "=" (id) } { "+ Add" }
                }
                ul.list {
                    @for r in rows {
                        @let cid = r.get("Id").and_then(Value::as_str).unwrap_or_default();
                        @let cv = ObjectView::load(handle, child);
                        li {
                            a.row href={ "/records/" (child) "/" (cid) } {
                                span.title { @if let Ok(cv) = &cv { (cv.display(r)) } }
                                @if pending.contains(cid) { span.tag.pending { "Pending" } }
                            }
                        }
                    }
                    @if rows.is_empty() { li.empty { "None" } }
                }
            }
        }
    };
    Ok(shell(Page { title: &title, tab: Tab::Records, live: false, status: &status }, content))
}

impl ObjectView {
    fn display_rows_pending(&self, handle: &AppHandle) -> Result<HashSet<String>, WebError> {
        pending_ids(handle, &self.schema.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_list() {
        let p = Paging::new(2, 130);
        assert_eq!((p.page, p.pages, p.offset()), (2, 3, 50));
        assert_eq!(p.summary(50), "51–100 of 130 records");
        assert_eq!(Paging::new(9, 130).page, 3, "past the end is the last page");
        assert_eq!(Paging::new(1, 0).summary(0), "0 records");
        assert_eq!(Paging::new(1, 1).summary(1), "1 record");
        let q = ListQuery { q: "a b&".into(), page: Some("x".into()), ..ListQuery::default() };
        assert_eq!(q.page(), 1);
        assert_eq!(q.href("Account", 2), "/records/Account?q=a+b%26&page=2");
    }
}
