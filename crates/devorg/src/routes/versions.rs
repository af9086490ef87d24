//! `GET /services/data/` (versions, no token needed) and `GET /services/data/vNN.N/`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::Path;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::http::{LATEST_VERSION, Session, api_version};

/// The release name of an API version: v62.0 is Winter '25, v61.0 Summer '24, ...
fn release_label(version: u32) -> String {
    let n = 75 + i64::from(version) - 62;
    let season = ["Winter", "Spring", "Summer"][n.rem_euclid(3) as usize];
    format!("{season} '{:02}", n.div_euclid(3))
}

/// `GET /services/data/`.
pub async fn list() -> Json<Value> {
    let versions: Vec<Value> = (20..=LATEST_VERSION)
        .map(|v| {
            json!({"label": release_label(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")})
        })
        .collect();
    Json(Value::Array(versions))
}

/// `GET /services/data/vNN.N/`.
pub async fn resources(
    _session: Session,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let v = api_version(p.get("version").map(String::as_str).unwrap_or(""))?;
    let base = format!("/services/data/v{v}");
    let mut out = serde_json::Map::new();
    for name in [
        "tooling",
        "metadata",
        "eclair",
        "folders",
        "prechatForms",
        "chatter",
        "tabs",
        "appMenu",
        "quickActions",
        "queryAll",
        "commerce",
        "wave",
        "iot",
        "analytics",
        "search",
        "identity",
        "composite",
        "parameterizedSearch",
        "fingerprint",
        "theme",
        "nouns",
        "domino",
        "event",
        "serviceTemplates",
        "recent",
        "connect",
        "licensing",
        "limits",
        "process",
        "async-queries",
        "query",
        "match",
        "emailConnect",
        "compactLayouts",
        "knowledgeManagement",
        "sobjects",
        "actions",
        "support",
    ] {
        out.insert(name.to_string(), json!(format!("{base}/{name}")));
    }
    Ok(Json(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn release_labels_follow_the_calendar() {
        assert_eq!(super::release_label(62), "Winter '25");
        assert_eq!(super::release_label(61), "Summer '24");
        assert_eq!(super::release_label(60), "Spring '24");
        assert_eq!(super::release_label(20), "Winter '11");
    }
}
