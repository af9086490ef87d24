//! Replication answers: `sobjects/{Object}/updated` and `sobjects/{Object}/deleted`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `{"ids":[...],"latestDateCovered":"2024-05-08T21:20:00.000+0000"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedResult {
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(with = "crate::time::serde_datetime")]
    pub latest_date_covered: DateTime<Utc>,
}

/// One deleted record: `{"id":"...","deletedDate":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedRecord {
    pub id: String,
    #[serde(with = "crate::time::serde_datetime")]
    pub deleted_date: DateTime<Utc>,
}

/// `{"deletedRecords":[...],"earliestDateAvailable":"...","latestDateCovered":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedResult {
    #[serde(default)]
    pub deleted_records: Vec<DeletedRecord>,
    #[serde(with = "crate::time::serde_datetime")]
    pub earliest_date_available: DateTime<Utc>,
    #[serde(with = "crate::time::serde_datetime")]
    pub latest_date_covered: DateTime<Utc>,
}
