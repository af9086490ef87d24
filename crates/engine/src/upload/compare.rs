//! Value equality across the spellings the store and the server use for the same value:
//! `5` and `5.0`, 15- and 18-character ids, datetimes with `Z` or `+0000`, and `null`
//! for an empty text.

use salesforce::SfId;
use salesforce::time::parse_datetime;
use serde_json::Value;

/// Whether two field values mean the same thing to Salesforce.
pub fn same_value(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.is_empty(),
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()).max(1.0),
            _ => false,
        },
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            match (n.as_f64(), s.trim().parse::<f64>()) {
                (Some(x), Ok(y)) => same_value(&Value::from(x), &Value::from(y)),
                _ => false,
            }
        }
        (Value::String(x), Value::String(y)) => same_text(x, y),
        _ => false,
    }
}

fn same_text(x: &str, y: &str) -> bool {
    if let (Ok(x), Ok(y)) = (SfId::parse(x), SfId::parse(y)) {
        return x == y;
    }
    // Only texts shaped like datetimes are compared as instants: a date or a word never is.
    if x.len() > 10
        && y.len() > 10
        && x.as_bytes().get(10) == Some(&b'T')
        && let (Ok(x), Ok(y)) = (parse_datetime(x), parse_datetime(y))
    {
        return x == y;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spellings_of_one_value_are_equal() {
        assert!(same_value(&json!(5), &json!(5.0)));
        assert!(same_value(&json!(null), &json!("")));
        assert!(same_value(&json!("001M000000qfPyS"), &json!("001M000000qfPySIAU")));
        assert!(same_value(
            &json!("2024-05-08T21:20:00.000+0000"),
            &json!("2024-05-08T23:20:00+02:00")
        ));
        assert!(same_value(&json!("12.50"), &json!(12.5)));
    }

    #[test]
    fn different_values_differ() {
        assert!(!same_value(&json!(5), &json!(6)));
        assert!(!same_value(&json!("a"), &json!("A")));
        assert!(!same_value(&json!(null), &json!("x")));
        assert!(!same_value(&json!(true), &json!(false)));
        assert!(!same_value(&json!(true), &json!("true")));
        assert!(!same_value(&json!("001M000000qfPyS"), &json!("001M000000qfPyT")));
        assert!(!same_value(&json!("2024-05-08"), &json!("2024-05-09")));
        assert!(!same_value(&json!("2024-05-08T21:20:00Z"), &json!("2024-05-08T21:20:01Z")));
    }
}
