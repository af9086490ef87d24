//! Picklist values in local edits, against a devorg on loopback: a restricted picklist
//! takes only its listed values, as the org does; an unrestricted one takes any value
//! that fits, and the org stores it.

mod upload_support;

use engine::Clock;
use engine::edit::{EditError, Edits, cache_describes};
use serde_json::{Value, json};
use store::Record;
use upload_support::Env;

fn record(v: Value) -> Record {
    serde_json::from_value(v).unwrap()
}

async fn env_with_work_orders() -> Env {
    let env = Env::start(false).await;
    let describe = env.client.describe("WorkOrder").await.unwrap();
    let schema =
        store::objects::schema_from_json(&serde_json::to_value(&describe).unwrap()).unwrap();
    env.store.ensure_object(&schema, &[]).unwrap();
    cache_describes(&env.client, &env.store, &["Account".into(), "WorkOrder".into()])
        .await
        .unwrap();
    env
}

#[tokio::test]
async fn the_describe_says_which_picklists_are_restricted() {
    let env = env_with_work_orders().await;
    let edits = Edits::new(&env.store);
    let account = edits.describe("Account").unwrap();
    let work_order = edits.describe("WorkOrder").unwrap();
    let field = |d: &salesforce::wire::SObjectDescribe, name: &str| {
        d.fields.iter().find(|f| f.name == name).unwrap().clone()
    };
    assert!(!field(&account, "Type").restricted_picklist);
    assert!(!field(&account, "Industry").restricted_picklist);
    assert!(field(&work_order, "Priority").restricted_picklist);
    assert!(field(&work_order, "Status").restricted_picklist);
}

#[tokio::test]
async fn an_unrestricted_picklist_takes_a_value_it_does_not_list_and_the_org_keeps_it() {
    let env = env_with_work_orders().await;
    let edits = Edits::new(&env.store);
    let now = env.clock.now();
    let created = edits
        .create("Account", &record(json!({"Name": "Picklist Co", "Type": "Reseller"})), now)
        .unwrap();
    let too_long = "x".repeat(256);
    let err = edits
        .update("Account", &created.record_id, &record(json!({"Type": too_long})), now)
        .unwrap_err();
    assert!(
        matches!(&err, EditError::Invalid(e) if e[0].to_string().contains("too long")),
        "{err}"
    );

    let report = env.upload().await;
    assert!(report.failed.is_empty(), "{report:?}");
    let id = &report.id_remaps[0].server_id;
    assert_eq!(env.server("Account", id)["Type"], "Reseller");
}

#[tokio::test]
async fn a_restricted_picklist_refuses_what_the_org_refuses() {
    let env = env_with_work_orders().await;
    let edits = Edits::new(&env.store);
    let bad = record(json!({"Subject": "Pump", "Priority": "Whenever"}));
    let err = edits.create("WorkOrder", &bad, env.clock.now()).unwrap_err();
    let EditError::Invalid(errors) = &err else { panic!("expected invalid values: {err}") };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().starts_with("Priority: 'Whenever' is not one of"), "{err}");
    assert!(env.queue().is_empty());

    // The org refuses the same value with its restricted-picklist code, and takes a
    // listed one.
    let answer = env.client.create_many("WorkOrder", &[bad], false).await.unwrap();
    assert!(!answer[0].success);
    assert_eq!(answer[0].errors[0].status_code, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    let good = record(json!({"Subject": "Pump", "Priority": "High"}));
    edits.create("WorkOrder", &good, env.clock.now()).unwrap();
    let report = env.upload().await;
    assert_eq!((report.succeeded, report.failed.len()), (1, 0), "{report:?}");
}
