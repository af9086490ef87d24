//! Loading profiles: the example, and every error with its line.

use super::*;
use crate::test_schema::{FIELD_SERVICE_PROFILE, describes};

fn load(text: &str) -> Result<Profile, ProfileErrors> {
    Profile::load("profile.toml", text, &describes())
}

/// The one error loading `text` gives, as its message.
fn error_of(text: &str) -> String {
    let errors = load(text).expect_err("profile should not load");
    assert_eq!(errors.0.len(), 1, "expected one error, got: {errors}");
    errors.0[0].to_string()
}

#[test]
fn field_service_example_loads() {
    let profile = load(FIELD_SERVICE_PROFILE).unwrap();
    let names: Vec<&str> = profile.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ServiceAppointment",
            "WorkOrder",
            "WorkOrderLineItem",
            "Account",
            "Asset",
            "Contact",
            "Product2"
        ]
    );
    let sa = profile.object("serviceappointment").unwrap();
    assert_eq!(sa.interval_secs, 900);
    assert_eq!(sa.max_records, Some(2000));
    assert_eq!(sa.conflict_for("Status"), ConflictPolicy::ClientWins);
    assert_eq!(sa.conflict_for("Subject"), ConflictPolicy::ServerWins);
    assert_eq!(sa.parents[0].target, "WorkOrder");
    assert_eq!(&sa.fetch_fields[..3], ["Id", "SystemModstamp", "AppointmentNumber"]);

    let wo = profile.object("WorkOrder").unwrap();
    assert!(wo.related_only);
    assert_eq!(wo.fields, FieldSelection::All);
    assert!(wo.fetch_fields.contains(&"WorkOrderNumber".to_string()));
    assert_eq!(wo.children[0].child, "WorkOrderLineItem");
    assert_eq!(wo.children[0].field, "WorkOrderId");
    assert_eq!(profile.object("Product2").unwrap().interval_secs, 86_400);

    // Contact lists AccountId itself; the child rule's field is fetched without duplicates.
    let contact = profile.object("Contact").unwrap();
    assert_eq!(contact.fetch_fields.iter().filter(|f| *f == "AccountId").count(), 1);
}

#[test]
fn unknown_object_names_its_line() {
    let text = "version = 1\n\n[objects.Account]\nfields = [\"Name\"]\n\n[objects.WorkOrdr]\nfields = \"*\"\n";
    assert_eq!(error_of(text), "profile.toml: line 6: unknown object 'WorkOrdr'");
}

#[test]
fn described_but_missing_object() {
    let text = "[objects.Case]\nfields = \"*\"\n";
    assert_eq!(error_of(text), "profile.toml: line 1: object 'Case' could not be described");
}

#[test]
fn unknown_field_names_its_line_in_a_long_list() {
    let text = "[objects.Account]\nfields = [\n  \"Name\",\n  \"Phone\",\n  \"Nmae\",\n]\n";
    assert_eq!(error_of(text), "profile.toml: line 5: unknown field 'Nmae' on Account");
}

#[test]
fn syntax_error_names_its_line() {
    let text = "[objects.Account]\nfields = [\"Name\"\n\n";
    assert!(error_of(text).starts_with("profile.toml: line 2: "), "{}", error_of(text));
}

#[test]
fn unknown_key_names_its_line() {
    let text = "[objects.Account]\nfields = [\"Name\"]\nfliter = \"Name = 'x'\"\n";
    let e = error_of(text);
    assert!(e.starts_with("profile.toml: line 3: "), "{e}");
    assert!(e.contains("fliter"), "{e}");
}

#[test]
fn bad_filter_names_its_line() {
    let text = "[objects.Account]\nfields = [\"Name\"]\n\nfilter = \"(Name = 'x'\"\n";
    let e = error_of(text);
    assert!(e.starts_with("profile.toml: line 4: filter of Account does not parse: "), "{e}");
    let text = "[objects.Account]\nfilter = \"Nme = 'x'\"\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 2: filter of Account does not parse: unknown field 'Nme' on Account"
    );
}

#[test]
fn bad_interval_names_its_line() {
    let text = "[objects.Account]\nfields = [\"Name\"]\ninterval = \"15x\"\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 3: bad interval '15x': unknown unit 'x'; use s, m, h or d"
    );
}

#[test]
fn bad_conflict_policy() {
    let text = "[objects.Account]\nconflict_fields = { Name = \"mine\" }\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 2: unknown conflict policy 'mine'; use server-wins, client-wins or manual"
    );
    let text = "[objects.Account]\nconflict_fields = { Nom = \"manual\" }\n";
    assert_eq!(error_of(text), "profile.toml: line 2: unknown field 'Nom' on Account");
}

#[test]
fn bad_max_records_and_external_id() {
    let text = "[objects.Account]\n\nmax_records = 0\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 3: max_records must be a positive number, not 0"
    );
    let text = "[objects.Contact]\nexternal_id = \"Key__c\"\n";
    assert_eq!(error_of(text), "profile.toml: line 2: unknown field 'Key__c' on Contact");
}

#[test]
fn bad_fields_value() {
    let text = "[objects.Account]\nfields = \"Name\"\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 2: fields of Account must be \"*\" or a list of field names"
    );
}

#[test]
fn unsupported_version() {
    let text = "version = 2\n[objects.Account]\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 1: unsupported profile version 2; this deltasync reads version 1"
    );
}

#[test]
fn empty_profile() {
    assert_eq!(error_of("version = 1\n"), "profile.toml: line 1: the profile declares no object");
}

#[test]
fn parent_rule_errors() {
    let text = "[objects.ServiceAppointment]\nparents = [{ field = \"ParentRecordId\" }]\n[objects.WorkOrder]\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 2: lookup 'ParentRecordId' on ServiceAppointment may point to \
         WorkOrder, WorkOrderLineItem, Account, Asset; say which with object = \"...\""
    );
    let text = "[objects.ServiceAppointment]\nparents = [{ field = \"ParentRecordId\", object = \"Contact\" }]\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 2: lookup 'ParentRecordId' on ServiceAppointment cannot point to Contact"
    );
    let text = "[objects.ServiceAppointment]\nparents = [{ field = \"Subject\" }]\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 2: field 'Subject' on ServiceAppointment is not a lookup"
    );
    let text = "[objects.WorkOrder]\n\nparents = [{ field = \"AccountId\" }]\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 3: Account comes in through related scope but has no [objects.Account] table"
    );
    let text = "[objects.WorkOrder]\nparents = [{ field = \"AcountId\" }]\n";
    assert_eq!(error_of(text), "profile.toml: line 2: unknown field 'AcountId' on WorkOrder");
}

#[test]
fn child_rule_errors() {
    let text = "[objects.WorkOrder]\nchildren = [{ relationship = \"LineItems\" }]\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 2: unknown child relationship 'LineItems' on WorkOrder"
    );
    let text = "[objects.WorkOrder]\n[objects.WorkOrderLineItem]\nrelated_only = true\n\
                [objects.Account]\nchildren = [{ relationship = \"WorkOrders\", filter = \"Status = 'x\" }]\n";
    let errors = load(text).unwrap_err();
    let e = errors.0[0].to_string();
    assert!(e.starts_with("profile.toml: line 5: filter of WorkOrder does not parse: "), "{e}");
}

#[test]
fn related_only_needs_a_rule_and_no_filter() {
    let text = "[objects.Account]\n[objects.Contact]\nrelated_only = true\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 2: Contact is related_only but no parents or children rule brings it in"
    );
    let text = "[objects.Account]\nchildren = [{ relationship = \"Contacts\" }]\n\
                [objects.Contact]\nrelated_only = true\nfilter = \"LastName = 'x'\"\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 5: Contact is related_only, so its own filter would never apply; put it on the rule"
    );
}

#[test]
fn cycle_in_related_scope() {
    let text = "[objects.Account]\nchildren = [{ relationship = \"Contacts\" }]\n\
                [objects.Contact]\nparents = [{ field = \"AccountId\" }]\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 2: related scope forms a cycle: Account -> Contact -> Account"
    );
    let text = "[objects.Account]\n\nparents = [{ field = \"ParentId\" }]\n";
    assert_eq!(
        error_of(text),
        "profile.toml: line 3: related scope forms a cycle: Account -> Account"
    );
}

#[test]
fn duplicate_object_in_other_case() {
    let text = "[objects.Account]\n[objects.account]\n";
    assert_eq!(error_of(text), "profile.toml: line 2: object 'Account' is declared twice");
}

#[test]
fn every_error_is_reported_at_once() {
    let text = "[objects.Acount]\n[objects.Contact]\nfields = [\"Nme\"]\ninterval = \"0m\"\n";
    let errors = load(text).unwrap_err();
    let lines: Vec<usize> = errors.0.iter().map(|e| e.line).collect();
    assert_eq!(lines, [1, 3, 4]);
}

#[test]
fn diff_between_profiles() {
    let old = load(FIELD_SERVICE_PROFILE).unwrap();
    let changed = FIELD_SERVICE_PROFILE
        .replace(
            "filter = \"IsActive = true\"",
            "filter = \"IsActive = true AND Family = 'Parts'\"",
        )
        .replace("interval = \"1h\"\n\n[objects.Asset]", "interval = \"2h\"\n\n[objects.Asset]")
        .replace("{ field = \"ContactId\" },\n", "");
    let contact_start = changed.find("[objects.Contact]").unwrap();
    let contact_end = changed.find("[objects.Product2]").unwrap();
    let changed = format!("{}{}", &changed[..contact_start], &changed[contact_end..]);
    let new = load(&changed).unwrap();
    let diff = ProfileDiff::between(&old, &new);
    assert!(diff.added.is_empty());
    assert_eq!(diff.removed, ["Contact"]);
    let names: Vec<&str> = diff.changed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["WorkOrder", "Account", "Product2"]);
    let wo = &diff.changed[0];
    assert_eq!(wo.parents_removed.len(), 1);
    assert_eq!(wo.parents_removed[0].field, "ContactId");
    assert!(wo.scope_changed());
    assert!(!diff.changed[1].scope_changed());
    assert!(diff.changed[1].settings_changed);
    assert!(diff.changed[2].filter_changed);

    let back = ProfileDiff::between(&new, &old);
    assert_eq!(back.added, ["Contact"]);
    assert!(ProfileDiff::between(&old, &old).is_empty());
}
