//! The web app's front door over plain HTTP: no session secret, a foreign Host or a POST
//! without its CSRF token all get 403, and every asset sits behind the same guard; a
//! forged form is checked by the engine's edit validation all the same.

mod support;

use reqwest::header::{COOKIE, HOST, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use support::field::Field;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_turned_away() -> anyhow::Result<()> {
    let f = Field::start().await?;
    f.wait_synced().await?;
    let http = reqwest::Client::builder().redirect(Policy::none()).build()?;
    let base = &f.base;

    // The session link sets the cookie and drops the key from the address.
    let first = http.get(&f.url).send().await?;
    assert_eq!(first.status(), 303);
    assert_eq!(first.headers()[LOCATION], "/");
    let cookie = first.headers()[SET_COOKIE].to_str()?.split(';').next().unwrap().to_string();
    assert!(first.headers()[SET_COOKIE].to_str()?.contains("HttpOnly"));

    for path in
        ["/", "/events", "/assets/app.js", "/assets/app.css", "/pending", "/records/WorkOrder"]
    {
        let resp = http.get(format!("{base}{path}")).send().await?;
        assert_eq!(resp.status(), 403, "{path} without the session");
    }
    let wrong_key = http.get(format!("{base}/?key=nope")).send().await?;
    assert_eq!(wrong_key.status(), 403);

    let home = http.get(format!("{base}/")).header(COOKIE, &cookie).send().await?;
    assert_eq!(home.status(), 200);
    let csp = home.headers()["content-security-policy"].to_str()?.to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = home.text().await?;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries a CSRF token")
        .to_string();

    let foreign = http
        .get(format!("{base}/"))
        .header(COOKIE, &cookie)
        .header(HOST, "evil.example")
        .send()
        .await?;
    assert_eq!(foreign.status(), 403, "a foreign Host is refused");

    let no_csrf = http
        .post(format!("{base}/sync"))
        .header(COOKIE, &cookie)
        .form(&[("x", "1")])
        .send()
        .await?;
    assert_eq!(no_csrf.status(), 403, "a POST without its token is refused");
    let bad_csrf = http
        .post(format!("{base}/sync"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", "0000")])
        .send()
        .await?;
    assert_eq!(bad_csrf.status(), 403);
    let ok = http
        .post(format!("{base}/sync"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await?;
    assert_eq!(ok.status(), 303, "the real token passes");

    // Saves go through the engine's validation: a read-only field and a value the
    // picklist does not offer are refused with the fields named, and nothing is queued.
    let queued = || f.handle.store().read(|r| r.pending_changes(&Default::default()));
    let before = queued()?.len();
    let forged = http
        .post(format!("{base}/records/WorkOrder/{}", f.seeded.wo))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str()), ("f.WorkOrderNumber", "00099"), ("f.Status", "Bogus")])
        .send()
        .await?;
    assert_eq!(forged.status(), 422);
    let body = forged.text().await?;
    assert!(body.contains("WorkOrderNumber: cannot be changed"), "{body}");
    assert!(body.contains("Status: 'Bogus' is not one of: New, In Progress"), "{body}");
    assert_eq!(queued()?.len(), before, "a refused edit queues nothing");
    let created = http
        .post(format!("{base}/records/Account"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str()), ("f.Name", ""), ("f.Phone", "555")])
        .send()
        .await?;
    assert_eq!(created.status(), 422);
    assert!(created.text().await?.contains("Name: required"), "a required field is named");

    // Search text goes into the query as a literal, never as SOQL.
    let probe = http
        .get(format!("{base}/records/Account"))
        .query(&[("q", "' OR Name != '"), ("sort", "Name; DROP")])
        .header(COOKIE, &cookie)
        .send()
        .await?;
    assert_eq!(probe.status(), 200);
    assert!(probe.text().await?.contains("No records match."));

    // The probe record is escaped in the markup.
    let accounts =
        http.get(format!("{base}/records/Account")).header(COOKIE, &cookie).send().await?;
    let body = accounts.text().await?;
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name is escaped: {body}");
    assert!(!body.contains("<script>alert(1)"), "the name is never markup");
    Ok(())
}
