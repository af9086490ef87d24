//! `GET /services/data/vNN.N/limits`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::http::{AppState, Session, api_version};

/// The org's limits; only `DailyApiRequests` moves.
pub async fn limits(
    State(org): State<AppState>,
    _session: Session,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    api_version(p.get("version").map(String::as_str).unwrap_or(""))?;
    let max = org.config.api_daily_limit;
    let used = org.requests_used();
    let fixed = |m: u64| json!({"Max": m, "Remaining": m});
    Ok(Json(json!({
        "ConcurrentAsyncGetReportInstances": fixed(200),
        "ConcurrentSyncReportRuns": fixed(20),
        "DailyApiRequests": {"Max": max, "Remaining": max.saturating_sub(used)},
        "DailyAsyncApexExecutions": fixed(250000),
        "DailyBulkApiBatches": fixed(15000),
        "DailyBulkV2QueryJobs": fixed(10000),
        "DailyBulkV2QueryFileStorageMB": fixed(976562),
        "DailyGenericStreamingApiEvents": fixed(10000),
        "DailyStreamingApiEvents": fixed(10000),
        "DataStorageMB": fixed(5),
        "FileStorageMB": fixed(20),
        "HourlyODataCallout": fixed(10000),
        "SingleEmail": fixed(15),
        "MassEmail": fixed(10),
    })))
}
