//! Decoding recorded answers and encoding request bodies.

use super::*;
use serde_json::json;

#[test]
fn query_page_with_parent_and_children() {
    let body = r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gD0000002HU6KIAW-2000",
      "records":[{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001D000000IqhSLIAZ"},
        "Id":"001D000000IqhSLIAZ","Name":"Acme","Owner":{"attributes":{"type":"User"},"Name":"Ann"},
        "Contacts":{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Contact"},"Id":"003D000000QV9n2IAD"}]}}]}"#;
    let page: QueryResult = serde_json::from_str(body).unwrap();
    assert_eq!(page.total_size, 3);
    assert!(!page.done);
    assert_eq!(
        page.next_records_url.as_deref(),
        Some("/services/data/v62.0/query/01gD0000002HU6KIAW-2000")
    );
    let record = &page.records[0];
    assert_eq!(record_type(record), Some("Account"));
    let children: QueryResult = serde_json::from_value(record["Contacts"].clone()).unwrap();
    assert_eq!(children.records.len(), 1);
    assert!(children.next_records_url.is_none());
}

#[test]
fn last_page_omits_next_url_on_output() {
    let page = QueryResult { total_size: 0, done: true, next_records_url: None, records: vec![] };
    assert_eq!(
        serde_json::to_string(&page).unwrap(),
        r#"{"totalSize":0,"done":true,"records":[]}"#
    );
}

#[test]
fn error_array_with_and_without_fields() {
    let body = r#"[{"message":"No such column 'Nme' on entity 'Account'","errorCode":"INVALID_FIELD"},
                   {"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]"#;
    let errors: Vec<ApiError> = serde_json::from_str(body).unwrap();
    assert_eq!(errors[0].error_code, "INVALID_FIELD");
    assert_eq!(errors[0].fields, None);
    assert_eq!(errors[1].fields.as_deref(), Some(&["Name".to_string()][..]));
    let out = serde_json::to_value(ApiError::new("NOT_FOUND", "gone")).unwrap();
    assert_eq!(out, json!({"message":"gone","errorCode":"NOT_FOUND"}));
}

#[test]
fn collection_results_in_order() {
    let body = r#"[{"id":"001D000000IqhSLIAZ","success":true,"errors":[]},
                   {"success":false,"errors":[{"statusCode":"DUPLICATE_VALUE","message":"duplicate","fields":["Ext__c"]}]},
                   {"id":"001D000000IqhSMIAZ","success":true,"errors":[],"created":false}]"#;
    let results: Vec<SaveResult> = serde_json::from_str(body).unwrap();
    assert!(results[0].success);
    assert_eq!(results[1].id, None);
    assert_eq!(results[1].errors[0].status_code, "DUPLICATE_VALUE");
    assert_eq!(results[1].errors[0].fields, ["Ext__c"]);
    assert_eq!(results[2].created, Some(false));
    let out = serde_json::to_value(&results[0]).unwrap();
    assert_eq!(out, json!({"id":"001D000000IqhSLIAZ","success":true,"errors":[]}));
}

#[test]
fn wrong_types_are_rejected() {
    assert!(
        serde_json::from_str::<QueryResult>(r#"{"totalSize":"3","done":true,"records":[]}"#)
            .is_err()
    );
    assert!(
        serde_json::from_str::<QueryResult>(r#"{"totalSize":3,"done":true,"records":{}}"#).is_err()
    );
    assert!(serde_json::from_str::<SaveResult>(r#"{"id":"x","success":"yes"}"#).is_err());
    assert!(serde_json::from_str::<QueryResult>(r#"{"totalSize":3,"done":tr"#).is_err());
}

#[test]
fn describe_global_tolerates_extra_fields() {
    let body = r#"{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[{"activateable":false,"createable":true,
      "custom":false,"customSetting":false,"deletable":true,"keyPrefix":"001","label":"Account","labelPlural":"Accounts",
      "name":"Account","queryable":true,"replicateable":true,"updateable":true,"urls":{"sobject":"/services/data/v62.0/sobjects/Account"}},
      {"name":"AccountHistory","keyPrefix":null,"queryable":true}]}"#;
    let global: DescribeGlobal = serde_json::from_str(body).unwrap();
    assert_eq!(global.max_batch_size, 200);
    assert_eq!(global.sobjects[0].key_prefix.as_deref(), Some("001"));
    assert!(global.sobjects[0].replicateable);
    assert_eq!(global.sobjects[1].key_prefix, None);
}

#[test]
fn describe_converts_to_schema() {
    let body = r#"{"name":"Contact","keyPrefix":"003","fields":[
      {"name":"Id","type":"id","length":18,"nillable":false,"idLookup":true,"referenceTo":[],"relationshipName":null,"picklistValues":[]},
      {"name":"AccountId","type":"reference","referenceTo":["Account"],"relationshipName":"Account","nillable":true,"createable":true,"updateable":true},
      {"name":"MailingAddress","type":"address"},
      {"name":"LeadSource","type":"picklist","picklistValues":[{"active":true,"defaultValue":false,"label":"Web","validFor":null,"value":"Web"}]},
      {"name":"Ext__c","type":"string","externalId":true,"unique":true,"custom":true}],
      "childRelationships":[{"cascadeDelete":true,"childSObject":"Case","field":"ContactId","relationshipName":"Cases"},
        {"cascadeDelete":false,"childSObject":"ContactHistory","field":"ContactId","relationshipName":null}]}"#;
    let describe: SObjectDescribe = serde_json::from_str(body).unwrap();
    assert!(describe.fields[1].updateable);
    assert_eq!(describe.fields[3].picklist_values[0].value, "Web");
    assert!(describe.fields[4].external_id);
    assert!(describe.child_relationships[0].cascade_delete);

    let schema = describe.to_schema();
    assert_eq!(schema.name, "Contact");
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Id", "AccountId", "LeadSource", "Ext__c"]);
    let parent = schema.parent_relationship("account").unwrap();
    assert_eq!(parent.reference_to, ["Account"]);
    assert_eq!(schema.child_relationships.len(), 1);
    assert_eq!(schema.child_relationship("cases").unwrap().child_object, "Case");
}

#[test]
fn describe_field_names_on_output() {
    let field = FieldDescribe {
        name: "AccountId".into(),
        field_type: "reference".into(),
        external_id: true,
        id_lookup: true,
        reference_to: vec!["Account".into()],
        relationship_name: Some("Account".into()),
        defaulted_on_create: true,
        ..FieldDescribe::default()
    };
    let out = serde_json::to_value(&field).unwrap();
    for key in [
        "type",
        "externalId",
        "idLookup",
        "referenceTo",
        "relationshipName",
        "picklistValues",
        "defaultedOnCreate",
        "restrictedPicklist",
        "nillable",
        "createable",
        "updateable",
        "filterable",
    ] {
        assert!(out.get(key).is_some(), "{key}");
    }
    let child = serde_json::to_value(ChildRelationshipDescribe {
        child_sobject: "Contact".into(),
        field: "AccountId".into(),
        relationship_name: Some("Contacts".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(child["childSObject"], "Contact");
    assert_eq!(child["cascadeDelete"], false);
}

#[test]
fn token_and_oauth_error() {
    let body = r#"{"access_token":"00Dxx0000001gEF!AQ0AQ.secret","refresh_token":"5Aep.secret",
      "signature":"abc=","scope":"refresh_token api","instance_url":"https://example.my.salesforce.com",
      "id":"https://login.salesforce.com/id/00Dxx0000001gEFEAY/005xx000001SwiUAAS","token_type":"Bearer","issued_at":"1715203200000"}"#;
    let token: TokenResponse = serde_json::from_str(body).unwrap();
    assert_eq!(token.issued_at, "1715203200000");
    let debug = format!("{token:?}");
    assert!(!debug.contains("secret"), "{debug}");
    let error: OAuthError = serde_json::from_str(
        r#"{"error":"invalid_grant","error_description":"authentication failure"}"#,
    )
    .unwrap();
    assert_eq!(error.error, "invalid_grant");
    assert!(serde_json::from_str::<OAuthError>(r#"{"error_description":"x"}"#).is_err());
}

#[test]
fn replication_answers() {
    let updated: UpdatedResult = serde_json::from_str(
        r#"{"ids":["001D000000IqhSLIAZ"],"latestDateCovered":"2024-05-08T21:20:00.000+0000"}"#,
    )
    .unwrap();
    assert_eq!(
        crate::time::format_datetime(updated.latest_date_covered),
        "2024-05-08T21:20:00.000+0000"
    );
    let deleted: DeletedResult = serde_json::from_str(
        r#"{"deletedRecords":[{"id":"001D000000IqhSLIAZ","deletedDate":"2024-05-08T21:19:00.000+0000"}],
            "earliestDateAvailable":"2024-04-23T00:00:00.000+0000","latestDateCovered":"2024-05-08T21:20:00.000+0000"}"#,
    )
    .unwrap();
    assert_eq!(deleted.deleted_records.len(), 1);
    let out = serde_json::to_value(&deleted).unwrap();
    assert_eq!(out["deletedRecords"][0]["deletedDate"], "2024-05-08T21:19:00.000+0000");
    assert_eq!(out["earliestDateAvailable"], "2024-04-23T00:00:00.000+0000");
    assert!(
        serde_json::from_str::<UpdatedResult>(r#"{"ids":[],"latestDateCovered":"soon"}"#).is_err()
    );
}

#[test]
fn limits_with_nested_app_entries() {
    let limits: Limits = serde_json::from_str(
        r#"{"DailyApiRequests":{"Max":15000,"Remaining":14982,"Ant Migration Tool":{"Max":0,"Remaining":0}},
            "DataStorageMB":{"Max":5,"Remaining":5}}"#,
    )
    .unwrap();
    assert_eq!(limits["DailyApiRequests"], LimitValue { max: 15000, remaining: 14982 });
    assert_eq!(
        serde_json::to_value(limits["DataStorageMB"]).unwrap(),
        json!({"Max":5,"Remaining":5})
    );
}

#[test]
fn versions_and_composite() {
    let versions: Vec<ApiVersion> = serde_json::from_str(
        r#"[{"label":"Winter '25","url":"/services/data/v62.0","version":"62.0"}]"#,
    )
    .unwrap();
    assert_eq!(versions[0].version, "62.0");

    let request = CompositeRequest {
        all_or_none: true,
        collate_subrequests: None,
        composite_request: vec![CompositeSubrequest {
            method: "POST".into(),
            url: "/services/data/v62.0/sobjects/Account".into(),
            reference_id: "refAccount".into(),
            body: Some(json!({"Name":"x"})),
            http_headers: None,
        }],
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"allOrNone":true,"compositeRequest":[{"method":"POST","url":"/services/data/v62.0/sobjects/Account",
            "referenceId":"refAccount","body":{"Name":"x"}}]})
    );
    let response: CompositeResponse = serde_json::from_str(
        r#"{"compositeResponse":[{"body":{"id":"001D000000IqhSLIAZ","success":true,"errors":[]},
            "httpHeaders":{"Location":"/services/data/v62.0/sobjects/Account/001D000000IqhSLIAZ"},"httpStatusCode":201,"referenceId":"refAccount"}]}"#,
    )
    .unwrap();
    assert_eq!(response.composite_response[0].http_status_code, 201);

    let body = CollectionRequest {
        all_or_none: false,
        records: vec![
            serde_json::from_value(json!({"attributes": attributes("Account", None), "Name": "x"}))
                .unwrap(),
        ],
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"allOrNone":false,"records":[{"attributes":{"type":"Account"},"Name":"x"}]})
    );
}
