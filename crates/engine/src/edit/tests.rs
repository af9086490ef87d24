//! Edit validation against a hand-written describe, and edits through a real store file.

use chrono::{TimeZone, Utc};
use salesforce::wire::{FieldDescribe, PicklistEntry, SObjectDescribe};
use serde_json::{Value, json};
use store::{ChangeOp, Record, Store, StoreKey};

use super::*;

fn field(name: &str, field_type: &str) -> FieldDescribe {
    FieldDescribe {
        name: name.into(),
        field_type: field_type.into(),
        nillable: true,
        createable: true,
        updateable: true,
        ..FieldDescribe::default()
    }
}

fn work_order() -> SObjectDescribe {
    let mut id = field("Id", "id");
    id.createable = false;
    id.updateable = false;
    id.nillable = false;
    let mut subject = field("Subject", "string");
    subject.length = 255;
    subject.nillable = false;
    let mut status = field("Status", "picklist");
    status.length = 40;
    status.defaulted_on_create = true;
    status.restricted_picklist = true;
    status.picklist_values = ["New", "In Progress", "Closed"]
        .iter()
        .map(|v| PicklistEntry { value: (*v).into(), active: true, ..PicklistEntry::default() })
        .collect();
    let mut priority = field("Priority", "picklist");
    priority.length = 10;
    priority.picklist_values =
        vec![PicklistEntry { value: "Low".into(), active: true, ..PicklistEntry::default() }];
    let mut number = field("WorkOrderNumber", "string");
    number.createable = false;
    number.updateable = false;
    let mut account = field("AccountId", "reference");
    account.reference_to = vec!["Account".into()];
    let mut cost = field("Cost__c", "currency");
    cost.precision = 6;
    cost.scale = 2;
    SObjectDescribe {
        name: "WorkOrder".into(),
        createable: true,
        updateable: true,
        deletable: true,
        fields: vec![
            id,
            subject,
            status,
            priority,
            number,
            account,
            cost,
            field("Urgent__c", "boolean"),
            field("Visits__c", "int"),
            field("Due__c", "date"),
            field("StartDate", "datetime"),
            field("Email__c", "email"),
        ],
        ..SObjectDescribe::default()
    }
}

fn record(value: Value) -> Record {
    value.as_object().unwrap().clone()
}

fn errors(value: Value, kind: EditKind) -> Vec<String> {
    let (_, errors) = validate_fields(&work_order(), &record(value), kind);
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn a_valid_create_passes_with_canonical_names() {
    let (fields, errs) = validate_fields(
        &work_order(),
        &record(
            json!({"subject": "Fix pump", "status": "New", "Due__c": "2026-05-04", "Cost__c": 12.5}),
        ),
        EditKind::Create,
    );
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(fields["Subject"], "Fix pump");
    assert_eq!(fields["Status"], "New");
    assert_eq!(fields["Due__c"], "2026-05-04");
}

#[test]
fn each_bad_field_gets_its_own_message() {
    let long = "x".repeat(256);
    let errs = errors(
        json!({"Subject": long, "Status": "Maybe", "Visits__c": 1.5, "Urgent__c": "yes",
               "Nope__c": 1, "WorkOrderNumber": "00001", "AccountId": "not-an-id"}),
        EditKind::Create,
    );
    for expected in [
        "Subject: too long (max 255)",
        "Status: 'Maybe' is not one of: New, In Progress, Closed",
        "Visits__c: expected a whole number",
        "Urgent__c: expected true or false",
        "Nope__c: no such field on WorkOrder",
        "WorkOrderNumber: cannot be set",
        "AccountId: 'not-an-id' is not a record id",
    ] {
        assert!(errs.iter().any(|e| e == expected), "missing '{expected}' in {errs:?}");
    }
}

#[test]
fn an_unrestricted_picklist_takes_any_value_that_fits() {
    assert!(errors(json!({"Priority": "Whenever"}), EditKind::Update).is_empty());
    assert_eq!(
        errors(json!({"Priority": "Eventually!"}), EditKind::Update),
        vec!["Priority: too long (max 10)"]
    );
    assert_eq!(
        errors(json!({"Status": "Whenever"}), EditKind::Update),
        vec!["Status: 'Whenever' is not one of: New, In Progress, Closed"]
    );
}

#[test]
fn required_fields_are_checked_on_create_only() {
    assert_eq!(errors(json!({"Status": "New"}), EditKind::Create), vec!["Subject: required"]);
    assert!(errors(json!({"Status": "New"}), EditKind::Update).is_empty());
    assert_eq!(
        errors(json!({"Subject": null}), EditKind::Update),
        vec!["Subject: required: cannot be empty"]
    );
}

#[test]
fn dates_numbers_and_emails_are_checked() {
    let errs = errors(
        json!({"Subject": "s", "Due__c": "04/05/2026", "StartDate": "soon",
               "Cost__c": 12345678.0, "Email__c": "nobody"}),
        EditKind::Create,
    );
    assert!(errs.iter().any(|e| e.starts_with("Due__c: '04/05/2026' is not a date")), "{errs:?}");
    assert!(errs.iter().any(|e| e.starts_with("StartDate: 'soon' is not a date and time")));
    assert!(errs.iter().any(|e| e.starts_with("Cost__c: too large")));
    assert!(errs.iter().any(|e| e == "Email__c: 'nobody' is not an email address"));
    let (fields, errs) = validate_fields(
        &work_order(),
        &record(json!({"StartDate": "2026-05-04T10:00:00Z", "AccountId": "local-abcdefghijkl"})),
        EditKind::Update,
    );
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(fields["StartDate"], "2026-05-04T10:00:00.000+0000");
    assert_eq!(fields["AccountId"], "local-abcdefghijkl");
}

#[test]
fn command_line_values_are_read_by_field_type() {
    let describe = work_order();
    let args: Vec<String> = [
        "Subject=Fix pump",
        "urgent__c=yes",
        "Visits__c=3",
        "Cost__c=12.5",
        "Due__c=null",
        "Status=",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let fields = parse_assignments(&describe, &args).unwrap();
    assert_eq!(fields["Subject"], "Fix pump");
    assert_eq!(fields["Urgent__c"], true);
    assert_eq!(fields["Visits__c"], 3);
    assert_eq!(fields["Cost__c"], 12.5);
    assert_eq!(fields["Due__c"], Value::Null);
    assert_eq!(fields["Status"], Value::Null);

    let bad: Vec<String> = ["Visits__c=three", "Subject", "Nope=1", "Urgent__c=maybe"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let errs: Vec<String> =
        parse_assignments(&describe, &bad).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(
        errs,
        vec![
            "Visits__c: 'three' is not a whole number",
            "Subject: expected field=value",
            "Nope: no such field on WorkOrder",
            "Urgent__c: 'maybe' is not true or false",
        ]
    );
}

/// A store with `WorkOrder` registered and its describe cached, as at login.
fn store_with_describe(dir: &std::path::Path) -> Store {
    let store = Store::open(&dir.join("store.db"), &StoreKey::generate()).unwrap();
    let mut describe = work_order();
    describe.fields.retain(|f| f.schema_type().is_some());
    store.ensure_object(&describe.to_schema(), &[]).unwrap();
    store
        .write(|tx| tx.kv_set("describe:WorkOrder", &serde_json::to_value(&describe).unwrap()))
        .unwrap();
    store
}

#[test]
fn edits_are_validated_then_queued_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_describe(dir.path());
    let edits = Edits::new(&store);
    let now = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();

    let err = edits.create("WorkOrder", &record(json!({"Status": "Bogus"})), now).unwrap_err();
    assert!(matches!(err, EditError::Invalid(ref e) if e.len() == 2), "{err}");
    assert!(store.read(|r| r.pending_changes(&Default::default())).unwrap().is_empty());

    let created = edits.create("workorder", &record(json!({"Subject": "Fix pump"})), now).unwrap();
    assert!(store::pending::is_local_id(&created.record_id));
    let updated = edits
        .update("WorkOrder", &created.record_id, &record(json!({"Status": "Closed"})), now)
        .unwrap();
    assert_eq!(updated.seq, created.seq, "the update coalesces into the create");
    let queued = store.read(|r| r.pending_changes(&Default::default())).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].op, ChangeOp::Create);
    assert_eq!(queued[0].fields["Status"], "Closed");

    // A lookup to a local id must name a record on this device.
    let err = edits
        .update(
            "WorkOrder",
            &created.record_id,
            &record(json!({"AccountId": "local-zzzzzzzzzzzz"})),
            now,
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "AccountId: no record with local id 'local-zzzzzzzzzzzz'");

    assert!(matches!(
        edits.update("Invoice", "x", &Record::new(), now),
        Err(EditError::UnknownObject(_))
    ));
    assert!(matches!(
        edits.delete("WorkOrder", "0WO000000000001AAA", now),
        Err(EditError::Store(store::StoreError::NoSuchRecord { .. }))
    ));
    edits.delete("WorkOrder", &created.record_id, now).unwrap();
    assert!(store.read(|r| r.pending_changes(&Default::default())).unwrap().is_empty());
}
