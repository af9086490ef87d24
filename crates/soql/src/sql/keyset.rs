//! Keyset paging of a compiled record query: the next page is the rows that sort after
//! the last row returned, by the query's ORDER BY and then `Id`, so reading page N costs
//! what page N holds rather than re-reading the N - 1 pages before it (as OFFSET would).
//! That holds where an index serves the order (`Id`, the default, always; a leading
//! ORDER BY field when the store indexes it, which the `>=` bound on it lets SQLite seek
//! to); an order no index serves is sorted afresh for each page, over the rows after the
//! boundary only.

use crate::schema::SqlValue;

use super::saturating_i64;
use super::scope::Fragment;

/// One ORDER BY item as the paging condition needs it.
#[derive(Debug, Clone)]
pub(crate) struct SortKey {
    /// The column, as the ORDER BY reads it (without collation or direction).
    pub column: String,
    /// Whether it sorts and compares without case (`COLLATE NOCASE`).
    pub nocase: bool,
    /// `DESC`.
    pub descending: bool,
    /// Whether NULL sorts after every value.
    pub nulls_last: bool,
}

/// What a record query's pages are read with.
#[derive(Debug, Clone)]
pub(crate) struct Keyset {
    pub columns: Vec<String>,
    pub from: Fragment,
    pub filters: Vec<Fragment>,
    pub order: String,
    pub id_column: String,
    pub keys: Vec<SortKey>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// Where a page starts: the sort values and the `Id` of the last row before it.
#[derive(Debug, Clone, PartialEq)]
pub struct PageAfter {
    /// The values of the ORDER BY items on that row, in ORDER BY order.
    pub keys: Vec<SqlValue>,
    /// Its `Id`.
    pub id: String,
}

impl SortKey {
    fn compared(&self) -> String {
        if self.nocase { format!("{} COLLATE NOCASE", self.column) } else { self.column.clone() }
    }

    /// Rows whose value of this key equals `value`.
    fn equal(&self, value: &SqlValue) -> Fragment {
        if matches!(value, SqlValue::Null) {
            return Fragment::new(format!("{} IS NULL", self.column));
        }
        let mut out = Fragment::new(format!("{} = ", self.compared()));
        out.param(value.clone());
        out
    }

    /// Rows whose value of this key sorts strictly after `value`.
    fn after(&self, value: &SqlValue) -> Fragment {
        if matches!(value, SqlValue::Null) {
            return Fragment::new(if self.nulls_last {
                "0".to_owned()
            } else {
                format!("{} IS NOT NULL", self.column)
            });
        }
        let op = if self.descending { " < " } else { " > " };
        let mut out = Fragment::new(format!("{}{op}", self.compared()));
        out.param(value.clone());
        if self.nulls_last {
            out.sql(&format!(" OR {} IS NULL", self.column));
        }
        out
    }

    /// A range on this key alone that every row at or after `value` meets, when it is one
    /// an index can seek to (`>=` or `<=` without NULLs beyond it).
    fn at_or_after(&self, value: &SqlValue) -> Option<Fragment> {
        if matches!(value, SqlValue::Null) || self.nulls_last {
            return None;
        }
        let op = if self.descending { " <= " } else { " >= " };
        let mut out = Fragment::new(format!("{}{op}", self.compared()));
        out.param(value.clone());
        Some(out)
    }
}

impl Keyset {
    /// The rows after `after` (the first ones, OFFSET applied, without it), at most `take`.
    pub fn page(&self, after: Option<&PageAfter>, take: u64) -> Option<Fragment> {
        let mut filters = self.filters.clone();
        if let Some(after) = after {
            if after.keys.len() != self.keys.len() {
                return None;
            }
            filters.extend(
                self.keys.first().zip(after.keys.first()).and_then(|(k, v)| k.at_or_after(v)),
            );
            filters.push(self.after(after));
        }

        let mut columns = self.columns.clone();
        columns.extend(self.keys.iter().map(|k| k.column.clone()));
        let mut out = Fragment::new(format!("SELECT {} FROM ", columns.join(", ")));
        out.append(&self.from);
        if !filters.is_empty() {
            out.sql(" WHERE ").append(&Fragment::join(&filters, " AND "));
        }
        out.sql(" ORDER BY ").sql(&self.order);
        out.sql(" LIMIT ").param(SqlValue::Integer(saturating_i64(take)));
        if after.is_none()
            && let Some(offset) = self.offset
        {
            out.sql(" OFFSET ").param(SqlValue::Integer(saturating_i64(offset)));
        }
        Some(out)
    }

    /// Rows sorting after `after`: for some key, equal on every key before it and after on
    /// it, the `Id` last.
    fn after(&self, after: &PageAfter) -> Fragment {
        let mut branches = Vec::with_capacity(self.keys.len() + 1);
        for i in 0..=self.keys.len() {
            let mut parts: Vec<Fragment> =
                self.keys[..i].iter().zip(&after.keys).map(|(k, v)| k.equal(v)).collect();
            parts.push(match self.keys.get(i) {
                Some(key) => key.after(&after.keys[i]),
                None => {
                    let mut id = Fragment::new(format!("{} > ", self.id_column));
                    id.param(SqlValue::Text(after.id.clone()));
                    id
                }
            });
            branches.push(Fragment::join(&parts, " AND "));
        }
        Fragment::join(&branches, " OR ")
    }
}
