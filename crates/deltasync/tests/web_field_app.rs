//! The field web app in a real browser: Debian's Chromium at phone size in the
//! Asia/Kolkata time zone (UTC+5:30, no summer time), driven through ChromeDriver, against
//! devorg in-process and a real store. Each step saves a screenshot under
//! `target/screenshots/`.

mod support;

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;
use support::field::{Field, PRODUCTS, TECH1, XSS};
use support::webdriver::Browser;

/// The browser's time zone, and its offset from UTC.
const ZONE: &str = "Asia/Kolkata";
const ZONE_OFFSET_SECS: i32 = 5 * 3600 + 30 * 60;

fn in_zone(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&FixedOffset::east_opt(ZONE_OFFSET_SECS).expect("a valid offset"))
}

/// The value of element `id` in the page.
const VALUE_OF: &str = "return document.getElementById(arguments[0]).value";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_day_in_the_browser() -> anyhow::Result<()> {
    let mut f = Field::start().await?;
    let b = Browser::start_in_zone(Some(ZONE)).await?;
    let base = f.base.clone();

    // 1. Home shows the counts and the next sync once priming is done.
    f.wait_synced().await?;
    b.goto(&f.url).await?;
    b.wait_for_text("Online", 15).await?;
    let wo_count = b
        .script("return document.querySelector('[data-object=\"WorkOrder\"]').textContent")
        .await?;
    assert_eq!(wo_count, json!("2"), "two work orders are on the device");
    let next = b.text(&b.find("#next-sync").await?).await?;
    assert!(next.contains("in "), "the next sync is due in the future: {next}");
    assert!(!next.contains("UTC"), "the script shows the time in the browser's zone: {next}");
    assert!(b.body_text().await?.contains(TECH1));
    b.screenshot("web-01-home").await?;

    // 2. Open a work order, edit a field, add a line item under it.
    b.goto(&format!("{base}/records/WorkOrder")).await?;
    b.wait_for_text("Fix pump", 5).await?;
    b.screenshot("web-02-work-orders").await?;
    b.click(&b.find(&format!("a[href='/records/WorkOrder/{}']", f.seeded.wo)).await?).await?;
    b.wait_for_text("Seal", 5).await?;
    b.wait_for_text("Acme Pumps", 5).await?;
    b.wait_for_text("Pump #1", 5).await?;
    b.wait_for_text("Visit", 5).await?;
    b.screenshot("web-03-work-order").await?;
    b.click(&b.find("a[href$='/edit']").await?).await?;
    // The form follows the describe: labels, the auto-number read-only, Status offering
    // the org's active values only.
    b.wait_for_text("Work Order Number (read-only)", 5).await?;
    let number = b
        .script(
            "var i = document.getElementById('field-WorkOrderNumber'); \
             return [i.readOnly, i.hasAttribute('name'), i.value]",
        )
        .await?;
    assert_eq!(
        (&number[0], &number[1]),
        (&json!(true), &json!(false)),
        "read-only, never sent: {number}"
    );
    assert_ne!(number[2], json!(""), "the work order has its number");
    let typed = b.fill(&b.find("#field-WorkOrderNumber").await?, "99999").await;
    let after = b.script_with(VALUE_OF, json!(["field-WorkOrderNumber"])).await?;
    assert_eq!(after, number[2], "typing into a read-only field changes nothing ({typed:?})");
    let options = b
        .script("return Array.from(document.querySelectorAll('#field-Status option')).map(function (o) { return o.value; })")
        .await?;
    assert_eq!(
        options,
        json!(["", "New", "In Progress", "On Hold", "Completed", "Closed", "Canceled"]),
        "the picklist offers the describe's values"
    );
    let subject = b.find("#field-Subject").await?;
    b.fill(&subject, "Fix pump and seal").await?;
    b.screenshot("web-04-edit").await?;
    // A value the picklist does not offer, forced into the page, is refused by the
    // engine's validation with the field named.
    b.script(
        "var s = document.getElementById('field-Status'); var o = document.createElement('option'); \
         o.value = 'Bogus'; o.text = 'Bogus'; s.appendChild(o); s.value = 'Bogus'; return s.value",
    )
    .await?;
    b.click(&b.find("form.record-form button[type=submit]").await?).await?;
    b.wait_for_text("Please fix the fields marked below.", 5).await?;
    let err = b.text(&b.find("#err-Status").await?).await?;
    assert_eq!(
        err,
        "Status: 'Bogus' is not one of: New, In Progress, On Hold, Completed, Closed, Canceled"
    );
    assert_eq!(
        b.script_with(VALUE_OF, json!(["field-Subject"])).await?,
        json!("Fix pump and seal"),
        "the typed values stay in the refused form"
    );
    assert_eq!(
        b.script_with(VALUE_OF, json!(["field-WorkOrderNumber"])).await?,
        number[2],
        "the refused form still shows the read-only number"
    );
    b.screenshot("web-04b-refused-picklist").await?;
    b.script("document.getElementById('field-Status').value = 'In Progress'; return true").await?;
    b.click(&b.find("form.record-form button[type=submit]").await?).await?;
    b.wait_for_text("Fix pump and seal", 5).await?;
    b.wait_for_text("In Progress", 5).await?;
    b.wait_for_text("change waiting to upload", 5).await?;
    b.click(&b.find("a[href^='/records/WorkOrderLineItem/new']").await?).await?;
    let chosen = b.script("return document.getElementById('field-WorkOrderId').value").await?;
    assert_eq!(chosen, json!(f.seeded.wo), "the new line item belongs to the work order");
    let status = b.script_with(VALUE_OF, json!(["field-Status"])).await?;
    assert_eq!(status, json!("New"), "the describe's default is chosen");
    b.fill(&b.find("#field-Subject").await?, "New gasket").await?;
    b.click(&b.find("form.record-form button[type=submit]").await?).await?;
    b.wait_for_text("New gasket", 5).await?;
    b.screenshot("web-05-new-line-item").await?;

    // A required field left empty is refused beside the field, named as the CLI names it.
    b.goto(&format!("{base}/records/WorkOrderLineItem/new")).await?;
    b.fill(&b.find("#field-Subject").await?, "Orphan").await?;
    b.click(&b.find("form.record-form button[type=submit]").await?).await?;
    b.wait_for_text("WorkOrderId: required", 5).await?;
    assert_eq!(b.text(&b.find("#err-WorkOrderId").await?).await?, "WorkOrderId: required");
    b.screenshot("web-06-refused").await?;

    // Lists page: more products than one page, walked forward and back.
    b.goto(&format!("{base}/records/Product2")).await?;
    b.wait_for_text("Products", 5).await?; // the describe's plural label
    b.wait_for_text(&format!("1–50 of {PRODUCTS} records"), 5).await?;
    let rows = b.script("return document.querySelectorAll('ul.records > li > a').length").await?;
    assert_eq!(rows, json!(50));
    b.wait_for_text("Page 1 of 2", 5).await?;
    b.click(&b.find("a[rel=next]").await?).await?;
    b.wait_for_text(&format!("51–{PRODUCTS} of {PRODUCTS} records"), 5).await?;
    b.wait_for_text("Page 2 of 2", 5).await?;
    let rows = b.script("return document.querySelectorAll('ul.records > li > a').length").await?;
    assert_eq!(rows, json!(PRODUCTS - 50));
    b.wait_for_text(&format!("Part {:03}", PRODUCTS - 1), 5).await?;
    assert!(!b.body_text().await?.contains("Part 000"), "page 2 does not repeat page 1");
    b.screenshot("web-06b-second-page").await?;
    b.click(&b.find("a[rel=prev]").await?).await?;
    b.wait_for_text("Part 000", 5).await?;

    b.goto(&format!("{base}/pending")).await?;
    b.wait_for_text("Fix pump and seal", 5).await?;
    b.wait_for_text("New gasket", 5).await?;
    b.wait_for_text("Waiting", 5).await?;
    b.screenshot("web-07-pending").await?;

    // 3. The org goes away: the app says offline, and the edits stay and stay searchable.
    f.stop_org().await;
    b.goto(&format!("{base}/")).await?;
    b.wait_for_text("Offline", 15).await?;
    b.screenshot("web-08-offline").await?;
    b.goto(&format!("{base}/records/WorkOrder?q=seal")).await?;
    b.wait_for_text("Fix pump and seal", 5).await?;
    let rows = b.script("return document.querySelectorAll('ul.records > li > a').length").await?;
    assert_eq!(rows, json!(1), "the search matches the edited work order only");
    b.wait_for_text("Pending", 5).await?;
    b.screenshot("web-09-offline-search").await?;

    // 4. The org comes back: the app goes online and uploads without a click; the
    // Pending screen empties by itself.
    b.goto(&format!("{base}/pending")).await?;
    b.wait_for_text("New gasket", 5).await?;
    f.restart_org().await?;
    b.wait_for_text("Online", 20).await?;
    b.wait_for_text("Everything is uploaded", 30).await?;
    b.screenshot("web-10-pending-empty").await?;
    b.goto(&format!("{base}/history")).await?;
    b.wait_for_text("Automatic upload", 10).await?;
    b.screenshot("web-11-history").await?;
    b.click(&b.find("a[data-kind='automatic']").await?).await?;
    b.wait_for_text("Changes uploaded", 5).await?;
    b.wait_for_text("Fix pump and seal", 5).await?;
    b.wait_for_text("New gasket", 5).await?;
    b.screenshot("web-12-upload-detail").await?;
    let server = f
        .org()
        .admin()
        .retrieve(TECH1, "WorkOrder", &f.seeded.wo)
        .map_err(|e| anyhow::anyhow!("retrieve: {e:?}"))?;
    assert_eq!(server["Subject"], json!("Fix pump and seal"), "the edit reached the org");

    // 5. A change on the server: Sync Now shows live progress and the sync's detail.
    f.org()
        .admin()
        .update(TECH1, "WorkOrder", &f.seeded.wo2, json!({"Subject": "Inspect valves"}))
        .map_err(|e| anyhow::anyhow!("server edit: {e:?}"))?;
    b.goto(&format!("{base}/")).await?;
    b.find("#sync-now").await?;
    b.script(
        "window.__phases = []; new MutationObserver(function () { \
           document.querySelectorAll('.phase').forEach(function (p) { \
             if (p.textContent) window.__phases.push(p.textContent); }); \
         }).observe(document.body, {subtree: true, childList: true, characterData: true}); \
         return true",
    )
    .await?;
    b.click(&b.find("#sync-now").await?).await?;
    b.wait_for_text("Sync complete. Next scheduled sync at", 20).await?;
    let phases = b.script("return window.__phases").await?;
    assert!(
        phases.as_array().is_some_and(|p| p
            .iter()
            .any(|t| t.as_str().is_some_and(|t| t.starts_with("Downloading")))),
        "live progress was shown: {phases}"
    );
    b.screenshot("web-13-synced").await?;
    b.goto(&format!("{base}/records/WorkOrder")).await?;
    b.wait_for_text("Inspect valves", 5).await?;
    b.goto(&format!("{base}/history")).await?;
    b.click(&b.find("a[data-kind='user']").await?).await?;
    b.wait_for_text("Records retrieved", 5).await?;
    // The detail names the record the server changed, with what happened to it.
    b.wait_for_text("Inspect valves\nWork Order\nUpdated", 5).await?;
    b.screenshot("web-14-history-detail").await?;

    // 6. A conflict: the same field changed here and on the server, settled field by
    // field in the browser.
    b.goto(&format!("{base}/records/WorkOrder/{}/edit", f.seeded.wo2)).await?;
    b.fill(&b.find("#field-Subject").await?, "Inspect valves and hoses").await?;
    b.click(&b.find("form.record-form button[type=submit]").await?).await?;
    b.wait_for_text("change waiting to upload", 5).await?;
    f.org()
        .admin()
        .update(TECH1, "WorkOrder", &f.seeded.wo2, json!({"Subject": "Inspect all valves"}))
        .map_err(|e| anyhow::anyhow!("server edit: {e:?}"))?;
    let seq = f
        .handle
        .store()
        .read(|r| r.pending_for_record("WorkOrder", &f.seeded.wo2))?
        .expect("the edit is queued")
        .seq;
    b.goto(&format!("{base}/")).await?;
    b.click(&b.find("#sync-now").await?).await?;
    b.wait_for_text("Next scheduled sync at", 20).await?;
    b.goto(&format!("{base}/pending")).await?;
    b.wait_for_text("Conflict", 5).await?;
    b.wait_for_text("Inspect all valves", 5).await?;
    b.screenshot("web-15-conflict").await?;
    b.click(&b.find(&format!("li[data-seq='{seq}'] input[value='server']")).await?).await?;
    b.click(&b.find(&format!("li[data-seq='{seq}'] form.conflict button")).await?).await?;
    b.wait_for_no_text("Inspect valves and hoses", 5).await?;
    b.goto(&format!("{base}/records/WorkOrder/{}", f.seeded.wo2)).await?;
    b.wait_for_text("Inspect all valves", 5).await?;
    b.screenshot("web-16-resolved").await?;

    // 7. Times are shown in the browser's zone, and a time typed there is stored in UTC.
    let stored = f
        .handle
        .store()
        .read(|r| r.get_record("ServiceAppointment", &f.seeded.appointment))?
        .expect("the appointment is on the device");
    let start = salesforce::time::parse_datetime(stored["SchedStartTime"].as_str().unwrap())?;
    b.goto(&format!("{base}/records/ServiceAppointment/{}", f.seeded.appointment)).await?;
    b.wait_for_text("Visit", 5).await?;
    b.wait_for_text("Scheduled Start", 5).await?; // the describe's label
    let shown = b
        .script("return document.querySelector('[data-field=SchedStartTime] time').textContent")
        .await?;
    assert_eq!(shown, json!(in_zone(start).format("%-d %b %Y %H:%M").to_string()));
    b.screenshot("web-17-local-time").await?;
    b.click(&b.find("a[href$='/edit']").await?).await?;
    b.wait_for_text("Scheduled Start (Asia/", 5).await?;
    let zone = b.text(&b.find("[data-tz-label]").await?).await?;
    // ICU still names the zone by its older name.
    assert!(["(Asia/Kolkata)", "(Asia/Calcutta)"].contains(&zone.as_str()), "{zone}");
    let input = b.script_with(VALUE_OF, json!(["field-SchedStartTime"])).await?;
    assert_eq!(input, json!(in_zone(start).format("%Y-%m-%dT%H:%M").to_string()));
    let local_day = in_zone(start).date_naive();
    b.script_with(
        "document.getElementById('field-SchedStartTime').value = arguments[0]; return true",
        json!([format!("{local_day}T09:00")]),
    )
    .await?;
    b.screenshot("web-18-edit-local-time").await?;
    b.click(&b.find("form.record-form button[type=submit]").await?).await?;
    b.wait_for_text("09:00", 5).await?;
    let saved = f
        .handle
        .store()
        .read(|r| r.get_record("ServiceAppointment", &f.seeded.appointment))?
        .expect("the appointment is on the device");
    assert_eq!(
        saved["SchedStartTime"],
        json!(format!("{local_day}T03:30:00.000+0000")),
        "09:00 in Kolkata is 03:30 UTC"
    );

    // The probe record named like a script renders as text.
    b.goto(&format!("{base}/records/Account")).await?;
    b.wait_for_text(XSS, 5).await?;
    b.goto(&format!("{base}/records/Account/{}", f.seeded.account)).await?;
    b.wait_for_text("Acme Pumps", 5).await?;
    b.goto(&format!("{base}/records/WorkOrder/{}", f.seeded.wo2)).await?;
    b.wait_for_text(XSS, 5).await?;
    assert_eq!(b.open_alert().await, None, "no script ran");
    let scripts = b.script("return document.scripts.length").await?;
    assert_eq!(scripts, json!(1), "only the app's own script is on the page");
    b.screenshot("web-19-xss-probe").await?;

    // 8. A record the server deleted while it was edited here is created again from the
    // browser, with the device's values.
    b.goto(&format!("{base}/records/WorkOrder/{}/edit", f.seeded.wo2)).await?;
    b.fill(&b.find("#field-Subject").await?, "Replace the pump").await?;
    b.click(&b.find("form.record-form button[type=submit]").await?).await?;
    b.wait_for_text("change waiting to upload", 5).await?;
    f.org()
        .admin()
        .delete(TECH1, "WorkOrder", &f.seeded.wo2)
        .map_err(|e| anyhow::anyhow!("server delete: {e:?}"))?;
    b.goto(&format!("{base}/")).await?;
    b.click(&b.find("#sync-now").await?).await?;
    b.wait_for_text("Next scheduled sync at", 20).await?;
    b.goto(&format!("{base}/pending")).await?;
    b.wait_for_text("deleted on the server while you edited it", 5).await?;
    b.screenshot("web-20-deleted-on-server").await?;
    b.click(&b.find("form[action$='/recreate'] button").await?).await?;
    b.wait_for_text("Everything is uploaded", 30).await?;
    let on_server: i64 = f.org().admin().with_db(|db| {
        db.query_row(
            "SELECT count(*) FROM \"WorkOrder\" WHERE \"Subject\" = 'Replace the pump' \
             AND \"IsDeleted\" = 0",
            [],
            |r| r.get(0),
        )
    })?;
    assert_eq!(on_server, 1, "created again once, with the device's values");

    b.goto(&format!("{base}/schedule")).await?;
    b.wait_for_text("every 15 min", 5).await?;
    b.screenshot("web-21-schedule").await?;

    b.quit().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}
