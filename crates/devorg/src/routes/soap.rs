//! The SOAP partner API's `login` call, which jsforce's `Connection.login` and older
//! tools use to get a session. Only `login` is answered; every other SOAP call is a fault.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth;
use crate::db;
use crate::http::{AppState, api_version, base_url};

/// The client id recorded for sessions that began with a SOAP login.
const SOAP_CLIENT: &str = "soap-login";

/// The text of the first `<name>` element (any namespace prefix), XML-unescaped.
fn element(xml: &str, name: &str) -> Option<String> {
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let local = tag.rsplit(':').next().unwrap_or(tag);
        if local == name {
            let body = &rest[end + 1..];
            let close = body.find("</")?;
            return Some(unescape(&body[..close]));
        }
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")], body).into_response()
}

fn fault(code: &str, message: &str) -> Response {
    xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:sf=\"urn:fault.partner.soap.sforce.com\"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
            escape(message)
        ),
    )
}

/// `POST /services/Soap/u/{version}`.
pub async fn partner(
    State(org): State<AppState>,
    headers: HeaderMap,
    Path(p): Path<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let version = p.get("version").map(String::as_str).unwrap_or("");
    let Ok(version) = api_version(&format!("v{version}")) else {
        return fault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL");
    };
    let text = String::from_utf8_lossy(&body);
    if element(&text, "login").is_none() && !text.contains(":login") && !text.contains("<login") {
        return fault("INVALID_OPERATION", "Only login is supported by this org");
    }
    let username = element(&text, "username").unwrap_or_default();
    let password = element(&text, "password").unwrap_or_default();

    let now_ms = org.clock.now().timestamp_millis();
    let ttl_ms = org.config.token_ttl.as_millis() as i64;
    let conn = org.db();
    let user_id = match db::find_user(&conn, &username) {
        Ok(Some((id, hash))) if auth::hash_password(&id, &password) == hash => id,
        _ => {
            return fault(
                "INVALID_LOGIN",
                "Invalid username, password, security token; or user locked out.",
            );
        }
    };
    let grant =
        match auth::issue(&conn, org.org_id15(), &user_id, SOAP_CLIENT, now_ms, ttl_ms, false) {
            Ok(g) => g,
            Err(e) => return fault("UNKNOWN_EXCEPTION", &e.to_string()),
        };
    drop(conn);
    let base = base_url(&org, &headers);
    let org_id = &org.org_id;
    let ttl_secs = org.config.token_ttl.as_secs();
    xml(
        StatusCode::OK,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns=\"urn:partner.soap.sforce.com\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body><loginResponse><result>\
<metadataServerUrl>{base}/services/Soap/m/{version}/{org_id}</metadataServerUrl>\
<passwordExpired>false</passwordExpired><sandbox>false</sandbox>\
<serverUrl>{base}/services/Soap/u/{version}/{org_id}</serverUrl>\
<sessionId>{}</sessionId><userId>{user_id}</userId>\
<userInfo><organizationId>{org_id}</organizationId><organizationName>devorg</organizationName>\
<sessionSecondsValid>{ttl_secs}</sessionSecondsValid><userId>{user_id}</userId>\
<userName>{}</userName></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>",
            escape(&grant.access_token),
            escape(&username),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_found_under_any_prefix() {
        let x = "<se:Envelope><se:Body><n1:login><n1:username>a&amp;b</n1:username><password>p</password></n1:login></se:Body></se:Envelope>";
        assert_eq!(element(x, "username").as_deref(), Some("a&b"));
        assert_eq!(element(x, "password").as_deref(), Some("p"));
        assert_eq!(element(x, "missing"), None);
    }
}
