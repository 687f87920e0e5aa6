//! The activity history: every operation the dashboard started, with who, what, on which
//! compute, how long and how it ended; filtered in the URL and paged.

use std::time::Duration;

use compute_studio::emulator::demo::DEMO_USERS;
use compute_studio::store;

use crate::helpers::{TestApp, demo_app, eventually, urlencode};

/// The part of the activity page below the filters (whose choices name everybody anyway).
fn results(page: &str) -> &str {
    let start = page
        .find("id=\"activity-results\"")
        .unwrap_or_else(|| panic!("no results: {page}"));
    &page[start..]
}

async fn all_finished(app: &TestApp, name: &str) -> bool {
    store::operations::for_compute(app.sync.db(), name, 100)
        .await
        .unwrap()
        .iter()
        .all(|op| op.ended_at.is_some())
}

#[tokio::test]
async fn operations_are_listed_with_who_what_and_outcome_and_the_filters_narrow_them() {
    let (_emulator, app, _dir) = demo_app().await;
    forget_observed(&app).await;
    let alan = app.another_browser();
    alan.sign_in_as("member").await;
    let stopped = alan.post_form("/computes/alan-notebooks/stop", &[]).await;
    assert_eq!(stopped.status().as_u16(), 303);
    // Grace asks for more nodes than the quota allows: Azure refuses, the refusal is recorded.
    let grace = app.another_browser();
    grace.sign_in_as("contributor").await;
    let refused = grace
        .post_form(
            "/computes/cpu-cluster/scale",
            &[
                ("min_nodes", "200"),
                ("max_nodes", "300"),
                ("idle_seconds", ""),
            ],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    assert!(refused.text().await.unwrap().contains("QuotaExceeded"));
    eventually(Duration::from_secs(10), "the stop ends", || async {
        all_finished(&app, "alan-notebooks").await
    })
    .await;

    let (status, page) = alan.get_text("/activity").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("aria-current=\"page\">Activity</a>"),
        "the nav shows where we are"
    );
    let listed = results(&page);
    for expected in [
        "Alan Turing",
        "Stop",
        "href=\"/computes/alan-notebooks\"",
        "Succeeded",
        "Grace Hopper",
        "Update scale settings",
        "Failed",
        "(QuotaExceeded)",
        "Showing 1–2 of 2",
    ] {
        assert!(listed.contains(expected), "{expected}: {listed}");
    }
    assert!(
        listed.find("cpu-cluster") < listed.find("alan-notebooks"),
        "newest first"
    );

    let alan_id = DEMO_USERS
        .iter()
        .find(|u| u.name == "Alan Turing")
        .unwrap()
        .object_id;
    let cases = [
        (format!("person={alan_id}"), "alan-notebooks", "cpu-cluster"),
        (
            "outcome=failed".to_string(),
            "cpu-cluster",
            "alan-notebooks",
        ),
        (
            "outcome=succeeded".to_string(),
            "alan-notebooks",
            "cpu-cluster",
        ),
        (
            "compute=NOTEBOOK".to_string(),
            "alan-notebooks",
            "cpu-cluster",
        ),
        ("action=update".to_string(), "cpu-cluster", "alan-notebooks"),
    ];
    for (query, kept, dropped) in cases {
        let (status, page) = alan.get_text(&format!("/activity?{query}")).await;
        assert_eq!(status, 200, "{query}");
        let listed = results(&page);
        assert!(listed.contains(kept), "{query} keeps {kept}");
        assert!(!listed.contains(dropped), "{query} drops {dropped}");
        assert!(listed.contains("Showing 1–1 of 1"), "{query}");
    }
    let (_, page) = alan.get_text("/activity?outcome=canceled").await;
    assert!(results(&page).contains("No operations match these filters"));
    let (_, page) = alan
        .get_text("/activity?from=2000-01-01&to=2000-12-31")
        .await;
    assert!(results(&page).contains("No operations match these filters"));

    // The compute's own page lists its operations too.
    let (_, page) = alan.get_text("/computes/alan-notebooks").await;
    let section = &page[page.find("id=\"compute-activity\"").unwrap()..];
    assert!(
        section.contains("Alan Turing") && section.contains("Stop"),
        "{section}"
    );
    assert!(section.contains("/activity?compute=alan-notebooks"));

    for bad in [
        "outcome=exploded",
        "from=yesterday",
        "page=0",
        "person=a%20b",
    ] {
        let (status, _) = alan.get_text(&format!("/activity?{bad}")).await;
        assert_eq!(status, 400, "{bad}");
    }
    app.stop().await;
}

#[tokio::test]
async fn activity_is_paged_fifty_at_a_time_newest_first() {
    let (_emulator, app, _dir) = demo_app().await;
    forget_observed(&app).await;
    app.sign_in_as("reader").await;
    let db = app.sync.db();
    for i in 0..61 {
        let at = format!("2026-11-01T10:{:02}:{:02}.000000Z", i / 60, i % 60);
        let id = store::operations::insert_requested(
            db,
            &format!("box-{i:02}"),
            "start",
            "someone",
            &at,
            &at,
        )
        .await
        .unwrap();
        store::operations::finish(db, &id, "succeeded", &at, None)
            .await
            .unwrap();
    }
    let (_, first) = app.get_text("/activity").await;
    let listed = results(&first);
    assert!(listed.contains("Showing 1–50 of 61"), "{listed}");
    assert!(
        listed.contains("box-60") && !listed.contains("box-10<"),
        "the newest fifty"
    );
    assert!(
        listed.contains("user someone"),
        "an unknown person by short id"
    );
    assert!(!listed.contains("rel=\"prev\""));
    let next = "/activity?page=2";
    assert!(
        listed.contains(&format!("href=\"{next}\" rel=\"next\"")),
        "{listed}"
    );
    let (_, second) = app.get_text(next).await;
    let listed = results(&second);
    assert!(listed.contains("Showing 51–61 of 61"));
    assert!(listed.contains("box-00") && !listed.contains("box-60"));
    assert!(listed.contains("href=\"/activity\" rel=\"prev\""));
    assert!(!listed.contains("rel=\"next\""));
    // The filters stay in the pager's links.
    let (_, filtered) = app
        .get_text(&format!("/activity?compute={}", urlencode("box-")))
        .await;
    assert!(
        results(&filtered).contains("href=\"/activity?compute=box-&#38;page=2\""),
        "{filtered}"
    );
    app.stop().await;
}

#[tokio::test]
async fn operations_azure_ran_on_its_own_are_in_the_history_once() {
    let (_emulator, app, _dir) = crate::helpers::demo_app().await;
    app.sign_in_as("reader").await;
    // The demo workspace's stopped instances were stopped by idle shutdown.
    let (status, page) = app.get_text("/activity?compute=grace-cpu-box").await;
    assert_eq!(status, 200);
    assert!(page.contains("Idle shutdown"), "{page}");
    app.sync.resync_now().await.unwrap();
    app.sync.refresh_compute("grace-cpu-box").await.unwrap();
    let observed =
        compute_studio::store::operations::for_compute(app.sync.db(), "grace-cpu-box", 10)
            .await
            .unwrap();
    assert_eq!(observed.len(), 1, "seen again, recorded once: {observed:?}");
    assert_eq!(observed[0].started_by, "idle-shutdown");
    assert_eq!(observed[0].status, "succeeded");
    app.stop().await;
}

/// These tests count what people did: the demo workspace's idle-shutdown stops, which the
/// history also lists, are left out.
async fn forget_observed(app: &crate::helpers::TestApp) {
    // The demo's idle-shutdown stops may still be settling: wait for them, then forget them.
    crate::helpers::eventually(
        std::time::Duration::from_secs(10),
        "the demo settles",
        || {
            let db = app.sync.db().clone();
            async move {
                let states: Vec<String> = sqlx::query_scalar("SELECT state FROM computes")
                    .fetch_all(&db)
                    .await
                    .unwrap();
                states
                    .iter()
                    .all(|s| !compute_studio::domain::compute::is_transitional(s))
            }
        },
    )
    .await;
    sqlx::query("DELETE FROM operations WHERE started_by IN ('schedule', 'idle-shutdown')")
        .execute(app.sync.db())
        .await
        .unwrap();
}
