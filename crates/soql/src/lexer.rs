//! Splits SOQL text into tokens, each with its 1-based position.

use crate::error::{Position, SoqlError};

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A name or keyword, as written.
    Ident(String),
    /// A quoted string with its escapes resolved (`\%` and `\_` are kept as written,
    /// since they only mean something to `LIKE`).
    Str(String),
    /// A number as written, sign included (`-12.5`).
    Number(String),
    /// A date or datetime literal as written (`2024-05-01`, `2024-05-01T10:00:00Z`).
    DateTime(String),
    LParen,
    RParen,
    Comma,
    Dot,
    Colon,
    /// A comparison operator: `= != <> < <= > >=`.
    Op(String),
    Eof,
}

/// One token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub position: Position,
}

impl Token {
    /// The token as Salesforce quotes it in `unexpected token: '...'`.
    pub fn text(&self) -> String {
        match &self.kind {
            TokenKind::Ident(s) | TokenKind::Number(s) | TokenKind::DateTime(s) => s.clone(),
            TokenKind::Op(s) => s.clone(),
            TokenKind::Str(s) => format!("'{s}'"),
            TokenKind::LParen => "(".into(),
            TokenKind::RParen => ")".into(),
            TokenKind::Comma => ",".into(),
            TokenKind::Dot => ".".into(),
            TokenKind::Colon => ":".into(),
            TokenKind::Eof => "<EOF>".into(),
        }
    }
}

struct Cursor {
    chars: Vec<char>,
    at: usize,
    line: u32,
    column: u32,
}

impl Cursor {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.at).copied()?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn position(&self) -> Position {
        Position::new(self.line, self.column)
    }
}

/// Splits `text` into tokens, ending with [`TokenKind::Eof`].
pub fn tokenize(text: &str) -> Result<Vec<Token>, SoqlError> {
    let mut cur = Cursor { chars: text.chars().collect(), at: 0, line: 1, column: 1 };
    let mut tokens = Vec::new();
    loop {
        while cur.peek().is_some_and(char::is_whitespace) {
            cur.bump();
        }
        let position = cur.position();
        let Some(c) = cur.peek() else {
            tokens.push(Token { kind: TokenKind::Eof, position });
            return Ok(tokens);
        };
        let kind = match c {
            '(' | ')' | ',' | '.' | ':' => {
                cur.bump();
                match c {
                    '(' => TokenKind::LParen,
                    ')' => TokenKind::RParen,
                    ',' => TokenKind::Comma,
                    '.' => TokenKind::Dot,
                    _ => TokenKind::Colon,
                }
            }
            '=' => {
                cur.bump();
                TokenKind::Op("=".into())
            }
            '!' => {
                cur.bump();
                if cur.peek() != Some('=') {
                    return Err(SoqlError::malformed("unexpected token: '!'", Some(position)));
                }
                cur.bump();
                TokenKind::Op("!=".into())
            }
            '<' | '>' => {
                cur.bump();
                let mut op = c.to_string();
                if cur.peek() == Some('=') || (c == '<' && cur.peek() == Some('>')) {
                    op.push(cur.bump().unwrap_or('='));
                }
                TokenKind::Op(op)
            }
            '\'' => lex_string(&mut cur, position)?,
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+')
                    && cur.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                lex_number_or_date(&mut cur)
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut s = String::new();
                while let Some(c) = cur.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
                    s.push(c);
                    cur.bump();
                }
                TokenKind::Ident(s)
            }
            other => {
                return Err(SoqlError::malformed(
                    format!("unexpected token: '{other}'"),
                    Some(position),
                ));
            }
        };
        tokens.push(Token { kind, position });
    }
}

fn lex_string(cur: &mut Cursor, start: Position) -> Result<TokenKind, SoqlError> {
    cur.bump();
    let mut s = String::new();
    loop {
        let escape_at = cur.position();
        match cur.bump() {
            None => return Err(SoqlError::malformed("unterminated string literal", Some(start))),
            Some('\'') => return Ok(TokenKind::Str(s)),
            Some('\\') => match cur.bump() {
                Some('\'') => s.push('\''),
                Some('"') => s.push('"'),
                Some('\\') => s.push('\\'),
                Some('n') => s.push('\n'),
                Some('t') => s.push('\t'),
                Some('r') => s.push('\r'),
                Some('b') => s.push('\u{8}'),
                Some('f') => s.push('\u{c}'),
                Some(c @ ('%' | '_')) => {
                    s.push('\\');
                    s.push(c);
                }
                _ => {
                    return Err(SoqlError::malformed(
                        "Invalid string literal: illegal escape sequence",
                        Some(escape_at),
                    ));
                }
            },
            Some(c) => s.push(c),
        }
    }
}

/// A number, or a date/datetime when the text starts `dddd-`.
fn lex_number_or_date(cur: &mut Cursor) -> TokenKind {
    let starts_date = (0..4).all(|i| cur.peek_at(i).is_some_and(|c| c.is_ascii_digit()))
        && cur.peek_at(4) == Some('-');
    let mut s = String::new();
    if starts_date {
        // Dates and datetimes: digits, '-', ':', '.', 'T', 'Z' and an offset sign.
        while let Some(c) = cur.peek() {
            let offset_sign = c == '+' || (c == '-' && s.contains('T'));
            if c.is_ascii_digit()
                || c == '-'
                || c == ':'
                || c == '.'
                || c == 'T'
                || c == 'Z'
                || offset_sign
            {
                // A ':' right after a complete date is never part of it.
                if c == ':' && !s.contains('T') {
                    break;
                }
                s.push(c);
                cur.bump();
            } else {
                break;
            }
        }
        return TokenKind::DateTime(s);
    }
    if let Some(sign @ ('-' | '+')) = cur.peek() {
        s.push(sign);
        cur.bump();
    }
    while let Some(c) = cur.peek().filter(char::is_ascii_digit) {
        s.push(c);
        cur.bump();
    }
    if cur.peek() == Some('.') && cur.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
        s.push('.');
        cur.bump();
        while let Some(c) = cur.peek().filter(char::is_ascii_digit) {
            s.push(c);
            cur.bump();
        }
    }
    TokenKind::Number(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn splits_operators_names_and_literals() {
        assert_eq!(
            kinds("a<>b<=-1.5"),
            vec![
                TokenKind::Ident("a".into()),
                TokenKind::Op("<>".into()),
                TokenKind::Ident("b".into()),
                TokenKind::Op("<=".into()),
                TokenKind::Number("-1.5".into()),
                TokenKind::Eof
            ]
        );
        assert_eq!(
            kinds("2024-05-01T10:00:00.000+0000 2024-05-01 x:5"),
            vec![
                TokenKind::DateTime("2024-05-01T10:00:00.000+0000".into()),
                TokenKind::DateTime("2024-05-01".into()),
                TokenKind::Ident("x".into()),
                TokenKind::Colon,
                TokenKind::Number("5".into()),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn resolves_string_escapes_but_keeps_like_escapes() {
        assert_eq!(kinds(r"'a\'b\\c\n\%\_'")[0], TokenKind::Str("a'b\\c\n\\%\\_".into()));
    }

    #[test]
    fn reports_positions_on_later_lines() {
        let tokens = tokenize("SELECT Id\n  FROM Account").unwrap();
        assert_eq!(tokens[2].position, Position::new(2, 3));
        let err = tokenize("SELECT Id\nFROM Account WHERE Name = 'x").unwrap_err();
        assert_eq!(err.position, Some(Position::new(2, 27)));
        let err = tokenize("SELECT # FROM Account").unwrap_err();
        assert_eq!(err.message, "unexpected token: '#'");
        assert_eq!(err.position, Some(Position::new(1, 8)));
        let err = tokenize(r"SELECT Id FROM A WHERE N = 'a\q'").unwrap_err();
        assert_eq!(err.position, Some(Position::new(1, 30)));
    }
}
