//! `WHERE` conditions compiled to SQL with SOQL's semantics: text compares without
//! case, `!=` and `NOT IN` also match null, `NOT` treats an unknown as false, relative
//! date literals become ranges, and semi-joins become `IN (SELECT ...)` subqueries.

use crate::ast::{CompareOp, Condition, FieldPath, InList, Query, SelectItem, Value};
use crate::error::{Position, SoqlError};
use crate::schema::{FieldType, SqlValue};

use super::dates::{date_text, day_range, day_start_text};
use super::scope::{Ctx, Fragment, Resolved, Scope};
use super::values::{Class, check_relative, class_of, like_literal, like_pattern, param, unbound};

/// Compiles one condition in `scope`.
pub(crate) fn condition<'a>(
    ctx: &mut Ctx<'a>,
    scope: &mut Scope<'a>,
    c: &Condition,
) -> Result<Fragment, SoqlError> {
    match c {
        Condition::And(items) | Condition::Or(items) => {
            let parts =
                items.iter().map(|i| condition(ctx, scope, i)).collect::<Result<Vec<_>, _>>()?;
            let sep = if matches!(c, Condition::And(_)) { " AND " } else { " OR " };
            Ok(Fragment::join(&parts, sep))
        }
        Condition::Not(inner) => {
            let inner = condition(ctx, scope, inner)?;
            let mut out = Fragment::new("NOT COALESCE((");
            out.append(&inner).sql("), 0)");
            Ok(out)
        }
        Condition::Compare { field, op, value } => compare(ctx, scope, field, *op, value),
        Condition::In { field, negated, list: InList::Values(values) } => {
            in_values(ctx, scope, field, *negated, values)
        }
        Condition::In { field, negated, list: InList::SubQuery(sub) } => {
            semi_join(ctx, scope, field, *negated, sub)
        }
        Condition::Includes { field, excludes, values } => {
            includes(ctx, scope, field, *excludes, values)
        }
    }
}

fn invalid_operator(r: &Resolved<'_>, position: Option<Position>) -> SoqlError {
    SoqlError::invalid_field(format!("invalid operator on field: {}", r.field.name), position)
}

/// The column as an operand: text compares without case; ids and lookups compare exactly
/// (see [`FieldType::compares_without_case`]), so a filter on a lookup uses its index.
fn operand(r: &Resolved<'_>) -> String {
    if r.field.field_type.compares_without_case() {
        format!("{} COLLATE NOCASE", r.column)
    } else {
        r.column.clone()
    }
}

fn compare<'a>(
    ctx: &mut Ctx<'a>,
    scope: &mut Scope<'a>,
    path: &FieldPath,
    op: CompareOp,
    value: &Value,
) -> Result<Fragment, SoqlError> {
    let position = path.span.position();
    let r = scope.resolve(ctx, path)?;
    let class = class_of(r.field.field_type);
    let col = &r.column;

    if let Value::Bind(name) = value {
        return Err(unbound(name, position));
    }
    if *value == Value::Null {
        return match op {
            CompareOp::Eq => Ok(Fragment::new(format!("{col} IS NULL"))),
            CompareOp::Ne => Ok(Fragment::new(format!("{col} IS NOT NULL"))),
            _ => Err(invalid_operator(&r, position)),
        };
    }
    let ordering = matches!(op, CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge);
    if (ordering && matches!(class, Class::Boolean | Class::Multi))
        || (op == CompareOp::Like && class != Class::Text)
    {
        return Err(invalid_operator(&r, position));
    }

    if let Value::Relative(literal) = value {
        check_relative(r.field, position)?;
        let (start, end) = day_range(*literal, ctx.opts.now).ok_or_else(|| {
            SoqlError::invalid_field(format!("date literal {literal} is out of range"), position)
        })?;
        let bound =
            |d| SqlValue::Text(if class == Class::Date { date_text(d) } else { day_start_text(d) });
        let mut out = Fragment::default();
        match op {
            CompareOp::Eq => {
                out.sql(&format!("({col} >= ")).param(bound(start));
                out.sql(&format!(" AND {col} < ")).param(bound(end)).sql(")");
            }
            CompareOp::Ne => {
                out.sql(&format!("({col} IS NULL OR {col} < ")).param(bound(start));
                out.sql(&format!(" OR {col} >= ")).param(bound(end)).sql(")");
            }
            CompareOp::Lt => {
                out.sql(&format!("{col} < ")).param(bound(start));
            }
            CompareOp::Le => {
                out.sql(&format!("{col} < ")).param(bound(end));
            }
            CompareOp::Gt => {
                out.sql(&format!("{col} >= ")).param(bound(end));
            }
            CompareOp::Ge => {
                out.sql(&format!("{col} >= ")).param(bound(start));
            }
            CompareOp::Like => return Err(invalid_operator(&r, position)),
        }
        return Ok(out);
    }

    if op == CompareOp::Like {
        let Value::String(pattern) = value else {
            return Err(param(r.field, value, position)
                .err()
                .unwrap_or_else(|| invalid_operator(&r, position)));
        };
        let mut out = Fragment::new(format!("{col} LIKE "));
        out.param(SqlValue::Text(like_pattern(pattern))).sql(" ESCAPE '\\'");
        return Ok(out);
    }

    let p = param(r.field, value, position)?;
    let lhs = operand(&r);
    let mut out = Fragment::default();
    match op {
        CompareOp::Ne => {
            out.sql(&format!("({col} IS NULL OR {lhs} != ")).param(p).sql(")");
        }
        _ => {
            let sym = match op {
                CompareOp::Lt => "<",
                CompareOp::Le => "<=",
                CompareOp::Gt => ">",
                CompareOp::Ge => ">=",
                _ => "=",
            };
            out.sql(&format!("{lhs} {sym} ")).param(p);
        }
    }
    Ok(out)
}

fn in_values<'a>(
    ctx: &mut Ctx<'a>,
    scope: &mut Scope<'a>,
    path: &FieldPath,
    negated: bool,
    values: &[Value],
) -> Result<Fragment, SoqlError> {
    let position = path.span.position();
    let r = scope.resolve(ctx, path)?;
    if matches!(class_of(r.field.field_type), Class::Boolean) {
        return Err(invalid_operator(&r, position));
    }
    let mut has_null = false;
    let mut params = Vec::new();
    for v in values {
        match v {
            Value::Null => has_null = true,
            Value::Relative(_) => return Err(invalid_operator(&r, position)),
            v => params.push(param(r.field, v, position)?),
        }
    }
    let col = &r.column;
    let mut list =
        Fragment::new(format!("{} {}IN (", operand(&r), if negated { "NOT " } else { "" }));
    for (i, p) in params.into_iter().enumerate() {
        if i > 0 {
            list.sql(", ");
        }
        list.param(p);
    }
    list.sql(")");
    let mut out = Fragment::default();
    match (negated, has_null, list.params.is_empty()) {
        (false, _, true) => out.sql(&format!("{col} IS NULL")),
        (true, _, true) => out.sql(&format!("{col} IS NOT NULL")),
        (false, false, false) => out.append(&list),
        (false, true, false) => out.sql("(").append(&list).sql(&format!(" OR {col} IS NULL)")),
        (true, false, false) => out.sql(&format!("({col} IS NULL OR ")).append(&list).sql(")"),
        (true, true, false) => out.sql(&format!("({col} IS NOT NULL AND ")).append(&list).sql(")"),
    };
    Ok(out)
}

fn includes<'a>(
    ctx: &mut Ctx<'a>,
    scope: &mut Scope<'a>,
    path: &FieldPath,
    excludes: bool,
    values: &[Value],
) -> Result<Fragment, SoqlError> {
    let position = path.span.position();
    let r = scope.resolve(ctx, path)?;
    if r.field.field_type != FieldType::MultiPicklist {
        return Err(SoqlError::invalid_field(
            format!(
                "{} operator only valid on multipicklist field: {}",
                if excludes { "EXCLUDES" } else { "INCLUDES" },
                r.field.name
            ),
            position,
        ));
    }
    let col = &r.column;

    // Each value matches when the field holds all of its `;`-separated parts; the
    // condition holds when any value matches.
    let mut any = Vec::new();
    for v in values {
        let SqlValue::Text(text) = param(r.field, v, position)? else {
            continue;
        };
        let parts = text
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut f = Fragment::new(format!("(';' || {col} || ';') LIKE ('%;' || "));
                f.param(SqlValue::Text(like_literal(p))).sql(" || ';%') ESCAPE '\\'");
                f
            })
            .collect::<Vec<_>>();
        if !parts.is_empty() {
            any.push(Fragment::join(&parts, " AND "));
        }
    }
    let matched = if any.is_empty() { Fragment::new("0") } else { Fragment::join(&any, " OR ") };
    let mut out = Fragment::default();
    if excludes {
        out.sql(&format!("({col} IS NULL OR NOT (")).append(&matched).sql("))");
    } else {
        out.sql(&format!("({col} IS NOT NULL AND (")).append(&matched).sql("))");
    }
    Ok(out)
}

/// `field [NOT] IN (SELECT idField FROM Object WHERE ...)`.
fn semi_join<'a>(
    ctx: &mut Ctx<'a>,
    scope: &mut Scope<'a>,
    path: &FieldPath,
    negated: bool,
    sub: &Query,
) -> Result<Fragment, SoqlError> {
    let position = path.span.position();
    let r = scope.resolve(ctx, path)?;
    let is_id = |t: FieldType| matches!(t, FieldType::Id | FieldType::Reference);
    if !is_id(r.field.field_type) {
        return Err(SoqlError::invalid_field(
            format!("semi join sub selects are only allowed on id fields: {}", r.field.name),
            position,
        ));
    }
    let [SelectItem::Field(sub_path)] = sub.select.as_slice() else {
        return Err(SoqlError::malformed(
            "semi join sub select must select exactly one id field",
            sub.from.span.position(),
        ));
    };
    if !sub.order_by.is_empty() || sub.limit.is_some() || sub.offset.is_some() {
        return Err(SoqlError::malformed(
            "semi join sub selects do not support ORDER BY, LIMIT or OFFSET",
            sub.from.span.position(),
        ));
    }

    let object = ctx.object(&sub.from)?;
    let mut inner = Scope::new(ctx, object);
    let selected = inner.resolve(ctx, sub_path)?;
    if !is_id(selected.field.field_type) {
        return Err(SoqlError::invalid_field(
            format!("semi join sub selects can only select id fields: {}", selected.field.name),
            sub_path.span.position(),
        ));
    }
    let mut filters = ctx.table_filters(object, &inner.alias);
    if let Some(w) = &sub.where_clause {
        filters.push(condition(ctx, &mut inner, w)?);
    }
    if negated {
        filters.push(Fragment::new(format!("{} IS NOT NULL", selected.column)));
    }

    let mut select = Fragment::new(format!("SELECT {} FROM ", selected.column));
    select.append(&inner.tables_sql());
    if !filters.is_empty() {
        select.sql(" WHERE ").append(&Fragment::join(&filters, " AND "));
    }
    let col = &r.column;
    let mut out = Fragment::default();
    if negated {
        out.sql(&format!("({col} IS NULL OR {col} NOT IN (")).append(&select).sql("))");
    } else {
        out.sql(&format!("{col} IN (")).append(&select).sql(")");
    }
    Ok(out)
}
