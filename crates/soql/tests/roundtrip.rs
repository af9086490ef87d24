//! Printing a query and parsing the text gives back an equal tree, for hand-picked
//! queries and for generated ones.

use chrono::{DateTime, NaiveDate};
use proptest::prelude::*;
use soql::ast::{
    CompareOp, Condition, DateLiteral, FieldPath, InList, Name, OrderItem, Query, SelectItem, Span,
    Value, is_reserved,
};
use soql::parse;

fn round_trip(text: &str) -> String {
    let q = parse(text).unwrap();
    let printed = q.to_string();
    assert_eq!(parse(&printed).unwrap(), q, "{printed}");
    printed
}

#[test]
fn examples_print_canonically_and_round_trip() {
    assert_eq!(
        round_trip(
            "select id, Account.Name from contact where name like 'a\\%%' and (x <> 1 or y = null) order by name desc nulls last limit 10 offset 5"
        ),
        "SELECT id, Account.Name FROM contact WHERE name LIKE 'a\\%%' AND (x != 1 OR y = null) ORDER BY name DESC NULLS LAST LIMIT 10 OFFSET 5"
    );
    assert_eq!(
        round_trip(
            "SELECT COUNT() FROM Account WHERE CreatedDate > 2024-05-01T10:00:00Z AND d = 2024-05-01 AND e < LAST_N_DAYS:3"
        ),
        "SELECT COUNT() FROM Account WHERE CreatedDate > 2024-05-01T10:00:00.000+0000 AND d = 2024-05-01 AND e < LAST_N_DAYS:3"
    );
    round_trip(
        "SELECT Id, (SELECT LastName FROM Contacts ORDER BY LastName ASC) FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact) AND Tags__c INCLUDES ('a;b', 'c') AND NOT (A = 1 OR B = 2)",
    );
    round_trip(
        "SELECT Id FROM Account WHERE OwnerId = :user AND Name = 'it\\'s\\n\\\\' AND n IN (1, -2.5, null, true)",
    );
    round_trip("SELECT Id FROM Account WHERE NOT NOT A = 1 AND ((B = 1 AND C = 2) AND D = 3)");
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,8}".prop_filter("reserved or date literal", |s| {
        !is_reserved(s)
            && DateLiteral::from_parts(s, None).is_none()
            && !DateLiteral::takes_number(s)
            && !s.eq_ignore_ascii_case("COUNT")
    })
}

fn path() -> impl Strategy<Value = FieldPath> {
    prop::collection::vec(name(), 1..4).prop_map(|parts| FieldPath { parts, span: Span(None) })
}

fn date_literal() -> impl Strategy<Value = DateLiteral> {
    prop_oneof![
        Just(DateLiteral::Today),
        Just(DateLiteral::Yesterday),
        Just(DateLiteral::Tomorrow),
        Just(DateLiteral::LastWeek),
        Just(DateLiteral::ThisWeek),
        Just(DateLiteral::NextWeek),
        Just(DateLiteral::LastMonth),
        Just(DateLiteral::ThisMonth),
        Just(DateLiteral::NextMonth),
        (0u32..1000).prop_map(DateLiteral::LastNDays),
        (0u32..1000).prop_map(DateLiteral::NextNDays),
        (0u32..1000).prop_map(DateLiteral::NDaysAgo),
        (0u32..1000).prop_map(DateLiteral::LastNWeeks),
        (0u32..1000).prop_map(DateLiteral::NextNWeeks),
    ]
}

fn value() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        "[ -~\n\t\r\u{e9}]{0,12}".prop_map(Value::String),
        (any::<i32>(), prop::option::of(0u32..1000)).prop_map(|(i, frac)| Value::Number(
            match frac {
                Some(f) => format!("{i}.{f}"),
                None => i.to_string(),
            }
        )),
        (0i32..3_000_000)
            .prop_map(|d| Value::Date(NaiveDate::from_num_days_from_ce_opt(d + 1).unwrap())),
        (0i64..4_000_000_000, 0u32..1000, -50400i32..50400).prop_map(|(s, ms, off)| {
            let off = chrono::FixedOffset::east_opt(off / 60 * 60).unwrap();
            Value::DateTime(
                DateTime::from_timestamp(s, ms * 1_000_000).unwrap().with_timezone(&off),
            )
        }),
        date_literal().prop_map(Value::Relative),
        name().prop_map(Value::Bind),
    ]
    .boxed()
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
        Just(CompareOp::Like),
    ]
}

fn leaf(allow_subquery: bool) -> BoxedStrategy<Condition> {
    let values = prop::collection::vec(value(), 1..4);
    let compare = (path(), op(), value()).prop_map(|(field, op, value)| Condition::Compare {
        field,
        op,
        value,
    });
    let in_values = (path(), any::<bool>(), values.clone())
        .prop_map(|(field, negated, v)| Condition::In { field, negated, list: InList::Values(v) });
    let includes = (path(), any::<bool>(), values)
        .prop_map(|(field, excludes, values)| Condition::Includes { field, excludes, values });
    if allow_subquery {
        let semi = (path(), any::<bool>(), query(false)).prop_map(|(field, negated, q)| {
            Condition::In { field, negated, list: InList::SubQuery(Box::new(q)) }
        });
        prop_oneof![compare, in_values, includes, semi].boxed()
    } else {
        prop_oneof![compare, in_values, includes].boxed()
    }
}

fn condition(allow_subquery: bool) -> BoxedStrategy<Condition> {
    leaf(allow_subquery)
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::Or),
                inner.prop_map(|c| Condition::Not(Box::new(c))),
            ]
        })
        .boxed()
}

fn order_item() -> impl Strategy<Value = OrderItem> {
    (path(), prop::option::of(any::<bool>()), prop::option::of(any::<bool>()))
        .prop_map(|(field, descending, nulls_first)| OrderItem { field, descending, nulls_first })
}

fn query(top: bool) -> BoxedStrategy<Query> {
    let plain = prop_oneof![
        4 => path().prop_map(SelectItem::Field),
        1 => Just(SelectItem::Count(Span(None))),
        1 => path().prop_map(SelectItem::CountField),
    ];
    let item = if top {
        prop_oneof![4 => plain, 1 => query(false).prop_map(|q| SelectItem::SubQuery(Box::new(q)))]
            .boxed()
    } else {
        plain.boxed()
    };
    (
        prop::collection::vec(item, 1..4),
        name(),
        prop::option::of(condition(top)),
        prop::collection::vec(order_item(), 0..3),
        prop::option::of(0u64..100_000),
        prop::option::of(0u64..2000),
    )
        .prop_map(|(select, from, where_clause, order_by, limit, offset)| Query {
            select,
            from: Name { text: from, span: Span(None) },
            where_clause,
            order_by,
            limit,
            offset,
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printed_queries_parse_back_equal(q in query(true)) {
        let printed = q.to_string();
        let parsed = parse(&printed);
        prop_assert!(parsed.is_ok(), "{printed}: {parsed:?}");
        prop_assert_eq!(parsed.unwrap(), q, "{}", printed);
    }
}
