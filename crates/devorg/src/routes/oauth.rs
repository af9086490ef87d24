//! OAuth 2.0: the token endpoint (password, refresh_token, client_credentials,
//! authorization_code with PKCE, JWT bearer), a minimal authorize page, userinfo, identity
//! and revoke.

use std::collections::HashMap;

use axum::Form;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::{self, ConnectedApp};
use crate::db;
use crate::error::ApiError;
use crate::http::{AppState, authenticate, base_url};
use crate::jwt_bearer::{self, JwtError};
use crate::org::Org;

fn oauth_error(error: &str, description: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": error, "error_description": description})))
        .into_response()
}

fn auth_failure() -> Response {
    oauth_error("invalid_grant", "authentication failure")
}

fn app<'a>(org: &'a Org, client_id: Option<&String>) -> Option<&'a ConnectedApp> {
    let id = client_id?;
    org.config.connected_apps.iter().find(|a| &a.client_id == id)
}

/// `POST /services/oauth2/token`.
pub async fn token(
    State(org): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    if grant_type == jwt_bearer::GRANT_TYPE {
        return jwt_token(&org, &headers, form.get("assertion").map(String::as_str));
    }
    let Some(app) = app(&org, form.get("client_id")) else {
        return oauth_error("invalid_client_id", "client identifier invalid");
    };
    let secret_given = form.get("client_secret");
    let secret_ok = secret_given.is_none_or(|s| s == &app.client_secret);
    let now_ms = org.clock.now().timestamp_millis();
    let ttl_ms = org.config.token_ttl.as_millis() as i64;
    let conn = org.db();

    let result: Result<(String, bool), Response> = match grant_type {
        "password" => {
            if secret_given.is_none() || !secret_ok {
                Err(oauth_error("invalid_client", "invalid client credentials"))
            } else {
                let username = form.get("username").map(String::as_str).unwrap_or("");
                let password = form.get("password").map(String::as_str).unwrap_or("");
                match db::find_user(&conn, username) {
                    Ok(Some((id, hash))) if auth::hash_password(&id, password) == hash => {
                        Ok((id, false))
                    }
                    Ok(_) => Err(auth_failure()),
                    Err(e) => Err(ApiError::internal(&e).into_response()),
                }
            }
        }
        "client_credentials" => {
            if secret_given.is_none() || !secret_ok {
                Err(oauth_error("invalid_client", "invalid client credentials"))
            } else {
                match db::find_user(&conn, &org.config.integration_username) {
                    Ok(Some((id, _))) => Ok((id, false)),
                    Ok(None) => {
                        Err(oauth_error("invalid_grant", "no client credentials user enabled"))
                    }
                    Err(e) => Err(ApiError::internal(&e).into_response()),
                }
            }
        }
        "refresh_token" => {
            let token = form.get("refresh_token").map(String::as_str).unwrap_or("");
            match auth::refresh_token_owner(&conn, token) {
                Ok(Some((user, client))) if client == app.client_id && secret_ok => {
                    Ok((user, org.config.rotate_refresh_tokens))
                }
                Ok(_) => Err(oauth_error("invalid_grant", "expired access/refresh token")),
                Err(e) => Err(ApiError::internal(&e).into_response()),
            }
        }
        "authorization_code" => {
            let code = form.get("code").map(String::as_str).unwrap_or("");
            match auth::redeem_code(&conn, code, now_ms) {
                Ok(Some(grant)) => {
                    let verifier = form.get("code_verifier");
                    let pkce_ok = match (&grant.challenge, verifier) {
                        (Some(c), Some(v)) => auth::pkce_matches(c, grant.method.as_deref(), v),
                        (Some(_), None) => false,
                        (None, _) => secret_given.is_some() && secret_ok,
                    };
                    let redirect_ok =
                        form.get("redirect_uri").is_none_or(|r| r == &grant.redirect_uri);
                    if grant.client_id != app.client_id || !redirect_ok || !secret_ok {
                        Err(oauth_error("invalid_grant", "invalid authorization code"))
                    } else if !pkce_ok {
                        Err(oauth_error("invalid_grant", "invalid code verifier"))
                    } else {
                        Ok((grant.user_id, true))
                    }
                }
                Ok(None) => Err(oauth_error("invalid_grant", "invalid authorization code")),
                Err(e) => Err(ApiError::internal(&e).into_response()),
            }
        }
        _ => Err(oauth_error("unsupported_grant_type", "grant type not supported")),
    };

    let (user_id, with_refresh) = match result {
        Ok(r) => r,
        Err(resp) => {
            tracing::debug!(grant_type, "token request refused");
            return resp;
        }
    };
    let grant = match auth::issue(
        &conn,
        org.org_id15(),
        &user_id,
        &app.client_id,
        now_ms,
        ttl_ms,
        with_refresh,
    ) {
        Ok(g) => g,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    let mut body =
        auth::token_response(&grant, &base_url(&org, &headers), &org.org_id, &app.client_secret);
    if grant_type == "refresh_token"
        && !with_refresh
        && let Some(obj) = body.as_object_mut()
    {
        obj.remove("refresh_token");
    }
    tracing::debug!(grant_type, "token issued");
    (StatusCode::OK, Json(body)).into_response()
}

/// The JWT bearer grant: the client is the assertion's issuer, and no refresh token is
/// issued.
fn jwt_token(org: &Org, headers: &HeaderMap, assertion: Option<&str>) -> Response {
    let refuse = |e: JwtError| {
        tracing::debug!(grant_type = jwt_bearer::GRANT_TYPE, reason = ?e, "token request refused");
        oauth_error(e.oauth_error(), &e.to_string())
    };
    let base = base_url(org, headers);
    let now = org.clock.now();
    let checked = jwt_bearer::verify(
        assertion.unwrap_or(""),
        &org.config.connected_apps,
        &base,
        now.timestamp(),
    );
    let assertion = match checked {
        Ok(a) => a,
        Err(e) => return refuse(e),
    };
    let conn = org.db();
    let user_id = match db::find_user(&conn, &assertion.username) {
        Ok(Some((id, _))) => id,
        Ok(None) => return refuse(JwtError::UnknownUser),
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    let now_ms = now.timestamp_millis();
    let ttl_ms = org.config.token_ttl.as_millis() as i64;
    let app = assertion.app;
    let grant =
        match auth::issue(&conn, org.org_id15(), &user_id, &app.client_id, now_ms, ttl_ms, false) {
            Ok(g) => g,
            Err(e) => return ApiError::internal(&e).into_response(),
        };
    let body = auth::token_response(&grant, &base, &org.org_id, &app.client_secret);
    tracing::debug!(grant_type = jwt_bearer::GRANT_TYPE, "token issued");
    (StatusCode::OK, Json(body)).into_response()
}

const FORM_FIELDS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "scope",
];

fn login_page(params: &HashMap<String, String>, error: Option<&str>) -> Response {
    let hidden: String = FORM_FIELDS
        .iter()
        .filter_map(|k| params.get(*k).map(|v| (k, v)))
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", html_escape(v)))
        .collect();
    let error =
        error.map(|e| format!("<p class=\"error\">{}</p>", html_escape(e))).unwrap_or_default();
    Html(format!(
        "<!doctype html><html><head><title>Log in | devorg</title></head><body>\
         <h1>Log in to devorg</h1>{error}\
         <form method=\"post\" action=\"/services/oauth2/authorize\">{hidden}\
         <label>Username <input name=\"username\" autocomplete=\"username\"></label>\
         <label>Password <input name=\"password\" type=\"password\"></label>\
         <button type=\"submit\">Log In</button></form></body></html>"
    ))
    .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn redirect_with_code(org: &Org, params: &HashMap<String, String>, user_id: &str) -> Response {
    let redirect_uri = params.get("redirect_uri").cloned().unwrap_or_default();
    let Ok(mut url) = url::Url::parse(&redirect_uri) else {
        return oauth_error("redirect_uri_mismatch", "redirect_uri must match configuration");
    };
    let client_id = params.get("client_id").cloned().unwrap_or_default();
    let now_ms = org.clock.now().timestamp_millis();
    let code = auth::new_code(
        &org.db(),
        user_id,
        &client_id,
        &redirect_uri,
        params.get("code_challenge").map(String::as_str),
        params.get("code_challenge_method").map(String::as_str),
        now_ms,
    );
    let code = match code {
        Ok(c) => c,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    url.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = params.get("state") {
        url.query_pairs_mut().append_pair("state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

/// `GET /services/oauth2/authorize`: redirects at once for a known `login_hint`,
/// otherwise shows a login form.
pub async fn authorize_form(
    State(org): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if app(&org, params.get("client_id")).is_none() {
        return oauth_error("invalid_client_id", "client identifier invalid");
    }
    if params.get("response_type").map(String::as_str) != Some("code") {
        return oauth_error("unsupported_response_type", "response type not supported");
    }
    if let Some(hint) = params.get("login_hint") {
        let user = db::find_user(&org.db(), hint);
        if let Ok(Some((user_id, _))) = user {
            return redirect_with_code(&org, &params, &user_id);
        }
    }
    login_page(&params, None)
}

/// `POST /services/oauth2/authorize`: checks the login form and redirects with a code.
pub async fn authorize_submit(
    State(org): State<AppState>,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    if app(&org, params.get("client_id")).is_none() {
        return oauth_error("invalid_client_id", "client identifier invalid");
    }
    let username = params.get("username").map(String::as_str).unwrap_or("");
    let password = params.get("password").map(String::as_str).unwrap_or("");
    let found = db::find_user(&org.db(), username);
    match found {
        Ok(Some((id, hash))) if auth::hash_password(&id, password) == hash => {
            redirect_with_code(&org, &params, &id)
        }
        _ => login_page(&params, Some("Please check your username and password.")),
    }
}

fn identity(org: &Org, base: &str, user_id: &str) -> Result<Value, ApiError> {
    let conn = org.db();
    let row = conn.query_row(
        "SELECT \"Username\", \"FirstName\", \"LastName\", \"Name\", \"Email\", \"Alias\",
                \"TimeZoneSidKey\", \"LastModifiedDate\", \"IsActive\"
         FROM \"User\" WHERE \"Id\" = ?1",
        [user_id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, bool>(8)?,
            ))
        },
    )?;
    let (username, first, last, name, email, alias, tz, modified, active) = row;
    let org_id = &org.org_id;
    let v = crate::http::LATEST_VERSION;
    let urls = json!({
        "enterprise": format!("{base}/services/Soap/c/{{version}}/{org_id}"),
        "partner": format!("{base}/services/Soap/u/{{version}}/{org_id}"),
        "rest": format!("{base}/services/data/v{{version}}/"),
        "sobjects": format!("{base}/services/data/v{{version}}/sobjects/"),
        "search": format!("{base}/services/data/v{{version}}/search/"),
        "query": format!("{base}/services/data/v{{version}}/query/"),
        "profile": format!("{base}/{user_id}"),
        "custom_domain": base,
    });
    Ok(json!({
        "id": format!("{base}/id/{org_id}/{user_id}"),
        "sub": format!("{base}/id/{org_id}/{user_id}"),
        "asserted_user": true,
        "user_id": user_id,
        "organization_id": org_id,
        "username": username,
        "preferred_username": username,
        "nick_name": alias,
        "nickname": alias,
        "display_name": name,
        "name": name,
        "given_name": first,
        "family_name": last,
        "email": email,
        "email_verified": true,
        "zoneinfo": tz,
        "locale": "en_US",
        "language": "en_US",
        "utcOffset": 0,
        "active": active,
        "user_type": "STANDARD",
        "is_app_installed": true,
        "updated_at": modified,
        "last_modified_date": modified,
        "api_version": format!("{v}.0"),
        "urls": urls,
    }))
}

/// `GET /services/oauth2/userinfo`.
pub async fn userinfo(State(org): State<AppState>, headers: HeaderMap) -> Response {
    let principal = match authenticate(&org, &headers) {
        Ok(p) => p,
        Err(_) => {
            return (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response();
        }
    };
    match identity(&org, &base_url(&org, &headers), &principal.user_id) {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /id/{orgId}/{userId}`: the identity URL a token response names.
pub async fn identity_url(
    State(org): State<AppState>,
    headers: HeaderMap,
    Path((org_id, user_id)): Path<(String, String)>,
) -> Response {
    let principal = match authenticate(&org, &headers) {
        Ok(p) => p,
        Err(_) => return (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response(),
    };
    if org_id != org.org_id && org_id != org.org_id15() {
        return (StatusCode::NOT_FOUND, "Bad_Id").into_response();
    }
    let user_id = salesforce::SfId::parse(&user_id).map(|i| i.to_string()).unwrap_or(user_id);
    if user_id != principal.user_id && !principal.admin {
        return (StatusCode::FORBIDDEN, "Bad_Id").into_response();
    }
    match identity(&org, &base_url(&org, &headers), &user_id) {
        Ok(v) => Json(v).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "Bad_Id").into_response(),
    }
}

/// `POST /services/oauth2/revoke`.
pub async fn revoke(
    State(org): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let Some(token) = form.get("token").or_else(|| query.get("token")) else {
        return oauth_error("unsupported_token_type", "this token type is not supported");
    };
    match auth::revoke(&org.db(), token) {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => oauth_error("invalid_token", "invalid token"),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}
