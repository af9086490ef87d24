//! The field web app served by `deltasync app`: server-rendered HTML, a little plain
//! JavaScript for live updates, every asset embedded in the binary.
//!
//! - [`guard`]: the front door every route sits behind (loopback, session secret, CSRF).
//! - [`layout`]: the page shell (header with the connection state, bottom tab bar).
//! - [`home`], [`records`], [`form`], [`pending`], [`history`], [`schedule`]: one screen each.
//! - [`fields`]: form fields from the cached describe; saves go through `engine::edit`.
//! - [`timefmt`]: times as `<time>` in UTC, shown in the browser's zone by the script.
//! - [`events`]: the server-sent event stream the script listens to.
//! - [`soql_text`]: SOQL string literals built safely for offline queries.
//! - [`assets`]: the CSS and JavaScript files.
//!
//! Every page reads the local store only, so the app works the same offline.

pub mod assets;
pub mod events;
pub mod fields;
pub mod form;
pub mod guard;
pub mod history;
pub mod home;
pub mod layout;
pub mod objects;
pub mod pending;
pub mod records;
pub mod schedule;
pub mod soql_text;
pub mod timefmt;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::app::AppHandle;
use guard::Secret;

/// What every handler gets: the app and the session's secret (for the CSRF token).
#[derive(Clone, Debug)]
pub struct WebState {
    pub handle: AppHandle,
    pub secret: Secret,
}

impl WebState {
    /// The CSRF token forms carry.
    pub fn csrf(&self) -> &str {
        self.secret.csrf()
    }
}

/// An error a handler turns into a plain error page.
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    message: String,
}

impl WebError {
    /// A 404 for something that is not in the store.
    pub fn not_found(what: impl Into<String>) -> WebError {
        WebError { status: StatusCode::NOT_FOUND, message: what.into() }
    }

    /// A 422 for something the app will not do, with the reason.
    pub fn refused(reason: impl Into<String>) -> WebError {
        WebError { status: StatusCode::UNPROCESSABLE_ENTITY, message: reason.into() }
    }

    /// A 500 for a failure the person cannot fix.
    pub fn internal(e: &dyn std::fmt::Display) -> WebError {
        warn!(error = %e, "error in the web app");
        WebError { status: StatusCode::INTERNAL_SERVER_ERROR, message: e.to_string() }
    }
}

impl From<store::StoreError> for WebError {
    fn from(e: store::StoreError) -> WebError {
        WebError::internal(&e)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let body = maud::html! {
            (maud::DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; title { "deltasync" } link rel="stylesheet" href="/assets/app.css"; }
                body { main.page { h1 { "Something went wrong" } p.error { (self.message) } p { a href="/" { "Back to Home" } } } }
            }
        };
        (self.status, body).into_response()
    }
}

/// The app's routes behind the guard.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(home::page))
        .route("/sync", post(home::sync_now))
        .route("/records", get(records::objects_page))
        .route("/records/{object}", get(records::list_page).post(form::create))
        .route("/records/{object}/new", get(form::new_page))
        .route("/records/{object}/{id}", get(records::detail_page).post(form::update))
        .route("/records/{object}/{id}/edit", get(form::edit_page))
        .route("/records/{object}/{id}/delete", post(form::delete))
        .route("/pending", get(pending::page))
        .route("/pending/{seq}/retry", post(pending::retry))
        .route("/pending/{seq}/discard", post(pending::discard))
        .route("/pending/{seq}/resolve", post(pending::resolve))
        .route("/pending/{seq}/recreate", post(pending::recreate))
        .route("/schedule", get(schedule::page))
        .route("/history", get(history::page))
        .route("/history/{id}", get(history::detail_page))
        .route("/events", get(events::stream))
        .route("/assets/app.css", get(assets::css))
        .route("/assets/app.js", get(assets::js))
        .layer(axum::middleware::from_fn_with_state(state.secret.clone(), guard::guard))
        .with_state(state)
}

/// Serves the app on `listener` (which must be bound to a loopback address). Returns the
/// URL to open, with the session secret in it, and the server task.
pub async fn serve(
    handle: AppHandle,
    listener: tokio::net::TcpListener,
) -> (String, JoinHandle<()>) {
    let secret = Secret::generate();
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| "127.0.0.1".into());
    if listener.local_addr().is_ok_and(|a| !a.ip().is_loopback()) {
        warn!("the web app listener is not on loopback; the Host check still refuses others");
    }
    let url = format!("http://{addr}/?key={}", secret.key());
    let app = router(WebState { handle, secret });
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            warn!(error = %e, "web app stopped with an error");
        }
    });
    info!(%addr, "web app listening");
    (url, task)
}

/// The app's status with the pending count read from the store, which is always current
/// (the status is only as fresh as the last event that set it).
pub fn current_status(handle: &AppHandle) -> crate::app::AppStatus {
    let mut status = handle.status();
    if let Ok(counts) = handle.store().read(|r| r.pending_counts()) {
        status.pending = counts.iter().map(|(_, n)| n).sum();
    }
    status
}
