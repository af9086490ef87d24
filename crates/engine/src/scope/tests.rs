//! The SOQL the planner generates for the field-service profile, printed in full.

use chrono::{TimeZone, Utc};

use super::*;
use crate::profile::Profile;
use crate::test_schema::{FIELD_SERVICE_PROFILE, describes};

const USER: &str = "005000000000001AAA";

fn field_service() -> ScopePlan {
    let profile = Profile::load("profile.toml", FIELD_SERVICE_PROFILE, &describes()).unwrap();
    plan(&profile, USER).unwrap()
}

const SA_SCOPE: &str = "Technician__c = '005000000000001AAA' AND SchedStartTime >= LAST_N_DAYS:7 \
                        AND SchedStartTime <= NEXT_N_DAYS:14";

#[test]
fn objects_come_after_their_scope_sources() {
    let plan = field_service();
    let order: Vec<&str> = plan.objects.iter().map(|o| o.object.as_str()).collect();
    assert_eq!(
        order,
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
}

#[test]
fn root_filter_binds_the_user() {
    let plan = field_service();
    let sa = plan.object("ServiceAppointment").unwrap();
    println!("{}", sa.condition_text().unwrap());
    assert_eq!(sa.condition_text().unwrap(), SA_SCOPE);
    assert_eq!(sa.max_records, Some(2000));
}

#[test]
fn one_step_from_a_root_is_a_semi_join() {
    let plan = field_service();
    let wo = plan.object("WorkOrder").unwrap();
    let text = wo.condition_text().unwrap();
    println!("{text}");
    assert_eq!(
        text,
        format!("Id IN (SELECT ParentRecordId FROM ServiceAppointment WHERE {SA_SCOPE})")
    );
    assert_eq!(wo.count_query().unwrap(), format!("SELECT COUNT() FROM WorkOrder WHERE {text}"));
}

#[test]
fn two_steps_from_a_root_links_to_held_records() {
    let plan = field_service();
    let account = plan.object("Account").unwrap();
    assert!(!account.has_server_rules());
    assert_eq!(account.count_query(), None);
    assert_eq!(account.page_query(None, None), None);
    assert_eq!(
        account.rules[0].condition,
        RuleCondition::Held {
            link: HeldLink::LookupTarget { from: "WorkOrder".into(), field: "AccountId".into() },
            filter: None,
        }
    );

    let woli = plan.object("WorkOrderLineItem").unwrap();
    let (link, filter) = woli.held_rules().next().unwrap();
    assert_eq!(link, &HeldLink::ChildOf { from: "WorkOrder".into(), field: "WorkOrderId".into() });
    let filter = filter.unwrap();
    assert_eq!(filter.to_string(), "Status != 'Canceled'");
    let text = woli.by_parents_query("WorkOrderId", &["0WOA".into(), "0WOB".into()], Some(filter));
    println!("{text}");
    assert_eq!(
        text,
        "SELECT Id, SystemModstamp, LineItemNumber, Status, Description, WorkOrderId, Product2Id \
         FROM WorkOrderLineItem WHERE WorkOrderId IN ('0WOA', '0WOB') AND Status != 'Canceled'"
    );
    assert_eq!(
        woli.matching_ids_query(&["1WLA".into()], Some(filter)),
        "SELECT Id FROM WorkOrderLineItem WHERE Id IN ('1WLA') AND Status != 'Canceled'"
    );
}

#[test]
fn several_rules_are_a_union() {
    let text = "[objects.Account]\nfilter = \"Name = 'Acme'\"\n\
                [objects.WorkOrder]\nfilter = \"OwnerId = :user\"\nparents = [{ field = \"AccountId\" }]\n";
    let profile = Profile::load("p.toml", text, &describes()).unwrap();
    let plan = plan(&profile, USER).unwrap();
    let account = plan.object("Account").unwrap();
    println!("{}", account.condition_text().unwrap());
    assert_eq!(
        account.condition_text().unwrap(),
        "Name = 'Acme' OR Id IN (SELECT AccountId FROM WorkOrder WHERE OwnerId = '005000000000001AAA')"
    );
}

#[test]
fn unfiltered_root_is_every_record() {
    let text = "[objects.Account]\n[objects.WorkOrder]\nparents = [{ field = \"AccountId\" }]\n";
    let profile = Profile::load("p.toml", text, &describes()).unwrap();
    let plan = plan(&profile, USER).unwrap();
    assert_eq!(plan.object("Account").unwrap().condition(), None);
    assert_eq!(
        plan.object("Account").unwrap().count_query().unwrap(),
        "SELECT COUNT() FROM Account"
    );
}

#[test]
fn queries_for_paging_and_rechecks() {
    let plan = field_service();
    let product = plan.object("Product2").unwrap();
    assert_eq!(
        product.count_query().unwrap(),
        "SELECT COUNT() FROM Product2 WHERE IsActive = true"
    );
    assert_eq!(
        product.page_query(None, None).unwrap(),
        "SELECT Id, SystemModstamp, Name, ProductCode, Family, IsActive FROM Product2 \
         WHERE IsActive = true ORDER BY SystemModstamp, Id"
    );
    let cursor = Cursor {
        stamp: Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap(),
        id: "01t000000000001AAA".into(),
    };
    let text = product.page_query(Some(&StampBound::After(cursor.clone())), Some(10)).unwrap();
    println!("{text}");
    assert_eq!(
        text,
        "SELECT Id, SystemModstamp, Name, ProductCode, Family, IsActive FROM Product2 \
         WHERE IsActive = true AND (SystemModstamp > 2026-05-01T08:00:00.000+0000 OR \
         (SystemModstamp = 2026-05-01T08:00:00.000+0000 AND Id > '01t000000000001AAA')) \
         ORDER BY SystemModstamp, Id LIMIT 10"
    );
    assert_eq!(
        product.page_query(Some(&StampBound::From(cursor.stamp)), None).unwrap(),
        "SELECT Id, SystemModstamp, Name, ProductCode, Family, IsActive FROM Product2 \
         WHERE IsActive = true AND SystemModstamp >= 2026-05-01T08:00:00.000+0000 \
         ORDER BY SystemModstamp, Id"
    );
    assert_eq!(
        product.changed_ids_query(&StampBound::From(cursor.stamp)),
        "SELECT Id FROM Product2 WHERE SystemModstamp >= 2026-05-01T08:00:00.000+0000 \
         ORDER BY SystemModstamp, Id"
    );
    assert_eq!(
        product.deleted_ids_query(&StampBound::From(cursor.stamp)),
        "SELECT Id FROM Product2 WHERE IsDeleted = true \
         AND SystemModstamp >= 2026-05-01T08:00:00.000+0000"
    );
    assert_eq!(
        product.fetch_by_ids_query(&["01tA".into(), "01tB".into()]),
        "SELECT Id, SystemModstamp, Name, ProductCode, Family, IsActive FROM Product2 \
         WHERE Id IN ('01tA', '01tB')"
    );
    assert_eq!(
        product.ids_in_range_query(Some("01tA"), Some("01tM")).unwrap(),
        "SELECT Id FROM Product2 WHERE IsActive = true AND Id >= '01tA' AND Id < '01tM' ORDER BY Id"
    );
    assert_eq!(
        product.count_in_range_query(None, Some("01tM")).unwrap(),
        "SELECT COUNT() FROM Product2 WHERE IsActive = true AND Id < '01tM'"
    );
}

#[test]
fn every_generated_query_parses() {
    let plan = field_service();
    for o in &plan.objects {
        let mut queries = vec![o.fetch_by_ids_query(&["x".into()])];
        queries.extend(o.count_query());
        queries.extend(o.page_query(None, Some(5)));
        queries.extend(o.ids_in_range_query(Some("a"), None));
        for q in queries {
            soql::parse(&q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        }
    }
}

#[test]
fn rescoping_after_a_profile_change() {
    let old = field_service();
    let changed = FIELD_SERVICE_PROFILE.replace("LAST_N_DAYS:7", "LAST_N_DAYS:3");
    let profile = Profile::load("profile.toml", &changed, &describes()).unwrap();
    let new = plan(&profile, USER).unwrap();
    // Everything reached from the appointments moves with them; products do not.
    assert_eq!(
        new.rescoped_since(&old),
        ["ServiceAppointment", "WorkOrder", "WorkOrderLineItem", "Account", "Asset", "Contact"]
    );
    assert!(old.rescoped_since(&old).is_empty());
}
