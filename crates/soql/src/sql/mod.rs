//! Compiles a parsed query against a [`Catalog`] into parametrized SQLite SQL over tables
//! laid out by the storage convention in [`crate::schema`], plus what an executor needs
//! to turn result rows into Salesforce-shaped records.
//!
//! # Executing a compiled query
//!
//! 1. Run [`Compiled::sql`] with [`Compiled::params`]. For `SELECT COUNT() ...`
//!    ([`Compiled::is_count`]) it returns one row holding the count, which is the
//!    response's `totalSize` (with no records). Otherwise each row becomes a record
//!    through [`Compiled::assemble`]; [`Compiled::count_sql`] gives `totalSize`.
//! 2. For each [`ChildQuery`] in [`Compiled::children`], collect the parent ids of the
//!    page ([`Compiled::row_id`]), run [`ChildQuery::sql_for_parents`] (in batches: each
//!    id is one parameter), group its rows by [`ChildQuery::parent_id`], assemble them
//!    with [`ChildQuery::assemble`], and store [`child_result`] of each group under
//!    [`ChildQuery::relationship`] in the parent record. `assemble` has already put
//!    `null` there, in SELECT order, so replacing the value keeps the field order;
//!    Salesforce also reports a relationship without children as `null`.
//! 3. To answer in pages, run [`Compiled::page_sql`] instead of [`Compiled::sql`]: it
//!    reads the rows after a [`PageAfter`] (taken from the last row of the page before
//!    with [`Compiled::page_after`]) by the query's ORDER BY and `Id`, so each page costs
//!    what it holds. The query's LIMIT bounds all pages together ([`Compiled::limit`]).
//! 4. To answer with JSON text rather than values, [`Compiled::write_record`] writes the
//!    record `assemble` would build, given the child relationships' values, without
//!    building it (a page of 2,000 records is mostly allocation otherwise).
//!
//! Every value is a `?` parameter; identifiers come only from the catalog and are
//! double-quoted. Rows hidden by the catalog's row filter are left out wherever a table
//! is read, and a hidden parent reads as `null`.

mod dates;
mod filter;
mod json_text;
mod keyset;
mod polymorphic;
mod scope;
mod shape;
mod values;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tracing::debug;

use crate::ast::{OrderItem, Query, SelectItem};
use crate::error::SoqlError;
use crate::schema::{Catalog, ObjectSchema, RowValues, SqlValue, SqlValueRef};

use keyset::{Keyset, SortKey};
use scope::{Ctx, Fragment, Scope};

pub use keyset::PageAfter;
use shape::{Columns, RecordShape, attributes, json_value};

/// What a compilation depends on besides the query and the catalog.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// The instant relative date literals (`TODAY`, ...) resolve against, in UTC.
    pub now: DateTime<Utc>,
    /// The API version used in record urls, like `"62.0"`.
    pub api_version: String,
    /// Whether soft-deleted rows (`IsDeleted = 1`) are returned, as `queryAll` does.
    pub include_deleted: bool,
}

impl CompileOptions {
    /// Options for `now`, API version 62.0, without deleted rows.
    pub fn new(now: DateTime<Utc>) -> CompileOptions {
        CompileOptions { now, api_version: "62.0".into(), include_deleted: false }
    }
}

#[derive(Debug, Clone)]
enum Output {
    Records(RecordShape),
    /// `SELECT COUNT()`: only a row count.
    Count,
    /// `SELECT COUNT(a), COUNT(b)`: one `AggregateResult` with `expr0`, `expr1`, ...
    Aggregate(usize),
}

/// A query compiled to SQL.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The statement returning the page of rows: the query's ORDER BY (then `Id`, so pages
    /// are stable), LIMIT and OFFSET.
    pub sql: String,
    /// The values of the `?` placeholders in [`Compiled::sql`], in order.
    pub params: Vec<SqlValue>,
    object: String,
    output: Output,
    count: Fragment,
    children: Vec<ChildQuery>,
    api_version: String,
    /// How to read the records page by page; `None` for counts and aggregates.
    keyset: Option<Keyset>,
}

impl Compiled {
    /// A statement returning one row with the number of records the query returns
    /// (LIMIT and OFFSET applied), which is the response's `totalSize`.
    pub fn count_sql(&self) -> (String, Vec<SqlValue>) {
        (self.count.text.clone(), self.count.params.clone())
    }

    /// Whether this is `SELECT COUNT() ...`, whose [`Compiled::sql`] returns the count.
    pub fn is_count(&self) -> bool {
        matches!(self.output, Output::Count)
    }

    /// The queried object's canonical name.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// The child subqueries, in SELECT order.
    pub fn children(&self) -> &[ChildQuery] {
        &self.children
    }

    /// The record Id of a result row of [`Compiled::sql`] (not of aggregate queries).
    pub fn row_id<'r, R: RowValues + ?Sized>(&self, row: &'r R) -> Option<&'r str> {
        match (&self.output, row.value(0)) {
            (Output::Records(_), Some(SqlValueRef::Text(id))) => Some(id),
            _ => None,
        }
    }

    /// Whether the query returns records (rather than a count or aggregate results), each
    /// row starting with its Id ([`Compiled::row_id`]).
    pub fn returns_records(&self) -> bool {
        matches!(self.output, Output::Records(_))
    }

    /// One result row of [`Compiled::sql`] as a Salesforce record: `attributes` first,
    /// then the selected fields in SELECT order, parents nested (or `null`), child
    /// relationships `null` until the executor fills them in.
    pub fn assemble<R: RowValues + ?Sized>(&self, row: &R) -> Map<String, Value> {
        match &self.output {
            Output::Records(shape) => shape.assemble(row, &self.api_version).unwrap_or_default(),
            Output::Count => Map::new(),
            Output::Aggregate(n) => {
                let mut record = Map::new();
                record.insert("attributes".into(), attributes("AggregateResult", None, ""));
                for i in 0..*n {
                    let v = row
                        .value(i)
                        .map_or(Value::Null, |v| json_value(v, crate::schema::FieldType::Int));
                    record.insert(format!("expr{i}"), v);
                }
                record
            }
        }
    }
}

impl Compiled {
    /// Whether the records can be read page by page ([`Compiled::page_sql`]): true for
    /// record queries, false for `COUNT()` and aggregates (one answer each).
    pub fn pages(&self) -> bool {
        self.keyset.is_some()
    }

    /// The statement returning at most `take` rows of the result that follow `after`
    /// (the first rows without it, the query's OFFSET applied), in the query's order with
    /// `Id` as the tiebreak: keyset paging, so a page costs what it returns, not what
    /// came before it. Each row is a row of [`Compiled::sql`] followed by the sort
    /// values [`Compiled::page_after`] reads. `None` when [`Compiled::pages`] is false or
    /// `after` does not fit this query's ORDER BY.
    pub fn page_sql(
        &self,
        after: Option<&PageAfter>,
        take: u64,
    ) -> Option<(String, Vec<SqlValue>)> {
        let page = self.keyset.as_ref()?.page(after, take)?;
        Some((page.text, page.params))
    }

    /// Where the page after `row` (a row of [`Compiled::page_sql`]) starts.
    pub fn page_after(&self, row: &[SqlValue]) -> Option<PageAfter> {
        let keyset = self.keyset.as_ref()?;
        let id = self.row_id(row)?.to_owned();
        let keys = row.get(keyset.columns.len()..)?.to_vec();
        (keys.len() == keyset.keys.len()).then_some(PageAfter { keys, id })
    }

    /// The query's own LIMIT, which bounds all its pages together.
    pub fn limit(&self) -> Option<u64> {
        self.keyset.as_ref().and_then(|k| k.limit)
    }
}

impl Compiled {
    /// Writes [`Compiled::assemble`]'s record for `row` as JSON text without building it,
    /// with `children` as the values of the child relationships the executor filled in.
    /// The row is read in place ([`RowValues`]), so a statement's current row can be
    /// written without copying its text.
    pub fn write_record<R: RowValues + ?Sized>(
        &self,
        row: &R,
        children: &[(&str, &Value)],
        out: &mut Vec<u8>,
    ) {
        match &self.output {
            Output::Records(shape) => {
                if !shape.write_json(row, &self.api_version, children, out) {
                    out.extend_from_slice(b"{}");
                }
            }
            Output::Count | Output::Aggregate(_) => {
                json_text::write_value(out, &Value::Object(self.assemble(row)));
            }
        }
    }
}

/// A child relationship subquery such as `(SELECT LastName FROM Contacts)`, run once per
/// batch of parent records.
#[derive(Debug, Clone)]
pub struct ChildQuery {
    /// The relationship's canonical name (`Contacts`): the key in the parent record.
    pub relationship: String,
    object: String,
    columns: Vec<String>,
    from: Fragment,
    parent_column: String,
    filters: Vec<Fragment>,
    order: String,
    limit: Option<u64>,
    offset: Option<u64>,
    shape: RecordShape,
    api_version: String,
}

impl ChildQuery {
    /// The child object's canonical name (`Contact`).
    pub fn object(&self) -> &str {
        &self.object
    }

    /// The statement returning the children of `parent_ids`, ordered by parent and then
    /// by the subquery's ORDER BY; LIMIT and OFFSET apply per parent. Each row's first
    /// column is the parent's id ([`ChildQuery::parent_id`]).
    pub fn sql_for_parents(&self, parent_ids: &[String]) -> (String, Vec<SqlValue>) {
        let mut parents = Fragment::new(format!("{} IN (", self.parent_column));
        for (i, id) in parent_ids.iter().enumerate() {
            if i > 0 {
                parents.sql(", ");
            }
            parents.param(SqlValue::Text(id.clone()));
        }
        parents.sql(")");
        let mut filters = vec![parents];
        filters.extend(self.filters.iter().cloned());
        let filters = Fragment::join(&filters, " AND ");

        let mut out = Fragment::default();
        if self.limit.is_none() && self.offset.is_none() {
            out.sql(&format!("SELECT {} FROM ", self.columns.join(", ")));
            out.append(&self.from).sql(" WHERE ").append(&filters);
            out.sql(&format!(" ORDER BY {}, {}", self.parent_column, self.order));
            return (out.text, out.params);
        }

        // Number the children of each parent and keep the window LIMIT/OFFSET describe.
        let names: Vec<String> = (0..self.columns.len()).map(|i| format!("\"c{i}\"")).collect();
        let inner: Vec<String> =
            self.columns.iter().zip(&names).map(|(c, n)| format!("{c} AS {n}")).collect();
        out.sql(&format!(
            "SELECT {} FROM (SELECT {}, ROW_NUMBER() OVER (PARTITION BY {} ORDER BY {}) AS \"_rn\" FROM ",
            names.join(", "),
            inner.join(", "),
            self.parent_column,
            self.order
        ));
        out.append(&self.from).sql(" WHERE ").append(&filters).sql(") WHERE ");
        let offset = self.offset.map_or(0, saturating_i64);
        out.sql("\"_rn\" > ").param(SqlValue::Integer(offset));
        if let Some(limit) = self.limit {
            out.sql(" AND \"_rn\" <= ")
                .param(SqlValue::Integer(offset.saturating_add(saturating_i64(limit))));
        }
        out.sql(" ORDER BY \"c0\", \"_rn\"");
        (out.text, out.params)
    }

    /// The parent id a row of [`ChildQuery::sql_for_parents`] belongs to.
    pub fn parent_id<'r>(&self, row: &'r [SqlValue]) -> Option<&'r str> {
        match row.first() {
            Some(SqlValue::Text(id)) => Some(id),
            _ => None,
        }
    }

    /// One row of [`ChildQuery::sql_for_parents`] as a Salesforce record.
    pub fn assemble<R: RowValues + ?Sized>(&self, row: &R) -> Map<String, Value> {
        self.shape.assemble(row, &self.api_version).unwrap_or_default()
    }
}

/// The value a parent record holds under a child relationship: `null` without children,
/// otherwise `{"totalSize": n, "done": true, "records": [...]}`.
pub fn child_result(records: Vec<Map<String, Value>>) -> Value {
    if records.is_empty() {
        return Value::Null;
    }
    let mut result = Map::new();
    result.insert("totalSize".into(), Value::from(records.len()));
    result.insert("done".into(), Value::Bool(true));
    result.insert("records".into(), Value::Array(records.into_iter().map(Value::Object).collect()));
    Value::Object(result)
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `ORDER BY` items as SQL, followed by the object's Id so that equal keys keep a stable
/// order.
fn order_clause<'a>(
    ctx: &mut Ctx<'a>,
    scope: &mut Scope<'a>,
    items: &[OrderItem],
) -> Result<(String, Vec<SortKey>), SoqlError> {
    let mut parts = Vec::new();
    let mut keys = Vec::new();
    for item in items {
        let r = scope.resolve(ctx, &item.field)?;
        // Sorted as compared: keyset paging (`Id > last`) must walk the order it filters by.
        let mut part = r.column.clone();
        if r.field.field_type.compares_without_case() {
            part.push_str(" COLLATE NOCASE");
        }
        if item.descending == Some(true) {
            part.push_str(" DESC");
        }
        match item.nulls_first {
            Some(true) => part.push_str(" NULLS FIRST"),
            Some(false) => part.push_str(" NULLS LAST"),
            None => {}
        }
        parts.push(part);
        let descending = item.descending == Some(true);
        keys.push(SortKey {
            column: r.column.clone(),
            nocase: r.field.field_type.compares_without_case(),
            descending,
            // SQLite sorts NULL lowest: first ascending, last descending, as Salesforce.
            nulls_last: item.nulls_first.map_or(descending, |first| !first),
        });
    }
    parts.push(scope.id_column());
    Ok((parts.join(", "), keys))
}

/// `SELECT columns FROM from WHERE filters [ORDER BY order] [LIMIT ?] [OFFSET ?]`.
fn select_statement(
    columns: &[String],
    from: &Fragment,
    filters: &[Fragment],
    order: Option<&str>,
    limit: Option<u64>,
    offset: Option<u64>,
) -> Fragment {
    let mut out = Fragment::new(format!("SELECT {} FROM ", columns.join(", ")));
    out.append(from);
    if !filters.is_empty() {
        out.sql(" WHERE ").append(&Fragment::join(filters, " AND "));
    }
    if let Some(order) = order {
        out.sql(" ORDER BY ").sql(order);
    }
    match (limit, offset) {
        (Some(limit), _) => {
            out.sql(" LIMIT ").param(SqlValue::Integer(saturating_i64(limit)));
        }
        (None, Some(_)) => {
            out.sql(" LIMIT -1");
        }
        (None, None) => {}
    }
    if let Some(offset) = offset {
        out.sql(" OFFSET ").param(SqlValue::Integer(saturating_i64(offset)));
    }
    out
}

/// `SELECT COUNT(*) FROM (inner)`.
fn count_of(inner: &Fragment) -> Fragment {
    let mut out = Fragment::new("SELECT COUNT(*) FROM (");
    out.append(inner).sql(")");
    out
}

/// Compiles `q` against `catalog`. Names resolve case-insensitively to their canonical
/// spelling; unknown objects fail with `INVALID_TYPE`, unknown fields and values or
/// operators that do not fit a field's type with `INVALID_FIELD`.
pub fn compile(
    q: &Query,
    catalog: &dyn Catalog,
    opts: &CompileOptions,
) -> Result<Compiled, SoqlError> {
    let mut ctx = Ctx::new(catalog, opts);
    let object = ctx.object(&q.from)?;
    let mut scope = Scope::new(&mut ctx, object);
    let mut columns = Columns::default();
    let mut children = Vec::new();

    // The SELECT list decides the kind of result.
    let count_item = q.select.iter().find_map(|i| match i {
        SelectItem::Count(span) => Some(span.position()),
        _ => None,
    });
    let aggregates = q.select.iter().filter(|i| matches!(i, SelectItem::CountField(_))).count();
    let output = if let Some(position) = count_item {
        if q.select.len() != 1 {
            return Err(SoqlError::malformed(
                "COUNT() must be the only element in the SELECT list",
                position,
            ));
        }
        Output::Count
    } else if aggregates > 0 {
        for item in &q.select {
            match item {
                SelectItem::CountField(path) => {
                    let r = scope.resolve(&mut ctx, path)?;
                    columns.add(format!("COUNT({})", r.column));
                }
                SelectItem::Field(path) => {
                    return Err(SoqlError::malformed(
                        format!("Field must be grouped or aggregated: {path}"),
                        path.span.position(),
                    ));
                }
                _ => {
                    return Err(SoqlError::malformed(
                        "child relationship subqueries cannot be combined with aggregate functions",
                        q.from.span.position(),
                    ));
                }
            }
        }
        if let Some(item) = q.order_by.first() {
            return Err(SoqlError::malformed(
                format!("Ordered field must be grouped or aggregated: {}", item.field),
                item.field.span.position(),
            ));
        }
        Output::Aggregate(columns.0.len())
    } else {
        let id_column = columns.add(scope.id_column());
        let mut shape = RecordShape::new(&object.name, id_column);
        for item in &q.select {
            match item {
                SelectItem::Field(path) => {
                    let r = scope.resolve(&mut ctx, path)?;
                    shape.add_field(&mut columns, &r);
                }
                SelectItem::SubQuery(sub) => {
                    let child = child_query(&mut ctx, object, sub)?;
                    shape.add_child(&child.relationship);
                    children.push(child);
                }
                SelectItem::Count(_) | SelectItem::CountField(_) => {}
            }
        }
        Output::Records(shape)
    };

    // WHERE: the table's own filters, then the query's condition.
    let mut filters = ctx.table_filters(object, &scope.alias);
    if let Some(w) = &q.where_clause {
        filters.push(filter::condition(&mut ctx, &mut scope, w)?);
    }
    let (order, keys) = order_clause(&mut ctx, &mut scope, &q.order_by)?;
    let from = scope.tables_sql();
    let keyset = matches!(output, Output::Records(_)).then(|| Keyset {
        columns: columns.0.clone(),
        from: from.clone(),
        filters: filters.clone(),
        order: order.clone(),
        id_column: scope.id_column(),
        keys,
        limit: q.limit,
        offset: q.offset,
    });

    let (statement, count) = match &output {
        Output::Records(_) => {
            let s = select_statement(&columns.0, &from, &filters, Some(&order), q.limit, q.offset);
            let count = count_of(&s);
            (s, count)
        }
        Output::Count => {
            let inner =
                select_statement(&[scope.id_column()], &from, &filters, None, q.limit, q.offset);
            let s = count_of(&inner);
            (s.clone(), s)
        }
        Output::Aggregate(_) => {
            let s = select_statement(&columns.0, &from, &filters, None, q.limit, q.offset);
            let count = count_of(&s);
            (s, count)
        }
    };
    debug!(object = %object.name, children = children.len(), "compiled SOQL query");
    Ok(Compiled {
        sql: statement.text,
        params: statement.params,
        object: object.name.clone(),
        output,
        count,
        children,
        api_version: opts.api_version.clone(),
        keyset,
    })
}

/// Compiles a child relationship subquery of `parent`.
fn child_query<'a>(
    ctx: &mut Ctx<'a>,
    parent: &'a ObjectSchema,
    sub: &Query,
) -> Result<ChildQuery, SoqlError> {
    let position = sub.from.span.position();
    let not_understood = || {
        SoqlError::invalid_type(
            format!(
                "Didn't understand relationship '{}' in FROM part of query call.",
                sub.from.text
            ),
            position,
        )
    };
    let rel = parent.child_relationship(&sub.from.text).ok_or_else(not_understood)?;
    let object = ctx.catalog.object(&rel.child_object).ok_or_else(not_understood)?;
    let parent_field = object.field(&rel.field).ok_or_else(not_understood)?;

    let mut scope = Scope::new(ctx, object);
    let mut columns = Columns::default();
    let parent_column =
        format!("{}.{}", scope::quote(&scope.alias), scope::quote(&parent_field.name));
    columns.add(parent_column.clone());
    let id_column = columns.add(scope.id_column());
    let mut shape = RecordShape::new(&object.name, id_column);
    for item in &sub.select {
        match item {
            SelectItem::Field(path) => {
                let r = scope.resolve(ctx, path)?;
                shape.add_field(&mut columns, &r);
            }
            _ => {
                return Err(SoqlError::malformed(
                    "child relationship subqueries may select fields only",
                    position,
                ));
            }
        }
    }
    let mut filters = ctx.table_filters(object, &scope.alias);
    if let Some(w) = &sub.where_clause {
        filters.push(filter::condition(ctx, &mut scope, w)?);
    }
    let (order, _) = order_clause(ctx, &mut scope, &sub.order_by)?;
    Ok(ChildQuery {
        relationship: rel.name.clone(),
        object: object.name.clone(),
        columns: columns.0,
        from: scope.tables_sql(),
        parent_column,
        filters,
        order,
        limit: sub.limit,
        offset: sub.offset,
        shape,
        api_version: ctx.opts.api_version.clone(),
    })
}
