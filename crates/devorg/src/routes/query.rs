//! query, queryAll and queryMore.

use std::collections::HashMap;

use axum::extract::Path;

use crate::error::ApiError;
use crate::http::Session;

/// `GET .../query?q=`.
pub async fn query(_s: Session, Path(_p): Path<HashMap<String, String>>) -> ApiError {
    ApiError::not_found()
}

/// `GET .../queryAll?q=`.
pub async fn query_all(_s: Session, Path(_p): Path<HashMap<String, String>>) -> ApiError {
    ApiError::not_found()
}

/// `GET .../query/{locator}`.
pub async fn more(_s: Session, Path(_p): Path<HashMap<String, String>>) -> ApiError {
    ApiError::not_found()
}
