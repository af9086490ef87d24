//! A record the server deleted while it was edited on the device, against a devorg on
//! loopback with a real store file: client-wins creates it again by itself; otherwise the
//! user creates it again or drops the edit.

mod upload_support;

use engine::Clock;
use engine::edit::cache_describes;
use engine::profile::ConflictPolicy;
use engine::upload::ConflictSettlement;
use engine::upload::conflict::is_deleted_on_server;
use engine::upload::recreate::{drop_edit, recreate};
use serde_json::json;
use store::{ChangeOp, ChangeState};
use upload_support::{ADMIN, Env};

/// An Account on the org and the device, with a Contact under it on both; the device
/// edits the Account and creates a second Contact under it offline; then the org
/// deletes the Account. Returns the Account's id, the downloaded Contact's id and the
/// Account change's seq.
async fn deleted_while_edited(env: &Env) -> (String, String, i64) {
    let account = env.server_record("Account", json!({"Name": "Gone Corp", "Phone": "1"}));
    let contact = env.server_record("Contact", json!({"LastName": "Kept", "AccountId": account}));
    let (_, seq) = env.edit("Account", Some(&account), ChangeOp::Update, json!({"Phone": "2"}));
    env.edit(
        "Contact",
        None,
        ChangeOp::Create,
        json!({"LastName": "Offline", "AccountId": account}),
    );
    env.org.admin().delete(ADMIN, "Account", &account).unwrap();
    (account, contact, seq)
}

#[tokio::test]
async fn client_wins_creates_the_record_again_and_remaps_its_references() {
    let mut env = Env::start(false).await;
    env.profile.objects[0].conflict = ConflictPolicy::ClientWins;
    let (old_id, contact, _) = deleted_while_edited(&env).await;

    let report = env.upload().await;
    assert_eq!(report.conflicts.len(), 1, "{report:?}");
    let conflict = &report.conflicts[0];
    assert!(conflict.deleted_on_server);
    assert_eq!(conflict.settlement, ConflictSettlement::Recreated);
    let local_id = conflict.recreated_as.clone().unwrap();
    let remap = report.id_remaps.iter().find(|r| r.local_id == local_id).unwrap();
    let new_id = remap.server_id.clone();
    assert_ne!(new_id, old_id);
    assert!(report.failed.is_empty() && report.blocked.is_empty(), "{report:?}");

    // The org has the record again, with the device's values.
    let server = env.server("Account", &new_id);
    assert_eq!((server["Name"].as_str(), server["Phone"].as_str()), (Some("Gone Corp"), Some("2")));
    assert_eq!(env.server_ids("Account", "Name = 'Gone Corp'").await, vec![new_id.clone()]);
    // The Contact created offline under it went up under the new id, and the device's
    // copies point at the new id too.
    let offline = env.server_ids("Contact", "LastName = 'Offline'").await;
    assert_eq!(offline.len(), 1);
    assert_eq!(env.server("Contact", &offline[0])["AccountId"], new_id.as_str());
    assert_eq!(env.local("Contact", &contact).unwrap()["AccountId"], new_id.as_str());
    assert!(env.local("Account", &old_id).is_none());
    assert_eq!(env.local("Account", &new_id).unwrap()["Phone"], "2");
    assert!(env.queue().is_empty(), "{:?}", env.queue());
}

#[tokio::test]
async fn the_user_creates_again_a_record_the_server_deleted() {
    let env = Env::start(false).await;
    cache_describes(&env.client, &env.store, &["Account".into(), "Contact".into()]).await.unwrap();
    let (old_id, contact, seq) = deleted_while_edited(&env).await;

    let report = env.upload().await;
    assert_eq!(report.conflicts[0].settlement, ConflictSettlement::Parked);
    assert!(is_deleted_on_server(&env.change(seq)));
    assert_eq!(env.change(seq).state, ChangeState::Conflict);
    // The org refuses the Contact created offline under the deleted Account.
    assert_eq!(report.failed.len(), 1, "{report:?}");
    let (contact_seq, code, _) = report.failed[0].clone();
    assert_eq!(code, "ENTITY_IS_DELETED");

    let local_id = recreate(&env.store, seq, env.clock.now()).unwrap();
    let change = env.change(seq);
    assert_eq!(
        (change.op, change.state, change.record_id.as_str()),
        (ChangeOp::Create, ChangeState::Waiting, local_id.as_str())
    );
    assert_eq!(env.local("Contact", &contact).unwrap()["AccountId"], local_id.as_str());
    // Retried, the Contact goes up under the Account's new id.
    assert_eq!(env.change(contact_seq).fields["AccountId"], local_id.as_str());
    env.store.write(|tx| tx.retry(contact_seq, env.clock.now())).unwrap();

    let report = env.upload().await;
    let new_id =
        report.id_remaps.iter().find(|r| r.local_id == local_id).unwrap().server_id.clone();
    assert_ne!(new_id, old_id);
    assert_eq!(env.server("Account", &new_id)["Phone"], "2");
    let offline = env.server_ids("Contact", "LastName = 'Offline'").await;
    assert_eq!(env.server("Contact", &offline[0])["AccountId"], new_id.as_str());
    assert!(env.queue().is_empty(), "{:?}", env.queue());
}

#[tokio::test]
async fn the_user_drops_the_edit_of_a_record_the_server_deleted() {
    let env = Env::start(false).await;
    let id = env.server_record("Account", json!({"Name": "Dropped Corp"}));
    let (_, seq) = env.edit("Account", Some(&id), ChangeOp::Update, json!({"Phone": "9"}));
    env.org.admin().delete(ADMIN, "Account", &id).unwrap();
    env.upload().await;
    assert!(is_deleted_on_server(&env.change(seq)));

    drop_edit(&env.store, seq, env.clock.now()).unwrap();
    assert!(env.queue().is_empty());
    assert!(env.local("Account", &id).is_none(), "the record goes with its edit");
    let report = env.upload().await;
    assert_eq!(report.sent, 0);
    assert!(env.server_ids("Account", "Name = 'Dropped Corp'").await.is_empty());
}

#[tokio::test]
async fn only_an_edit_of_a_record_the_server_deleted_can_create_it_again() {
    let env = Env::start(false).await;
    cache_describes(&env.client, &env.store, &["Account".into()]).await.unwrap();
    let id = env.server_record("Account", json!({"Name": "Still Here"}));
    let (_, seq) = env.edit("Account", Some(&id), ChangeOp::Update, json!({"Phone": "3"}));
    assert!(recreate(&env.store, seq, env.clock.now()).is_err());
    assert_eq!(env.change(seq).op, ChangeOp::Update);
}
