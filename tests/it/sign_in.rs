//! Sign-in through the emulator's Entra over real HTTP, sessions, CSRF, and open redirects.

use crate::helpers::{browser, demo_app, location};
use compute_studio::emulator::demo::DEMO_USERS;

#[tokio::test]
async fn a_visitor_signs_in_and_returns_to_the_page_they_wanted() {
    let (_emulator, app, _dir) = demo_app().await;

    let first = app.get("/computes?tab=clusters").await;
    assert_eq!(first.status(), 303);
    let login = location(&first);
    assert_eq!(login, "/auth/login?next=%2Fcomputes%3Ftab%3Dclusters");

    let login = app
        .client
        .get(format!("{}{login}", app.base_url))
        .send()
        .await
        .unwrap();
    let authorize = location(&login);
    for part in [
        "response_type=code",
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
        "scope=openid",
    ] {
        assert!(authorize.contains(part), "{part} in {authorize}");
    }
    let user = &DEMO_USERS[0];
    let landed = app.sign_in_user(user, "/computes?tab=clusters").await;
    assert_eq!(landed, "/computes?tab=clusters");

    let (status, page) = app.get_text("/computes?tab=clusters").await;
    assert_eq!(status, 200);
    assert!(page.contains(user.name), "the header names the person");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_lax() {
    let (_emulator, app, _dir) = demo_app().await;
    let login = app.get("/auth/login").await;
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("compute_studio_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http in tests");
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in() {
    let (_emulator, app, _dir) = demo_app().await;
    let before = app.get("/auth/login").await.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    app.sign_in_as("member").await;
    let probe = browser();
    // The planted (pre-sign-in) id is worth nothing afterwards.
    let planted = before.split(';').next().unwrap().to_string();
    let response = probe
        .get(format!("{}/computes", app.base_url))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        303,
        "the old session id is not signed in"
    );
}

#[tokio::test]
async fn only_local_paths_are_returned_to() {
    let (_emulator, app, _dir) = demo_app().await;
    for evil in [
        "https://evil.example/steal",
        "//evil.example",
        "/\\evil.example",
    ] {
        let landed = app.sign_in_user(&DEMO_USERS[1], evil).await;
        assert_eq!(landed, "/computes", "{evil}");
    }
}

#[tokio::test]
async fn a_callback_that_was_not_started_here_is_refused() {
    let (_emulator, app, _dir) = demo_app().await;
    let (status, page) = app.get_text("/auth/callback?code=abc&state=xyz").await;
    assert_eq!(status, 400);
    assert!(page.contains("not started here"));

    // Started, but the state does not match.
    let login = app.get("/auth/login").await;
    assert_eq!(login.status(), 303);
    let (status, page) = app.get_text("/auth/callback?code=abc&state=forged").await;
    assert_eq!(status, 400);
    assert!(page.contains("state mismatch"));
}

#[tokio::test]
async fn an_htmx_request_without_a_session_is_sent_to_sign_in() {
    let (_emulator, app, _dir) = demo_app().await;
    let response = app
        .client
        .get(format!("{}/computes/anything/row", app.base_url))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["hx-redirect"]
            .to_str()
            .unwrap()
            .starts_with("/auth/login")
    );
}

#[tokio::test]
async fn state_changes_without_the_csrf_token_are_refused_and_change_nothing() {
    let (emulator, app, _dir) = demo_app().await;
    app.sign_in_as("admin").await;
    let lists_before = emulator.emulator.request_count("GET", "/computes");
    let url = format!("{}/computes/refresh", app.base_url);

    let missing = app
        .client
        .post(&url)
        .form(&[("tab", "instances")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403);
    assert!(missing.text().await.unwrap().contains("security token"));
    let wrong = app
        .client
        .post(&url)
        .header("X-CSRF-Token", "0".repeat(64))
        .form(&[("tab", "instances")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    assert_eq!(
        emulator.emulator.request_count("GET", "/computes"),
        lists_before,
        "no resync happened"
    );

    let allowed = app
        .post_form("/computes/refresh", &[("tab", "instances")])
        .await;
    assert_eq!(allowed.status(), 303);
    assert!(emulator.emulator.request_count("GET", "/computes") > lists_before);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("member").await;
    let out = app.post_form("/auth/logout", &[]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/auth/signed-out");
    assert_eq!(
        app.get("/computes").await.status(),
        303,
        "signed out: back to sign-in"
    );
}

/// The default demo: the in-process emulator listens on loopback, so its sign-in pages are also
/// served under the dashboard's own address, where any browser that reaches the dashboard can go.
#[tokio::test]
async fn the_demo_sign_in_pages_are_served_under_the_dashboards_address() {
    use compute_studio::startup::{Application, Overrides};
    let dir = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::settings(&crate::helpers::database_url(&dir));
    settings.mode = compute_studio::config::Mode::Demo {
        pace: compute_studio::config::EmulatorPace::Fast,
        activity: None,
        extra_instances: 0,
        emulator_url: None,
    };
    let app = Application::build_with(settings, Overrides::default())
        .await
        .unwrap();
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = browser();

    let login = client
        .get(format!("{base}/auth/login"))
        .send()
        .await
        .unwrap();
    let authorize = location(&login);
    assert!(
        authorize.starts_with(&format!("{base}/_demo-entra/")),
        "{authorize}"
    );
    let picker = client.get(&authorize).send().await.unwrap();
    assert_eq!(picker.status(), 200);
    let page = picker.text().await.unwrap();
    assert!(page.contains("Pick an account") && page.contains("../../../_emulator/signin.css"));
    let css = client
        .get(format!("{base}/_demo-entra/_emulator/signin.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);

    let hinted = client
        .get(format!(
            "{authorize}&prompt=none&login_hint={}",
            crate::helpers::urlencode(DEMO_USERS[0].email)
        ))
        .send()
        .await
        .unwrap();
    let callback = location(&hinted);
    let done = client.get(callback).send().await.unwrap();
    assert_eq!(done.status(), 303);
    let list = client.get(format!("{base}/computes")).send().await.unwrap();
    assert_eq!(list.status(), 200);
    // The dashboard does not expose the emulator's ARM API, only its sign-in pages.
    let arm = client
        .get(format!("{base}/_demo-entra/subscriptions/x/providers"))
        .send()
        .await
        .unwrap();
    assert_eq!(arm.status(), 404);
    let _ = stop.send(());
    let _ = server.await;
}
