//! The SOQL the sync runs for one object: counts, pages in `(SystemModstamp, Id)` order,
//! re-checks by id and by parent, and id listings for reconciliation.

use chrono::{DateTime, Utc};
use soql::ast::{CompareOp, Condition, InList, Name, OrderItem, Query, SelectItem, Span, Value};

use super::{ObjectScope, and, path};

/// A position in an object's `(SystemModstamp, Id)` order: the last record read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// The record's `SystemModstamp`.
    pub stamp: DateTime<Utc>,
    /// The record's 18-character id.
    pub id: String,
}

/// Where a read in `(SystemModstamp, Id)` order starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StampBound {
    /// Strictly after this record.
    After(Cursor),
    /// At or after this instant: used to re-read an overlap window.
    From(DateTime<Utc>),
}

fn stamp(at: DateTime<Utc>) -> Value {
    Value::DateTime(at.fixed_offset())
}

fn compare(field: &str, op: CompareOp, value: Value) -> Condition {
    Condition::Compare { field: path(field), op, value }
}

impl StampBound {
    /// The condition a record past this bound meets.
    pub fn condition(&self) -> Condition {
        match self {
            StampBound::From(at) => compare("SystemModstamp", CompareOp::Ge, stamp(*at)),
            StampBound::After(c) => Condition::Or(vec![
                compare("SystemModstamp", CompareOp::Gt, stamp(c.stamp)),
                Condition::And(vec![
                    compare("SystemModstamp", CompareOp::Eq, stamp(c.stamp)),
                    compare("Id", CompareOp::Gt, Value::String(c.id.clone())),
                ]),
            ]),
        }
    }
}

fn in_list(field: &str, values: &[String]) -> Condition {
    Condition::In {
        field: path(field),
        negated: false,
        list: InList::Values(values.iter().map(|v| Value::String(v.clone())).collect()),
    }
}

impl ObjectScope {
    /// A query over the object whose WHERE clause is `scope` (if any) and `extra`.
    fn query(
        &self,
        select: Vec<SelectItem>,
        scope: Option<Condition>,
        extra: Vec<Condition>,
    ) -> Query {
        let mut parts: Vec<Condition> = scope.into_iter().collect();
        parts.extend(extra);
        Query {
            select,
            from: Name { text: self.object.clone(), span: Span::default() },
            where_clause: if parts.is_empty() { None } else { Some(and(parts)) },
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }

    /// A query limited to the server-evaluated scope; `None` when the object has none.
    fn scoped(&self, select: Vec<SelectItem>, extra: Vec<Condition>) -> Option<Query> {
        self.has_server_rules().then(|| self.query(select, self.condition(), extra))
    }

    fn field_items(&self) -> Vec<SelectItem> {
        self.fields.iter().map(|f| SelectItem::Field(path(f))).collect()
    }

    fn by_stamp(mut query: Query) -> Query {
        query.order_by = ["SystemModstamp", "Id"]
            .iter()
            .map(|f| OrderItem { field: path(f), descending: None, nulls_first: None })
            .collect();
        query
    }

    /// `SELECT COUNT() FROM X WHERE <server scope>`; `None` without server rules.
    pub fn count_query(&self) -> Option<String> {
        self.scoped(vec![SelectItem::Count(Span::default())], Vec::new()).map(|q| q.to_string())
    }

    /// The records the server rules bring in, past `bound` (all of them without one), in
    /// `(SystemModstamp, Id)` order, at most `limit`; `None` without server rules.
    pub fn page_query(&self, bound: Option<&StampBound>, limit: Option<u64>) -> Option<String> {
        let extra = bound.map(StampBound::condition).into_iter().collect();
        let mut query = Self::by_stamp(self.scoped(self.field_items(), extra)?);
        query.limit = limit;
        Some(query.to_string())
    }

    /// The ids of every record of the object, in scope or not, changed past `bound`, for
    /// objects without a replication log.
    pub fn changed_ids_query(&self, bound: &StampBound) -> String {
        let select = vec![SelectItem::Field(path("Id"))];
        Self::by_stamp(self.query(select, None, vec![bound.condition()])).to_string()
    }

    /// The ids of records deleted past `bound` (to run with `queryAll`, which returns the
    /// recycle bin), for objects without a replication log.
    pub fn deleted_ids_query(&self, bound: &StampBound) -> String {
        let select = vec![SelectItem::Field(path("Id"))];
        let deleted = compare("IsDeleted", CompareOp::Eq, Value::Boolean(true));
        self.query(select, None, vec![deleted, bound.condition()]).to_string()
    }

    /// The records with these ids, in scope or not.
    pub fn fetch_by_ids_query(&self, ids: &[String]) -> String {
        self.query(self.field_items(), None, vec![in_list("Id", ids)]).to_string()
    }

    /// The ids among `ids` of records that exist and meet `condition`, if given.
    pub fn matching_ids_query(&self, ids: &[String], condition: Option<&Condition>) -> String {
        let select = vec![SelectItem::Field(path("Id"))];
        let mut extra = vec![in_list("Id", ids)];
        extra.extend(condition.cloned());
        self.query(select, None, extra).to_string()
    }

    /// The records whose lookup `field` points at one of `parent_ids` and that meet
    /// `filter`.
    pub fn by_parents_query(
        &self,
        field: &str,
        parent_ids: &[String],
        filter: Option<&Condition>,
    ) -> String {
        let mut extra = vec![in_list(field, parent_ids)];
        extra.extend(filter.cloned());
        self.query(self.field_items(), None, extra).to_string()
    }

    /// The ids of records whose lookup `field` points at one of `parent_ids` and that
    /// meet `filter`.
    pub fn ids_by_parents_query(
        &self,
        field: &str,
        parent_ids: &[String],
        filter: Option<&Condition>,
    ) -> String {
        let mut extra = vec![in_list(field, parent_ids)];
        extra.extend(filter.cloned());
        self.query(vec![SelectItem::Field(path("Id"))], None, extra).to_string()
    }

    /// The ids of records in the server scope with `low <= Id < high` (either end open
    /// when `None`), for comparing id sets with the store; `None` without server rules.
    pub fn ids_in_range_query(&self, low: Option<&str>, high: Option<&str>) -> Option<String> {
        let mut query = self.scoped(vec![SelectItem::Field(path("Id"))], id_range(low, high))?;
        query.order_by = vec![OrderItem { field: path("Id"), descending: None, nulls_first: None }];
        Some(query.to_string())
    }

    /// `SELECT COUNT()` over the server scope with `low <= Id < high`.
    pub fn count_in_range_query(&self, low: Option<&str>, high: Option<&str>) -> Option<String> {
        self.scoped(vec![SelectItem::Count(Span::default())], id_range(low, high))
            .map(|q| q.to_string())
    }
}

fn id_range(low: Option<&str>, high: Option<&str>) -> Vec<Condition> {
    let mut extra = Vec::new();
    if let Some(low) = low {
        extra.push(compare("Id", CompareOp::Ge, Value::String(low.to_string())));
    }
    if let Some(high) = high {
        extra.push(compare("Id", CompareOp::Lt, Value::String(high.to_string())));
    }
    extra
}
