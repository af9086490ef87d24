//! Composite.

use crate::error::ApiError;
use crate::http::Session;

pub async fn composite(_s: Session) -> ApiError {
    ApiError::not_found()
}
