//! `ServiceAppointment.ParentRecordId` points at an Account, an Asset, a WorkOrder or a
//! WorkOrderLineItem, as in Salesforce: writes, sharing, describe and SOQL through the
//! `Name` object.

mod common;

use common::*;
use devorg::Sharing;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Runs a query and returns its status and body, whatever the status.
async fn query_answer(api: &Api, soql: &str) -> (StatusCode, Value) {
    let resp = api
        .http
        .get(api.url("/query"))
        .query(&[("q", soql)])
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

fn url(object: &str, id: &str) -> String {
    format!("/services/data/{V}/sobjects/{object}/{id}")
}

fn subjects(body: &Value) -> Vec<&str> {
    body["records"].as_array().unwrap().iter().map(|r| r["Subject"].as_str().unwrap()).collect()
}

/// One parent of each kind, with one appointment under each (created by the admin, so that
/// only the parent decides who else sees it).
struct Parents {
    account: String,
    asset: String,
    work_order: String,
    line_item: String,
}

async fn parents_with_visits(owner: &Api, boss: &Api) -> Parents {
    let account = owner.create("Account", json!({"Name": "Acme"})).await;
    let asset = owner.create("Asset", json!({"Name": "Pump 7", "AccountId": account})).await;
    let work_order = owner.create("WorkOrder", json!({"Subject": "Fix pump"})).await;
    let line_item = owner
        .create("WorkOrderLineItem", json!({"WorkOrderId": work_order, "Subject": "Seal"}))
        .await;
    for (parent, subject) in [
        (&account, "at account"),
        (&asset, "at asset"),
        (&work_order, "at work order"),
        (&line_item, "at line item"),
    ] {
        boss.create("ServiceAppointment", json!({"ParentRecordId": parent, "Subject": subject}))
            .await;
    }
    Parents { account, asset, work_order, line_item }
}

#[tokio::test]
async fn appointments_hang_under_any_parent_and_read_it_through_the_name_object() {
    let org = start().await;
    let boss = admin(&org).await;
    let p = parents_with_visits(&boss, &boss).await;

    // Either id form is accepted and stored in the 18-character form.
    let short = &p.work_order[..15];
    let sa = boss
        .create("ServiceAppointment", json!({"ParentRecordId": short, "Subject": "short id"}))
        .await;
    let (_, record) = boss.get(&format!("/sobjects/ServiceAppointment/{sa}")).await;
    assert_eq!(record["ParentRecordId"], p.work_order.as_str());

    let (_, wo) = boss.get(&format!("/sobjects/WorkOrder/{}", p.work_order)).await;
    let (_, li) = boss.get(&format!("/sobjects/WorkOrderLineItem/{}", p.line_item)).await;
    let body = boss
        .query("SELECT Subject, ParentRecord.Name, ParentRecord.Type FROM ServiceAppointment ORDER BY Subject")
        .await;
    let records = body["records"].as_array().unwrap();
    assert_eq!(
        subjects(&body),
        ["at account", "at asset", "at line item", "at work order", "short id"]
    );
    // Salesforce's shape: the parent's type is `Name`, its url names the real object.
    assert_eq!(
        records[0],
        json!({
            "attributes": {"type": "ServiceAppointment", "url": records[0]["attributes"]["url"]},
            "Subject": "at account",
            "ParentRecord": {
                "attributes": {"type": "Name", "url": url("Account", &p.account)},
                "Name": "Acme",
                "Type": "Account",
            },
        })
    );
    assert_eq!(records[1]["ParentRecord"]["Name"], "Pump 7");
    assert_eq!(records[1]["ParentRecord"]["Type"], "Asset");
    // Work orders and their line items are named by their auto-numbers.
    assert_eq!(
        records[2]["ParentRecord"],
        json!({
            "attributes": {"type": "Name", "url": url("WorkOrderLineItem", &p.line_item)},
            "Name": li["LineItemNumber"],
            "Type": "WorkOrderLineItem",
        })
    );
    assert_eq!(records[3]["ParentRecord"]["Name"], wo["WorkOrderNumber"]);
    assert_eq!(records[3]["ParentRecord"]["Type"], "WorkOrder");

    // WHERE on the parent's type (compared without case) and name.
    let body = boss
        .query("SELECT Subject FROM ServiceAppointment WHERE ParentRecord.Type = 'account'")
        .await;
    assert_eq!(subjects(&body), ["at account"]);
    let body = boss.query("SELECT Subject FROM ServiceAppointment WHERE ParentRecord.Type IN ('Asset', 'WorkOrderLineItem') ORDER BY Subject").await;
    assert_eq!(subjects(&body), ["at asset", "at line item"]);
    let body = boss
        .query("SELECT Subject FROM ServiceAppointment WHERE ParentRecord.Name = 'pump 7'")
        .await;
    assert_eq!(subjects(&body), ["at asset"]);
    let body = boss
        .query("SELECT ParentRecord.Id FROM ServiceAppointment WHERE ParentRecord.Type = 'Account'")
        .await;
    assert_eq!(body["records"][0]["ParentRecord"]["Id"], p.account.as_str());

    // Each parent lists its appointments as a child relationship.
    let body =
        boss.query("SELECT Name, (SELECT Subject FROM ServiceAppointments) FROM Asset").await;
    assert_eq!(body["records"][0]["ServiceAppointments"]["records"][0]["Subject"], "at asset");

    // Deleting a parent deletes its appointments.
    assert_eq!(
        boss.delete(&format!("/sobjects/Account/{}", p.account)).await.0,
        StatusCode::NO_CONTENT
    );
    let body = boss
        .query("SELECT Subject FROM ServiceAppointment WHERE ParentRecord.Type = 'Account'")
        .await;
    assert_eq!(body["totalSize"], 0);
}

#[tokio::test]
async fn fields_off_the_name_object_are_invalid() {
    let org = start().await;
    let boss = admin(&org).await;
    for soql in [
        "SELECT ParentRecord.Subject FROM ServiceAppointment",
        "SELECT Id FROM ServiceAppointment WHERE ParentRecord.Status = 'New'",
        "SELECT ParentRecord.Account.Name FROM ServiceAppointment",
    ] {
        let (status, body) = query_answer(&boss, soql).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{soql}");
        assert_eq!(error_code(&body), "INVALID_FIELD", "{soql}");
    }
    let (_, body) =
        query_answer(&boss, "SELECT ParentRecord.Subject FROM ServiceAppointment").await;
    assert!(
        body[0]["message"].as_str().unwrap().contains("No such column 'Subject' on entity 'Name'")
    );
}

#[tokio::test]
async fn a_parent_must_be_a_live_record_of_one_of_the_targets() {
    let org = start().await;
    let boss = admin(&org).await;
    let contact = boss.create("Contact", json!({"LastName": "Not a parent"})).await;
    let create = |parent: &str| {
        let body = json!({"ParentRecordId": parent, "Subject": "visit"});
        let boss = &boss;
        async move { boss.post("/sobjects/ServiceAppointment", body).await }
    };

    // Ids of a target that name no record, in either form.
    for missing in ["001000000000000AAA", "0WO000000000000", "02i000000000000AAA"] {
        let (status, body) = create(missing).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error_code(&body), "INVALID_CROSS_REFERENCE_KEY", "{missing}");
        assert_eq!(body[0]["fields"], json!(["ParentRecordId"]));
    }
    // An existing record of an object the field cannot point at is the wrong type, and
    // text that is no id is malformed, as Salesforce answers.
    let (_, body) = create(&contact).await;
    assert_eq!(error_code(&body), "FIELD_INTEGRITY_EXCEPTION");
    let (_, body) = create("not-an-id").await;
    assert_eq!(error_code(&body), "MALFORMED_ID");
    let (_, body) = boss.post("/sobjects/ServiceAppointment", json!({"Subject": "orphan"})).await;
    assert_eq!(error_code(&body), "REQUIRED_FIELD_MISSING");
}

#[tokio::test]
async fn a_parent_by_external_id_names_its_object() {
    let org = start().await;
    let boss = admin(&org).await;
    let wo = boss.create("WorkOrder", json!({"Subject": "s", "External_Id__c": "WO-1"})).await;
    let by_key = |key: Value| json!({"ParentRecord": key, "Subject": "visit"});
    let sa = boss
        .create(
            "ServiceAppointment",
            by_key(json!({"attributes": {"type": "WorkOrder"}, "External_Id__c": "WO-1"})),
        )
        .await;
    let (_, record) = boss.get(&format!("/sobjects/ServiceAppointment/{sa}")).await;
    assert_eq!(record["ParentRecordId"], wo.as_str());

    // Without its object, or with one the field cannot point at, the key is refused.
    for key in [
        json!({"External_Id__c": "WO-1"}),
        json!({"attributes": {"type": "Contact"}, "External_Id__c": "WO-1"}),
    ] {
        let (status, body) = boss.post("/sobjects/ServiceAppointment", by_key(key)).await;
        assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "INVALID_FIELD"));
    }
}

#[tokio::test]
async fn a_technician_sees_an_appointment_when_they_see_its_parent() {
    let org = start().await;
    let boss = admin(&org).await;
    let t1 = login(&org, "tech1@field.example").await;
    let t2 = login(&org, "tech2@field.example").await;

    // Accounts and assets are open by default: their appointments are seen by everyone;
    // tech1's work order (private) keeps its own from tech2.
    let p = parents_with_visits(&t1, &boss).await;
    let everyone = "SELECT Subject FROM ServiceAppointment ORDER BY Subject";
    assert_eq!(subjects(&t2.query(everyone).await), ["at account", "at asset"]);

    org.admin().set_sharing("Account", Sharing::Private).unwrap();
    org.admin().set_sharing("Asset", Sharing::Private).unwrap();
    assert_eq!(t2.query(everyone).await["totalSize"], 0);
    assert_eq!(t1.query(everyone).await["totalSize"], 4);

    // Each parent handed to tech2 brings its appointments along, and only those; a line
    // item follows its work order.
    let tech2 = org.admin().user_id("tech2@field.example").unwrap();
    let give = |object: &'static str, id: String| {
        let t1 = &t1;
        let tech2 = tech2.clone();
        async move {
            let (status, body) =
                t1.patch(&format!("/sobjects/{object}/{id}"), json!({"OwnerId": tech2})).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
    };
    give("Account", p.account.clone()).await;
    assert_eq!(subjects(&t2.query(everyone).await), ["at account"]);
    give("Asset", p.asset.clone()).await;
    assert_eq!(subjects(&t2.query(everyone).await), ["at account", "at asset"]);
    give("WorkOrder", p.work_order.clone()).await;
    assert_eq!(
        subjects(&t2.query(everyone).await),
        ["at account", "at asset", "at line item", "at work order"]
    );
    assert_eq!(t1.query(everyone).await["totalSize"], 0);

    // Every endpoint agrees: retrieve, parent paths, child subqueries and semi-joins.
    let body = t2.query("SELECT Id, ParentRecord.Type FROM ServiceAppointment WHERE ParentRecord.Type = 'Asset'").await;
    let sa = body["records"][0]["Id"].as_str().unwrap().to_owned();
    assert_eq!(t2.get(&format!("/sobjects/ServiceAppointment/{sa}")).await.0, StatusCode::OK);
    let (status, body) = t1.get(&format!("/sobjects/ServiceAppointment/{sa}")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let body = t1
        .query("SELECT Id FROM Asset WHERE Id IN (SELECT ParentRecordId FROM ServiceAppointment)")
        .await;
    assert_eq!(body["totalSize"], 0);
    let body = t2.query("SELECT Id, (SELECT Subject FROM ServiceAppointments) FROM Account").await;
    assert_eq!(body["records"][0]["ServiceAppointments"]["totalSize"], 1);

    // A parent the user cannot edit cannot take a new appointment.
    let (status, body) = t1
        .post("/sobjects/ServiceAppointment", json!({"ParentRecordId": p.account, "Subject": "x"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY");
    t2.create("ServiceAppointment", json!({"ParentRecordId": p.line_item, "Subject": "again"}))
        .await;
}

#[tokio::test]
async fn describe_lists_every_target_of_a_polymorphic_lookup() {
    let org = start().await;
    let boss = admin(&org).await;
    let (status, body) = boss.get("/sobjects/ServiceAppointment/describe").await;
    assert_eq!(status, StatusCode::OK);
    let field = |name: &str| {
        body["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap().clone()
    };
    let parent = field("ParentRecordId");
    assert_eq!(
        parent["referenceTo"],
        json!(["Account", "Asset", "WorkOrder", "WorkOrderLineItem"])
    );
    assert_eq!(parent["relationshipName"], "ParentRecord");
    assert_eq!(parent["polymorphicForeignKey"], true);
    assert_eq!(parent["namePointing"], true);
    let technician = field("Technician__c");
    assert_eq!(technician["referenceTo"], json!(["User"]));
    assert_eq!(technician["polymorphicForeignKey"], false);
    assert_eq!(technician["namePointing"], false);

    for parent in ["Account", "Asset", "WorkOrder", "WorkOrderLineItem"] {
        let (_, body) = boss.get(&format!("/sobjects/{parent}/describe")).await;
        let children = body["childRelationships"].as_array().unwrap();
        assert!(
            children.iter().any(|c| c["childSObject"] == "ServiceAppointment"
                && c["field"] == "ParentRecordId"
                && c["relationshipName"] == "ServiceAppointments"
                && c["cascadeDelete"] == true),
            "{parent}"
        );
    }
}
