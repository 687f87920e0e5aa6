//! The Compute page through the real router and server, on the demo workspace.

use std::time::Duration;

use compute_studio::emulator::demo::DEMO_USERS;

use crate::helpers::{TestApp, arm_client, demo_app, eventually, instance_body};

async fn seeded_app() -> (
    compute_studio::emulator::RunningEmulator,
    TestApp,
    tempfile::TempDir,
) {
    let (emulator, app, dir) = demo_app().await;
    app.sync.resync_now().await.expect("the first resync works");
    // A contributor's list shows everyone's compute by default.
    app.sign_in_as("contributor").await;
    (emulator, app, dir)
}

fn row_names(page: &str) -> Vec<String> {
    page.split("<tr class=\"compute-row\" data-name=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn each_tab_shows_its_kind_of_compute() {
    let (emulator, app, _dir) = seeded_app().await;
    let arm = arm_client(&emulator);
    let listing = arm.list_computes().await.unwrap();
    let names_of = |compute_type: &str| {
        let mut names: Vec<String> = listing
            .computes
            .iter()
            .filter(|c| c.compute_type() == compute_type)
            .filter_map(|c| c.name.clone())
            .collect();
        names.sort_by_key(|n| n.to_ascii_lowercase());
        names
    };

    let (status, instances) = app.get_text("/computes").await;
    assert_eq!(status, 200);
    let expected_instances = names_of("ComputeInstance");
    assert!(expected_instances.len() >= 8);
    assert_eq!(row_names(&instances), expected_instances);

    let (_, clusters) = app.get_text("/computes?tab=clusters").await;
    let expected_clusters = names_of("AmlCompute");
    assert_eq!(expected_clusters.len(), 2);
    assert_eq!(row_names(&clusters), expected_clusters);

    let (_, inference) = app.get_text("/computes?tab=inference").await;
    assert!(row_names(&inference).is_empty());
    assert!(inference.contains("No inference clusters in this workspace"));
    app.stop().await;
}

#[tokio::test]
async fn rows_show_state_size_owner_and_region() {
    let (emulator, app, _dir) = seeded_app().await;
    let (_, page) = app.get_text("/computes").await;
    let location = &emulator.emulator.config().location;
    assert!(page.contains(&format!("<td>{location}</td>")));
    assert!(page.contains("class=\"state good\""), "some instances run");
    assert!(page.contains("class=\"state idle\""), "some are stopped");
    assert!(
        page.contains("class=\"state bad\""),
        "one failed to provision"
    );
    assert!(page.contains("Standard_"));
    let owners_shown = DEMO_USERS
        .iter()
        .filter(|u| page.contains(u.name) || page.contains(u.email))
        .count();
    assert!(owners_shown >= 2, "several owners appear");
    app.stop().await;
}

#[tokio::test]
async fn a_transitional_row_is_pushed_not_polled_until_it_settles() {
    let (emulator, app, _dir) = seeded_app().await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    arm.create_or_update("fresh-box", &instance_body(&location, "Standard_DS11_v2"))
        .await
        .unwrap();
    app.sync.refresh_compute("fresh-box").await.unwrap();

    let (status, row) = app.get_text("/computes/fresh-box/row").await;
    assert_eq!(status, 200);
    assert!(
        row.contains("sse-swap=\"row-fresh-box\""),
        "the live stream replaces it: {row}"
    );
    assert!(row.contains("spinner"));
    assert!(!row.contains("every 2s"), "no polling per row");
    assert!(!row.contains("<html"), "a fragment, not a page");

    // The watcher re-reads it until it settles.
    eventually(Duration::from_secs(5), "the row to settle", || async {
        let (_, row) = app.get_text("/computes/fresh-box/row").await;
        row.contains(">Running<") && !row.contains("spinner")
    })
    .await;
    let (_, gone) = app.get_text("/computes/no-such-box/row").await;
    assert_eq!(gone, "", "a vanished compute's row removes itself");
    app.stop().await;
}

#[tokio::test]
async fn refresh_brings_in_changes_made_outside_the_dashboard() {
    let (emulator, app, _dir) = seeded_app().await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    arm.create_or_update("portal-made", &instance_body(&location, "Standard_DS11_v2"))
        .await
        .unwrap();
    let (_, before) = app.get_text("/computes").await;
    assert!(!before.contains("portal-made"));

    let response = app
        .post_form("/computes/refresh", &[("tab", "instances")])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/computes?tab=instances");
    let (_, after) = app.get_text("/computes").await;
    assert!(after.contains("portal-made"));

    let htmx = app
        .client
        .post(format!("{}/computes/refresh", app.base_url))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", app.csrf_token().await)
        .form(&[("tab", "clusters")])
        .send()
        .await
        .unwrap();
    assert_eq!(htmx.status(), 200);
    assert!(htmx.text().await.unwrap().contains("id=\"compute-list\""));
    app.stop().await;
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let (_emulator, app, _dir) = seeded_app().await;
    let response = app
        .client
        .post(format!("{}/computes/refresh", app.base_url))
        .header("Sec-Fetch-Site", "cross-site")
        .header("Origin", "https://evil.example")
        .form(&[("tab", "instances")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn paging_is_in_the_url() {
    let (emulator, app, _dir) = seeded_app().await;
    for compute in
        compute_studio::emulator::bulk::generated_instances(emulator.emulator.config(), 55)
    {
        emulator.emulator.insert_raw(compute);
    }
    app.sync.resync_now().await.unwrap();
    let (_, first) = app.get_text("/computes").await;
    assert_eq!(row_names(&first).len(), 50);
    assert!(
        first.contains("&#38;page=2\" rel=\"next\""),
        "a next link in {}",
        &first[first.find("class=\"pager\"").unwrap_or(0)..]
    );
    let (_, second) = app.get_text("/computes?tab=instances&page=2").await;
    assert!(!row_names(&second).is_empty());
    assert!(
        row_names(&second)
            .iter()
            .all(|n| !row_names(&first).contains(n))
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_query_values_get_a_clear_400() {
    let (_emulator, app, _dir) = seeded_app().await;
    let (status, page) = app.get_text("/computes?tab=spaceships").await;
    assert_eq!(status, 400);
    assert!(
        page.contains("&#39;tab&#39; must be one of") || page.contains("'tab' must be one of"),
        "{page}"
    );
    let (status, page) = app.get_text("/computes?page=-3").await;
    assert_eq!(status, 400);
    assert!(page.contains("page"));
    app.stop().await;
}

#[tokio::test]
async fn health_404_assets_and_security_headers() {
    let (_emulator, app, _dir) = seeded_app().await;
    assert_eq!(app.get_text("/healthz").await, (200, "ok".to_string()));

    let (status, page) = app.get_text("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(page.contains("Not found") && page.contains("/no/such/page"));

    let page = app.get("/computes").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains(" style="),
        "no inline script or style"
    );

    let htmx = app.get("/static/vendor/htmx-2.0.11.min.js").await;
    assert_eq!(htmx.status(), 200);
    assert!(
        htmx.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = htmx.headers()["etag"].clone();
    let bytes = htmx.bytes().await.unwrap();
    assert_eq!(
        bytes.len(),
        std::fs::read("static/vendor/htmx-2.0.11.min.js")
            .unwrap()
            .len()
    );
    let again = app
        .client
        .get(format!("{}/static/vendor/htmx-2.0.11.min.js", app.base_url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    app.stop().await;
}

#[tokio::test]
async fn filters_sorting_and_paging_work_together_on_a_few_hundred_computes() {
    let (emulator, app, _dir) = seeded_app().await;
    for compute in
        compute_studio::emulator::bulk::generated_instances(emulator.emulator.config(), 300)
    {
        emulator.emulator.insert_raw(compute);
    }
    app.sync.resync_now().await.unwrap();

    // Every third generated instance is stopped; DS3_v2 is every fourth size.
    let (status, page) = app
        .get_text("/computes?owner=all&state=Stopped&size=Standard_DS3_v2&q=bench&page_size=10&sort=created&dir=desc")
        .await;
    assert_eq!(status, 200);
    let names = row_names(&page);
    assert_eq!(names.len(), 10);
    assert!(names.iter().all(|n| n.starts_with("bench")));
    let expected: usize = (0..300).filter(|i| i % 3 == 0 && i % 4 == 1).count();
    assert!(
        page.contains(&format!("of {expected}<")),
        "{expected} match"
    );
    assert!(page.contains("<option value=\"Stopped\" selected>"));
    assert!(page.contains("aria-sort=\"descending\""));
    // The next page keeps every filter.
    assert!(
        page.contains("state=Stopped")
            && page.contains("size=Standard_DS3_v2")
            && page.contains("page=2")
    );
    let created: Vec<&str> = page
        .split("<time datetime=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let (_, nothing) = app.get_text("/computes?owner=all&q=zzz-no-such").await;
    assert!(nothing.contains("match these filters"));
    for bad in ["sort=colour", "dir=up", "page_size=7", "page=0"] {
        let (status, _) = app.get_text(&format!("/computes?{bad}")).await;
        assert_eq!(status, 400, "{bad}");
    }
    app.stop().await;
}
