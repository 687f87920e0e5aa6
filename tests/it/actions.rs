//! Start, stop, restart and delete one compute: each to its end against the emulator, and each
//! refusal (state, role) changing nothing.

use std::time::Duration;

use compute_studio::store;

use crate::helpers::{TestApp, demo_app, eventually};

async fn cached_state(app: &TestApp, name: &str) -> Option<String> {
    store::computes::get_row(app.sync.db(), name)
        .await
        .unwrap()
        .map(|r| r.state)
}

async fn wait_for_state(app: &TestApp, name: &str, state: &'static str) {
    eventually(Duration::from_secs(10), state, || async move {
        cached_state(app, name).await.as_deref() == Some(state)
    })
    .await;
}

/// Operations people started on the compute (not the ones Azure ran by schedule or idle shutdown).
async fn operations(app: &TestApp, name: &str) -> usize {
    store::operations::for_compute(app.sync.db(), name, 100)
        .await
        .unwrap()
        .iter()
        .filter(|op| !matches!(op.started_by.as_str(), "schedule" | "idle-shutdown"))
        .count()
}

#[tokio::test]
async fn an_owner_stops_starts_and_restarts_their_instance() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("member").await; // Alan, owner of alan-notebooks
    let response = app.post_form("/computes/alan-notebooks/stop", &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/computes?tab=instances");
    wait_for_state(&app, "alan-notebooks", "Stopped").await;
    let (_, list) = app.get_text("/computes?tab=instances").await;
    assert!(
        list.contains("Stop alan-notebooks."),
        "the notice says what was done"
    );

    let started = app
        .client
        .post(format!("{}/computes/alan-notebooks/start", app.base_url))
        .header("hx-request", "true")
        .header("x-csrf-token", app.csrf_token().await)
        .form(&[("return_to", "/computes")])
        .send()
        .await
        .unwrap();
    assert_eq!(started.status().as_u16(), 200);
    let row = started.text().await.unwrap();
    assert!(
        row.contains("data-name=\"alan-notebooks\"") && row.contains("Starting"),
        "htmx gets the row: {row}"
    );
    wait_for_state(&app, "alan-notebooks", "Running").await;
    assert_eq!(
        app.post_form("/computes/alan-notebooks/restart", &[])
            .await
            .status()
            .as_u16(),
        303
    );
    wait_for_state(&app, "alan-notebooks", "Running").await;
    assert_eq!(operations(&app, "alan-notebooks").await, 3);
    app.stop().await;
}

#[tokio::test]
async fn refusals_change_nothing_and_say_why() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("member").await;
    // The wrong state: alan-notebooks runs.
    let response = app.post_form("/computes/alan-notebooks/start", &[]).await;
    assert_eq!(response.status().as_u16(), 409);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Only a stopped instance can be started; it is running."),
        "{page}"
    );
    // Not theirs.
    let response = app.post_form("/computes/ada-dev-box/stop", &[]).await;
    assert_eq!(response.status().as_u16(), 403);
    // Not for a member at all.
    assert_eq!(
        app.post_form(
            "/computes/cpu-cluster/delete",
            &[("confirm_name", "cpu-cluster")]
        )
        .await
        .status()
        .as_u16(),
        403
    );
    // An action that does not exist.
    assert_eq!(
        app.post_form("/computes/alan-notebooks/explode", &[])
            .await
            .status()
            .as_u16(),
        404
    );
    let reader = app.another_browser();
    reader.sign_in_as("reader").await;
    assert_eq!(
        reader
            .post_form("/computes/edsger-reader-box/start", &[])
            .await
            .status()
            .as_u16(),
        403,
        "readers act on nothing, even their own"
    );
    for name in [
        "alan-notebooks",
        "ada-dev-box",
        "cpu-cluster",
        "edsger-reader-box",
    ] {
        assert_eq!(operations(&app, name).await, 0, "{name} was left alone");
    }
    assert_eq!(
        cached_state(&app, "ada-dev-box").await.as_deref(),
        Some("Running")
    );
    app.stop().await;
}

#[tokio::test]
async fn delete_is_confirmed_by_name_and_the_row_goes() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    let (status, page) = app.get_text("/computes/cpu-cluster/delete").await;
    assert_eq!(status, 200);
    assert!(page.contains("Type <strong>cpu-cluster</strong> to confirm"));
    let response = app
        .post_form(
            "/computes/cpu-cluster/delete",
            &[("confirm_name", "cpu-clus")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(operations(&app, "cpu-cluster").await, 0);
    let response = app
        .post_form(
            "/computes/cpu-cluster/delete",
            &[
                ("confirm_name", "cpu-cluster"),
                ("return_to", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        response.headers()["location"],
        "/computes",
        "never back to another site"
    );
    eventually(Duration::from_secs(10), "the cluster is gone", || async {
        cached_state(&app, "cpu-cluster").await.is_none()
    })
    .await;
    app.stop().await;
}
