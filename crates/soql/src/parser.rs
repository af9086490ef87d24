//! A recursive-descent parser from SOQL text to [`crate::ast::Query`].

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::ast::{
    CompareOp, Condition, DateLiteral, FieldPath, InList, Name, OrderItem, Query, SelectItem, Span,
    Value, is_reserved,
};
use crate::error::{Position, SoqlError};
use crate::lexer::{Token, TokenKind, tokenize};

/// Parses one SOQL query. Keywords and names are case-insensitive; names keep the case
/// they were written in.
pub fn parse(text: &str) -> Result<Query, SoqlError> {
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens, at: 0, nesting: 0 };
    let query = p.query(0)?;
    p.expect_eof()?;
    Ok(query)
}

/// How deeply `NOT` and parentheses may nest in a condition, so that hostile input
/// cannot exhaust the stack of the parser, the printer or the compiler.
const MAX_NESTING: u32 = 64;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// The current `NOT` / parenthesis nesting of the condition being parsed.
    nesting: u32,
}

/// How deeply nested a query is: 0 top level, 1 a child or semi-join subquery.
type Depth = u8;

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof, and `at` never passes it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        &self.tokens[(self.at + ahead).min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn unexpected(&self) -> SoqlError {
        let t = self.peek();
        let msg = match t.kind {
            TokenKind::Eof => "unexpected token: '<EOF>'".to_string(),
            _ => format!("unexpected token: '{}'", t.text()),
        };
        SoqlError::malformed(msg, Some(t.position))
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(&self.peek().kind, TokenKind::Ident(s) if s.eq_ignore_ascii_case(word))
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        if self.is_keyword(word) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), SoqlError> {
        if self.eat_keyword(word) { Ok(()) } else { Err(self.unexpected()) }
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if &self.peek().kind == kind {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: &TokenKind) -> Result<(), SoqlError> {
        if self.eat(kind) { Ok(()) } else { Err(self.unexpected()) }
    }

    fn expect_eof(&self) -> Result<(), SoqlError> {
        if self.peek().kind == TokenKind::Eof { Ok(()) } else { Err(self.unexpected()) }
    }

    /// A name that is not a reserved word.
    fn name(&mut self) -> Result<(String, Position), SoqlError> {
        match &self.peek().kind {
            TokenKind::Ident(s) if !is_reserved(s) => {
                let s = s.clone();
                let t = self.bump();
                Ok((s, t.position))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn field_path(&mut self) -> Result<FieldPath, SoqlError> {
        let (first, position) = self.name()?;
        let mut parts = vec![first];
        while self.eat(&TokenKind::Dot) {
            parts.push(self.name()?.0);
        }
        Ok(FieldPath { parts, span: Span(Some(position)) })
    }

    fn query(&mut self, depth: Depth) -> Result<Query, SoqlError> {
        self.expect_keyword("SELECT")?;
        let mut select = vec![self.select_item(depth)?];
        while self.eat(&TokenKind::Comma) {
            select.push(self.select_item(depth)?);
        }

        self.expect_keyword("FROM")?;
        let (from, position) = self.name()?;
        let from = Name { text: from, span: Span(Some(position)) };

        let where_clause =
            if self.eat_keyword("WHERE") { Some(self.condition(depth)?) } else { None };

        let mut order_by = Vec::new();
        if self.eat_keyword("ORDER") {
            self.expect_keyword("BY")?;
            order_by.push(self.order_item()?);
            while self.eat(&TokenKind::Comma) {
                order_by.push(self.order_item()?);
            }
        }

        let limit = if self.eat_keyword("LIMIT") { Some(self.count()?) } else { None };
        let offset = if self.eat_keyword("OFFSET") { Some(self.count()?) } else { None };
        Ok(Query { select, from, where_clause, order_by, limit, offset })
    }

    /// A non-negative integer (LIMIT, OFFSET).
    fn count(&mut self) -> Result<u64, SoqlError> {
        if let TokenKind::Number(n) = &self.peek().kind
            && let Ok(v) = n.parse::<u64>()
            && !n.starts_with('+')
        {
            self.bump();
            return Ok(v);
        }
        Err(self.unexpected())
    }

    fn select_item(&mut self, depth: Depth) -> Result<SelectItem, SoqlError> {
        if self.peek().kind == TokenKind::LParen {
            if depth > 0 {
                return Err(self.unexpected());
            }
            self.bump();
            let sub = self.query(depth + 1)?;
            self.expect(&TokenKind::RParen)?;
            return Ok(SelectItem::SubQuery(Box::new(sub)));
        }
        if self.is_keyword("COUNT") && self.peek_at(1).kind == TokenKind::LParen {
            let position = self.bump().position;
            self.bump();
            if self.eat(&TokenKind::RParen) {
                return Ok(SelectItem::Count(Span(Some(position))));
            }
            let field = self.field_path()?;
            self.expect(&TokenKind::RParen)?;
            return Ok(SelectItem::CountField(field));
        }
        Ok(SelectItem::Field(self.field_path()?))
    }

    fn order_item(&mut self) -> Result<OrderItem, SoqlError> {
        let field = self.field_path()?;
        let descending = if self.eat_keyword("ASC") {
            Some(false)
        } else if self.eat_keyword("DESC") {
            Some(true)
        } else {
            None
        };
        let nulls_first = if self.eat_keyword("NULLS") {
            if self.eat_keyword("FIRST") {
                Some(true)
            } else if self.eat_keyword("LAST") {
                Some(false)
            } else {
                return Err(self.unexpected());
            }
        } else {
            None
        };
        Ok(OrderItem { field, descending, nulls_first })
    }

    /// `a AND b AND c`, `a OR b OR c`, or a single unary condition. Mixing `AND` and `OR`
    /// without parentheses is rejected, as Salesforce does.
    fn condition(&mut self, depth: Depth) -> Result<Condition, SoqlError> {
        let first = self.unary(depth)?;
        let joiner = if self.is_keyword("AND") {
            "AND"
        } else if self.is_keyword("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let mut items = vec![first];
        while self.eat_keyword(joiner) {
            items.push(self.unary(depth)?);
        }
        if self.is_keyword("AND") || self.is_keyword("OR") {
            return Err(self.unexpected());
        }
        Ok(if joiner == "AND" { Condition::And(items) } else { Condition::Or(items) })
    }

    fn unary(&mut self, depth: Depth) -> Result<Condition, SoqlError> {
        let is_not = self.is_keyword("NOT");
        if !is_not && self.peek().kind != TokenKind::LParen {
            return self.comparison(depth);
        }
        if self.nesting >= MAX_NESTING {
            return Err(SoqlError::malformed(
                "conditions are nested too deeply",
                Some(self.peek().position),
            ));
        }
        self.nesting += 1;
        self.bump();
        let result = if is_not {
            self.unary(depth).map(|c| Condition::Not(Box::new(c)))
        } else {
            self.condition(depth).and_then(|c| self.expect(&TokenKind::RParen).map(|()| c))
        };
        self.nesting -= 1;
        result
    }

    fn comparison(&mut self, depth: Depth) -> Result<Condition, SoqlError> {
        let field = self.field_path()?;
        let op_token = self.peek().clone();
        let op = match &op_token.kind {
            TokenKind::Op(op) => match op.as_str() {
                "=" => CompareOp::Eq,
                "!=" | "<>" => CompareOp::Ne,
                "<" => CompareOp::Lt,
                "<=" => CompareOp::Le,
                ">" => CompareOp::Gt,
                _ => CompareOp::Ge,
            },
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("LIKE") => CompareOp::Like,
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("IN") => {
                self.bump();
                return Ok(Condition::In { field, negated: false, list: self.in_list(depth)? });
            }
            TokenKind::Ident(w)
                if w.eq_ignore_ascii_case("NOT")
                    && matches!(&self.peek_at(1).kind, TokenKind::Ident(n) if n.eq_ignore_ascii_case("IN")) =>
            {
                self.bump();
                self.bump();
                return Ok(Condition::In { field, negated: true, list: self.in_list(depth)? });
            }
            TokenKind::Ident(w)
                if w.eq_ignore_ascii_case("INCLUDES") || w.eq_ignore_ascii_case("EXCLUDES") =>
            {
                let excludes = w.eq_ignore_ascii_case("EXCLUDES");
                self.bump();
                self.expect(&TokenKind::LParen)?;
                let values = self.value_list()?;
                return Ok(Condition::Includes { field, excludes, values });
            }
            _ => return Err(self.unexpected()),
        };
        self.bump();
        let value = self.value()?;
        Ok(Condition::Compare { field, op, value })
    }

    fn in_list(&mut self, depth: Depth) -> Result<InList, SoqlError> {
        self.expect(&TokenKind::LParen)?;
        if self.is_keyword("SELECT") {
            if depth > 0 {
                return Err(self.unexpected());
            }
            let sub = self.query(depth + 1)?;
            self.expect(&TokenKind::RParen)?;
            return Ok(InList::SubQuery(Box::new(sub)));
        }
        Ok(InList::Values(self.value_list()?))
    }

    /// Values after an opening parenthesis, through the closing one.
    fn value_list(&mut self) -> Result<Vec<Value>, SoqlError> {
        let mut values = vec![self.value()?];
        while self.eat(&TokenKind::Comma) {
            values.push(self.value()?);
        }
        self.expect(&TokenKind::RParen)?;
        Ok(values)
    }

    fn value(&mut self) -> Result<Value, SoqlError> {
        let token = self.peek().clone();
        let value = match &token.kind {
            TokenKind::Str(s) => Value::String(s.clone()),
            TokenKind::Number(n) => Value::Number(n.trim_start_matches('+').to_string()),
            TokenKind::DateTime(text) => parse_date_value(text).ok_or_else(|| {
                SoqlError::malformed(format!("unexpected token: '{text}'"), Some(token.position))
            })?,
            TokenKind::Colon => {
                self.bump();
                let (name, _) = self.name()?;
                return Ok(Value::Bind(name));
            }
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("NULL") => Value::Null,
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("TRUE") => Value::Boolean(true),
            TokenKind::Ident(w) if w.eq_ignore_ascii_case("FALSE") => Value::Boolean(false),
            TokenKind::Ident(w) if DateLiteral::takes_number(w) => {
                let w = w.clone();
                self.bump();
                self.expect(&TokenKind::Colon)?;
                let n = match &self.peek().kind {
                    TokenKind::Number(n) if !n.starts_with(['-', '+']) => n.parse::<u32>().ok(),
                    _ => None,
                };
                let Some(literal) = n.and_then(|n| DateLiteral::from_parts(&w, Some(n))) else {
                    return Err(self.unexpected());
                };
                self.bump();
                return Ok(Value::Relative(literal));
            }
            TokenKind::Ident(w) => match DateLiteral::from_parts(w, None) {
                Some(literal) => Value::Relative(literal),
                None => return Err(self.unexpected()),
            },
            _ => return Err(self.unexpected()),
        };
        self.bump();
        Ok(value)
    }
}

/// `2024-05-01`, `2024-05-01T10:00:00Z`, `...T10:00:00.000+0000`, `...T10:00:00+02:00`.
fn parse_date_value(text: &str) -> Option<Value> {
    if !text.contains('T') {
        return NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|_| text.len() == 10)
            .map(Value::Date);
    }
    if let Some(local) = text.strip_suffix('Z') {
        let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
        return Some(Value::DateTime(naive.and_utc().fixed_offset()));
    }
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").ok().map(Value::DateTime)
}

#[cfg(test)]
mod tests;
