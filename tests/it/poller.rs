//! Operations are recorded before Azure is asked and followed to their end, across restarts.

use std::time::Duration;

use compute_studio::azure::PowerAction;
use compute_studio::emulator::Timings;
use compute_studio::store::{self, operations};
use compute_studio::sync::Action;

use crate::helpers::{
    TestApp, arm_client, database_url, empty_config, eventually, instance_body, spawn_emulator,
};

async fn row_state(db: &sqlx::SqlitePool, name: &str) -> Option<String> {
    store::computes::get_row(db, name)
        .await
        .unwrap()
        .map(|r| r.state)
}

#[tokio::test]
async fn an_operation_is_followed_to_its_end() {
    let emulator = spawn_emulator(empty_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    let body = instance_body(&emulator.emulator.config().location, "Standard_DS11_v2");

    let started = app
        .sync
        .start_operation("ada-box", Action::Create(Box::new(body)), "tests")
        .await
        .expect("Azure accepts the create");

    let db = app.sync.db().clone();
    let op = operations::get(&db, &started.id)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(op.action, "create");
    assert_eq!(op.started_by, "tests");
    eventually(Duration::from_secs(5), "the create to succeed", || async {
        let op = operations::get(&db, &started.id).await.unwrap().unwrap();
        op.status == operations::status::SUCCEEDED && op.ended_at.is_some()
    })
    .await;
    assert_eq!(row_state(&db, "ada-box").await.as_deref(), Some("Running"));
    app.stop().await;
}

#[tokio::test]
async fn a_refused_action_is_recorded_with_azures_words() {
    let emulator = spawn_emulator(empty_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;

    let error = app
        .sync
        .start_operation("ghost", Action::Power(PowerAction::Start), "tests")
        .await
        .expect_err("there is no such compute");

    assert_eq!(error.status(), Some(404));
    let db = app.sync.db().clone();
    let ops = operations::for_compute(&db, "ghost", 10).await.unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].status, operations::status::FAILED);
    assert!(
        ops[0]
            .error_message
            .as_deref()
            .is_some_and(|m| !m.is_empty())
    );
    app.stop().await;
}

#[tokio::test]
async fn a_restarted_server_finishes_what_the_previous_one_started() {
    let mut config = empty_config();
    config.timings = Timings {
        stop: Duration::from_millis(800),
        ..Timings::fast()
    };
    let emulator = spawn_emulator(config).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    let created = arm
        .create_or_update("kat-box", &instance_body(&location, "Standard_DS11_v2"))
        .await
        .unwrap();
    let handle = created.operation.unwrap();
    eventually(Duration::from_secs(5), "the instance to run", || async {
        matches!(
            arm.poll(&handle).await,
            Ok(compute_studio::azure::LroStatus::Succeeded)
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(&dir);

    // First server: start a stop, and go down before it ends.
    let first = TestApp::start(&emulator, &url).await;
    let started = first
        .sync
        .start_operation("kat-box", Action::Power(PowerAction::Stop), "tests")
        .await
        .expect("accepted");
    first.stop().await;
    let db = store::open(&url, 1).await.unwrap();
    let op = operations::get(&db, &started.id).await.unwrap().unwrap();
    assert_eq!(
        op.status,
        operations::status::IN_PROGRESS,
        "the operation outlived its server"
    );
    assert!(op.polling_url.is_some());
    db.close().await;

    // Second server on the same database: it picks the operation up and finishes it.
    let second = TestApp::start(&emulator, &url).await;
    let db = second.sync.db().clone();
    eventually(
        Duration::from_secs(10),
        "the resumed stop to succeed",
        || async {
            operations::get(&db, &started.id)
                .await
                .unwrap()
                .unwrap()
                .status
                == operations::status::SUCCEEDED
        },
    )
    .await;
    assert_eq!(row_state(&db, "kat-box").await.as_deref(), Some("Stopped"));
    assert_eq!(
        emulator.emulator.request_count("POST", "/kat-box/stop"),
        1,
        "the stop was sent once"
    );
    second.stop().await;
}

#[tokio::test]
async fn a_request_lost_in_a_crash_is_closed_with_an_explanation() {
    let emulator = spawn_emulator(empty_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(&dir);
    // A previous process recorded a request and died before Azure's answer was written down.
    let db = store::open(&url, 1).await.unwrap();
    let lost = operations::insert_requested(
        &db,
        "ada-box",
        "start",
        "tests",
        &store::now(),
        "9999-12-31T00:00:00.000000Z",
    )
    .await
    .unwrap();
    db.close().await;

    let app = TestApp::start(&emulator, &url).await;

    let db = app.sync.db().clone();
    eventually(
        Duration::from_secs(5),
        "the lost request to be settled",
        || async {
            operations::get(&db, &lost)
                .await
                .unwrap()
                .unwrap()
                .ended_at
                .is_some()
        },
    )
    .await;
    let op = operations::get(&db, &lost).await.unwrap().unwrap();
    // Azure has no such compute, so the start never took effect: closed as failed, in words.
    assert_eq!(op.status, operations::status::FAILED);
    assert_eq!(op.error_code.as_deref(), Some("Interrupted"));
    assert!(
        op.error_message
            .unwrap()
            .contains("stopped before Azure answered")
    );
    app.stop().await;
}

/// A running instance, and an app that knows it.
async fn app_with_running_instance(
    name: &str,
) -> (
    compute_studio::emulator::RunningEmulator,
    TestApp,
    tempfile::TempDir,
) {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    arm.create_or_update(name, &instance_body(&location, "Standard_DS11_v2"))
        .await
        .unwrap();
    let emu = emulator.emulator.clone();
    eventually(Duration::from_secs(5), "the instance to run", || async {
        emu.compute(name)
            .is_some_and(|c| c["properties"]["properties"]["state"] == "Running")
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    (emulator, app, dir)
}

async fn ended(db: &sqlx::SqlitePool, id: &str) -> operations::OperationRecord {
    eventually(Duration::from_secs(5), "the operation to end", || async {
        operations::get(db, id)
            .await
            .unwrap()
            .is_some_and(|o| o.ended_at.is_some())
    })
    .await;
    operations::get(db, id).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_lost_answer_to_a_request_azure_carried_out_is_followed_not_resent() {
    let (emulator, app, _dir) = app_with_running_instance("lost-box").await;
    emulator
        .emulator
        .inject(compute_studio::emulator::Fault::ResetAfterExecuting { count: 1 });

    let started = app
        .sync
        .start_operation("lost-box", Action::Power(PowerAction::Restart), "tests")
        .await
        .expect("the restart took effect, though its answer was lost");

    let op = ended(app.sync.db(), &started.id).await;
    assert_eq!(op.status, operations::status::SUCCEEDED, "{op:?}");
    assert_eq!(
        emulator.emulator.request_count("POST", "/lost-box/restart"),
        1,
        "a restart Azure carried out is not sent again"
    );
    assert_eq!(
        row_state(app.sync.db(), "lost-box").await.as_deref(),
        Some("Running")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_lost_answer_to_a_request_azure_never_saw_is_sent_once_more() {
    let (emulator, app, _dir) = app_with_running_instance("lost-box").await;
    emulator
        .emulator
        .inject(compute_studio::emulator::Fault::ResetBeforeExecuting { count: 1 });

    let started = app
        .sync
        .start_operation("lost-box", Action::Power(PowerAction::Stop), "tests")
        .await
        .expect("sent again, and accepted");

    let op = ended(app.sync.db(), &started.id).await;
    assert_eq!(op.status, operations::status::SUCCEEDED, "{op:?}");
    assert_eq!(emulator.emulator.request_count("POST", "/lost-box/stop"), 2);
    let stops = emulator
        .emulator
        .executed_operations()
        .into_iter()
        .filter(|e| e.action == "stop")
        .count();
    assert_eq!(stops, 1, "carried out once");
    assert_eq!(
        row_state(app.sync.db(), "lost-box").await.as_deref(),
        Some("Stopped")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_provisioning_failure_reaches_the_history_and_the_person_in_azures_words() {
    let (emulator, app, _dir) = app_with_running_instance("lost-box").await;
    let mut events = app.sync.subscribe();
    emulator
        .emulator
        .inject(compute_studio::emulator::Fault::ProvisioningFailure { count: 1 });

    let started = app
        .sync
        .start_operation("lost-box", Action::Power(PowerAction::Stop), "tests")
        .await
        .expect("accepted");

    let op = ended(app.sync.db(), &started.id).await;
    let azure = emulator.emulator.executed_operations();
    let (_, message) = azure
        .last()
        .unwrap()
        .error
        .clone()
        .expect("failed in Azure");
    assert_eq!(op.status, operations::status::FAILED);
    assert_eq!(op.error_message.as_deref(), Some(message.as_str()));
    let told = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(compute_studio::sync::SyncEvent::OperationEnded(e)) = events.recv().await {
                return e;
            }
        }
    })
    .await
    .expect("the person who started it is told");
    assert_eq!(told.status, "failed");
    assert_eq!(told.message.as_deref(), Some(message.as_str()));
    assert_eq!(
        row_state(app.sync.db(), "lost-box").await.as_deref(),
        Some("Running")
    );
    app.stop().await;
}
