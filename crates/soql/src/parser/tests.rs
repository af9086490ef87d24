//! Parser tests: accepted grammar, the tree it builds, and error positions.

use chrono::NaiveDate;

use super::parse;
use crate::ast::{CompareOp, Condition, DateLiteral, InList, SelectItem, Value};
use crate::error::{ErrorKind, Position};

fn err(text: &str) -> (ErrorKind, String, Option<Position>) {
    let e = parse(text).unwrap_err();
    (e.kind, e.message, e.position)
}

fn where_of(text: &str) -> Condition {
    parse(text).unwrap().where_clause.unwrap()
}

#[test]
fn parses_select_list_items() {
    let q = parse(
        "select Id, account.Owner.Name, COUNT(), count(Id), (SELECT LastName FROM Contacts WHERE LastName != null ORDER BY LastName LIMIT 5) from Account",
    )
    .unwrap();
    assert_eq!(q.select.len(), 5);
    match &q.select[1] {
        SelectItem::Field(p) => assert_eq!(p.parts, vec!["account", "Owner", "Name"]),
        other => panic!("{other:?}"),
    }
    assert!(matches!(q.select[2], SelectItem::Count(_)));
    assert!(matches!(&q.select[3], SelectItem::CountField(p) if p.parts == vec!["Id"]));
    match &q.select[4] {
        SelectItem::SubQuery(sub) => {
            assert_eq!(sub.from.text, "Contacts");
            assert_eq!(sub.limit, Some(5));
            assert_eq!(sub.order_by.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(q.from.text, "Account");
}

#[test]
fn parses_every_operator() {
    for (text, op) in [
        ("=", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        ("<>", CompareOp::Ne),
        ("<", CompareOp::Lt),
        ("<=", CompareOp::Le),
        (">", CompareOp::Gt),
        (">=", CompareOp::Ge),
        ("like", CompareOp::Like),
    ] {
        match where_of(&format!("SELECT Id FROM A WHERE X {text} 1")) {
            Condition::Compare { op: got, .. } => assert_eq!(got, op, "{text}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        where_of("SELECT Id FROM A WHERE X not in ('a', 'b')"),
        Condition::In { negated: true, list: InList::Values(v), .. } if v.len() == 2
    ));
    assert!(matches!(
        where_of("SELECT Id FROM A WHERE X EXCLUDES ('a;b', 'c')"),
        Condition::Includes { excludes: true, values, .. } if values.len() == 2
    ));
    assert!(matches!(
        where_of(
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LastName = 'x')"
        ),
        Condition::In { negated: false, list: InList::SubQuery(_), .. }
    ));
}

#[test]
fn parses_literals() {
    let value = |v: &str| match where_of(&format!("SELECT Id FROM A WHERE X = {v}")) {
        Condition::Compare { value, .. } => value,
        other => panic!("{other:?}"),
    };
    assert_eq!(value("NULL"), Value::Null);
    assert_eq!(value("True"), Value::Boolean(true));
    assert_eq!(value("-12.50"), Value::Number("-12.50".into()));
    assert_eq!(value(r#"'it\'s \"x\"\t'"#), Value::String("it's \"x\"\t".into()));
    assert_eq!(value("2024-05-01"), Value::Date(NaiveDate::from_ymd_opt(2024, 5, 1).unwrap()));
    let z = value("2024-05-01T10:00:00Z");
    assert_eq!(z, value("2024-05-01T10:00:00.000+0000"));
    assert_eq!(z, value("2024-05-01T12:00:00+02:00"));
    assert_eq!(z, value("2024-05-01T08:00:00-02:00"));
    assert_eq!(value("today"), Value::Relative(DateLiteral::Today));
    assert_eq!(value("LAST_N_DAYS:30"), Value::Relative(DateLiteral::LastNDays(30)));
    assert_eq!(value("n_days_ago:2"), Value::Relative(DateLiteral::NDaysAgo(2)));
    assert_eq!(value(":user"), Value::Bind("user".into()));
}

#[test]
fn groups_with_parentheses_and_not() {
    let c = where_of("SELECT Id FROM A WHERE (X = 1 OR Y = 2) AND NOT Z = 3 AND W = 4");
    match c {
        Condition::And(items) => {
            assert_eq!(items.len(), 3);
            assert!(matches!(&items[0], Condition::Or(v) if v.len() == 2));
            assert!(matches!(&items[1], Condition::Not(_)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reports_unexpected_tokens_with_position() {
    assert_eq!(
        err("SELECT Name FORM Account"),
        (ErrorKind::MalformedQuery, "unexpected token: 'FORM'".into(), Some(Position::new(1, 13)))
    );
    assert_eq!(
        err("SELECT Name FROM Account extra"),
        (ErrorKind::MalformedQuery, "unexpected token: 'extra'".into(), Some(Position::new(1, 26)))
    );
    assert_eq!(
        err("SELECT Name"),
        (ErrorKind::MalformedQuery, "unexpected token: '<EOF>'".into(), Some(Position::new(1, 12)))
    );
    assert_eq!(err("SELECT FROM Account").2, Some(Position::new(1, 8)));
    assert_eq!(err("SELECT Id, FROM Account").1, "unexpected token: 'FROM'");
    assert_eq!(
        err("SELECT Id FROM Account\nWHERE X = 1 AND Y = 2 OR Z = 3").2,
        Some(Position::new(2, 23))
    );
    assert_eq!(err("SELECT Id FROM Account WHERE X = LAST_N_DAYS:x").2, Some(Position::new(1, 46)));
    assert_eq!(
        err("SELECT Id FROM Account WHERE X = 2024-13-01").1,
        "unexpected token: '2024-13-01'"
    );
    assert_eq!(err("SELECT Id FROM Account LIMIT -1").1, "unexpected token: '-1'");
    assert_eq!(err("SELECT Id FROM Account WHERE X = SOMEDAY").1, "unexpected token: 'SOMEDAY'");
    assert_eq!(err("SELECT Id FROM Account WHERE X").1, "unexpected token: '<EOF>'");
    assert_eq!(err("SELECT Id FROM Account ORDER Id").1, "unexpected token: 'Id'");
    assert_eq!(err("SELECT Id FROM Account WHERE (X = 1").1, "unexpected token: '<EOF>'");
    assert_eq!(err("").1, "unexpected token: '<EOF>'");
}

#[test]
fn rejects_nesting_beyond_one_level() {
    let e = parse("SELECT (SELECT (SELECT Id FROM C) FROM B) FROM A").unwrap_err();
    assert_eq!(e.position, Some(Position::new(1, 16)));
}

#[test]
fn rejects_hostile_nesting_without_overflowing() {
    let deep =
        format!("SELECT Id FROM A WHERE {}X = 1{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = parse(&deep).unwrap_err();
    assert_eq!(e.message, "conditions are nested too deeply");
    assert_eq!(e.position, Some(Position::new(1, 24 + 64)));
    let nots = format!("SELECT Id FROM A WHERE {}X = 1", "NOT ".repeat(100_000));
    assert_eq!(parse(&nots).unwrap_err().kind, ErrorKind::MalformedQuery);
    let fine = format!("SELECT Id FROM A WHERE {}X = 1{}", "(".repeat(64), ")".repeat(64));
    assert!(parse(&fine).is_ok());
}
