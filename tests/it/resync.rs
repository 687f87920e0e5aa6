//! The resync keeps the cache equal to Azure, and bad answers never break or empty it.

use std::time::Duration;

use compute_studio::emulator::Fault;
use compute_studio::emulator::bulk::generated_instances;
use compute_studio::store;

use crate::helpers::{
    TestApp, arm_client, database_url, empty_config, eventually, instance_body, spawn_emulator,
};

#[tokio::test]
async fn a_resync_adds_updates_and_removes_rows() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    for name in ["one-box", "two-box"] {
        arm.create_or_update(name, &instance_body(&location, "Standard_DS11_v2"))
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    let db = app.sync.db().clone();

    let report = app.sync.resync_now().await.unwrap();
    assert_eq!(report.computes, 2);
    assert_eq!(store::computes::count(&db).await.unwrap(), 2);

    arm.delete(
        "one-box",
        compute_studio::azure::UnderlyingResourceAction::Delete,
    )
    .await
    .unwrap();
    eventually(Duration::from_secs(5), "the delete to finish", || async {
        arm.get_compute("one-box").await.unwrap().is_none()
    })
    .await;
    let report = app.sync.resync_now().await.unwrap();
    assert_eq!(report.removed, 1);
    assert!(
        store::computes::get_row(&db, "one-box")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store::computes::get_row(&db, "two-box")
            .await
            .unwrap()
            .is_some()
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_answers_leave_the_cache_as_it_was() {
    // Settled computes only, so that no background re-read takes the injected faults.
    let emulator = spawn_emulator(empty_config()).await;
    for compute in generated_instances(emulator.emulator.config(), 12) {
        emulator.emulator.insert_raw(compute);
    }
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    let db = app.sync.db().clone();
    app.sync.resync_now().await.unwrap();
    let before = store::computes::count(&db).await.unwrap();
    assert_eq!(before, 12);

    for fault in [Fault::NotJson { count: 1 }, Fault::Truncated { count: 1 }] {
        emulator.emulator.inject(fault);
        assert!(app.sync.resync_now().await.is_err());
        assert_eq!(
            store::computes::count(&db).await.unwrap(),
            before,
            "nothing was lost"
        );
    }
    app.sync
        .resync_now()
        .await
        .expect("a good answer is taken again");
    app.stop().await;
}

#[tokio::test]
async fn unknown_compute_types_are_kept_and_shown_as_other() {
    let emulator = spawn_emulator(empty_config()).await;
    let config = emulator.emulator.config().clone();
    emulator.emulator.insert_raw(serde_json::json!({
        "id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}/computes/quantum-1a",
            config.subscription_id, config.resource_group, config.workspace),
        "name": "quantum-1a",
        "type": "Microsoft.MachineLearningServices/workspaces/computes",
        "location": config.location,
        "properties": {"computeType": "QuantumAnnealer", "provisioningState": "Succeeded", "qubits": 5000}
    }));
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    app.sync.resync_now().await.unwrap();
    app.sign_in_as("reader").await;

    let (status, page) = app.get_text("/computes?tab=other").await;

    assert_eq!(status, 200);
    assert!(page.contains("quantum-1a"), "{page}");
    assert!(page.contains("Other (QuantumAnnealer)"));
    let (_, instances) = app.get_text("/computes").await;
    assert!(
        instances.contains(">Other <span class=\"count\">1</span>"),
        "the Other tab appears"
    );
    app.stop().await;
}
