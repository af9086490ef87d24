//! sObject Collections.

use crate::error::ApiError;
use crate::http::Session;

pub async fn create(_s: Session) -> ApiError {
    ApiError::not_found()
}
pub async fn update(_s: Session) -> ApiError {
    ApiError::not_found()
}
pub async fn delete(_s: Session) -> ApiError {
    ApiError::not_found()
}
pub async fn retrieve(_s: Session) -> ApiError {
    ApiError::not_found()
}
pub async fn upsert(_s: Session) -> ApiError {
    ApiError::not_found()
}
