//! One action on many computes: each judged on its own, each outcome reported.

use std::time::Duration;

use compute_studio::store;

use crate::helpers::{TestApp, demo_app, eventually};

async fn bulk(app: &TestApp, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app.post_form("/computes/bulk", fields).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The outcome row of one compute in the results table.
fn outcome_of(page: &str, name: &str) -> String {
    let start = page
        .find(&format!("<th scope=\"row\">{name}</th>"))
        .unwrap_or_else(|| panic!("{name} is reported: {page}"));
    let end = page[start..].find("</tr>").unwrap() + start;
    page[start..end].to_string()
}

#[tokio::test]
async fn mixed_states_and_kinds_are_each_started_or_skipped_with_the_reason() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    let (status, page) = bulk(
        &app,
        &[
            ("action", "stop"),
            ("tab", "instances"),
            ("owner", "all"),
            ("names", "alan-notebooks"),
            ("names", "ada-dev-box"),
            ("names", "grace-cpu-box"),
            ("names", "cpu-cluster"),
            ("names", "vanished-box"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Stop: 2 started, 3 skipped, 0 failed"),
        "{page}"
    );
    assert!(outcome_of(&page, "alan-notebooks").contains("started"));
    assert!(
        outcome_of(&page, "grace-cpu-box")
            .contains("Only a running instance can be stopped; it is stopped.")
    );
    assert!(outcome_of(&page, "cpu-cluster").contains("compute instances only"));
    assert!(outcome_of(&page, "vanished-box").contains("no longer exists"));
    for name in ["alan-notebooks", "ada-dev-box"] {
        eventually(Duration::from_secs(10), "stopped", || {
            let db = app.sync.db().clone();
            async move {
                store::computes::get_row(&db, name)
                    .await
                    .unwrap()
                    .map(|r| r.state)
                    .as_deref()
                    == Some("Stopped")
            }
        })
        .await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_member_acting_on_everything_matching_touches_only_their_own() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("member").await; // Alan
    let (status, page) = bulk(
        &app,
        &[
            ("action", "stop"),
            ("tab", "instances"),
            ("owner", "all"),
            ("all_matching", "1"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(outcome_of(&page, "alan-notebooks").contains("started"));
    let others = outcome_of(&page, "ada-dev-box");
    assert!(
        others.contains("skipped") && others.contains("own"),
        "{others}"
    );
    assert!(
        store::operations::for_compute(app.sync.db(), "ada-dev-box", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let reader = app.another_browser();
    reader.sign_in_as("reader").await;
    assert_eq!(
        bulk(
            &reader,
            &[
                ("action", "stop"),
                ("tab", "instances"),
                ("names", "edsger-reader-box")
            ]
        )
        .await
        .0,
        403
    );
    app.stop().await;
}

#[tokio::test]
async fn bulk_delete_asks_first_and_lists_what_it_would_delete() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("admin").await;
    let (status, page) = bulk(
        &app,
        &[
            ("action", "delete"),
            ("tab", "clusters"),
            ("owner", "all"),
            ("all_matching", "1"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Delete 2 computes?"), "{page}");
    assert!(
        store::operations::for_compute(app.sync.db(), "cpu-cluster", 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing yet"
    );
    // The demo's GPU cluster is still resizing at start; a resizing cluster is skipped.
    for name in ["cpu-cluster", "gpu-cluster"] {
        eventually(Duration::from_secs(10), "the cluster settles", || {
            let db = app.sync.db().clone();
            async move {
                store::computes::get_row(&db, name)
                    .await
                    .unwrap()
                    .map(|r| r.state)
                    .as_deref()
                    == Some("Steady")
            }
        })
        .await;
    }
    let (status, page) = bulk(
        &app,
        &[
            ("action", "delete"),
            ("tab", "clusters"),
            ("confirm", "yes"),
            ("names", "cpu-cluster"),
            ("names", "gpu-cluster"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Delete: 2 started"), "{page}");
    let (status, _) = bulk(
        &app,
        &[
            ("action", "detonate"),
            ("tab", "clusters"),
            ("names", "cpu-cluster"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    app.stop().await;
}
