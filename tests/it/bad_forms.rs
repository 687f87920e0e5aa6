//! Bad input to every state-changing form of the app: a 1 MB field, invalid UTF-8, a field the
//! page does not have, a single-value field sent twice, an empty body, a body that is not a
//! form, a body over the 2 MB limit. Signed in as the admin with a valid CSRF token, so each
//! request reaches the form's decoder. Each must be refused with a clear 4xx whose message
//! names the problem (never a 500, never a panic), and nothing may change: the emulator receives
//! no change and the app's cache and role overrides stay as they were.
//!
//! Each route's base form is one that would succeed: a decoder that let the oddity through
//! would change something, and the test would see it.

use compute_studio::domain::compute::TRANSITIONAL_STATES;
use compute_studio::emulator::demo::DEMO_USERS;
use reqwest::header::CONTENT_TYPE;

use super::helpers::*;

const ONE_MB: usize = 1024 * 1024;
const FORM: &str = "application/x-www-form-urlencoded";

type Fields = Vec<(String, String)>;

/// One state-changing route and a form it would accept.
struct Route {
    path: String,
    fields: Vec<(String, String)>,
    /// A field the form takes once: sent twice, it must be refused by name.
    single: &'static str,
    /// Whether an empty body is a request of its own (a button with no fields).
    empty_is_a_request: bool,
}

fn route(path: &str, fields: &[(&str, &str)], single: &'static str) -> Route {
    Route {
        path: path.to_string(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        single,
        empty_is_a_request: false,
    }
}

fn encode(fields: &[(String, String)]) -> String {
    let mut encoder = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        encoder.append_pair(k, v);
    }
    encoder.finish()
}

/// What must not change: the requests that change something in Azure, the cache's computes and
/// their states, and the role overrides.
#[derive(Debug, PartialEq)]
struct World {
    changes_sent_to_azure: usize,
    cache: Vec<(String, String)>,
    roles_page: String,
}

async fn world(
    app: &TestApp,
    emulator: &compute_studio::emulator::RunningEmulator,
    names: &[String],
) -> World {
    let sent = |method: &str, suffix: &str| emulator.emulator.request_count(method, suffix);
    let computes = app.sync.computes();
    let (status, roles_page) = app.get_text("/admin/roles").await;
    assert_eq!(status, 200);
    World {
        changes_sent_to_azure: sent("PUT", "")
            + sent("PATCH", "")
            + sent("DELETE", "")
            + sent("POST", "/start")
            + sent("POST", "/stop")
            + sent("POST", "/restart"),
        cache: names
            .iter()
            .map(|n| {
                let state = computes.row(n).map(|r| r.state.clone()).unwrap_or_default();
                (n.clone(), state)
            })
            .chain([("(rows)".to_string(), computes.len().to_string())])
            .collect(),
        roles_page: without_last_seen(&roles_page),
    }
}

/// The roles page without its "last seen" times, which move with the clock.
fn without_last_seen(page: &str) -> String {
    page.lines()
        .filter(|line| {
            let cell = line.trim();
            !(cell.starts_with("<td>20") && cell.ends_with("</td>") && cell.len() == 25)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until no cached compute is on its way somewhere (creating, starting, …).
async fn wait_until_settled(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let moving = app.sync.computes().names_in_states(&TRANSITIONAL_STATES);
        if moving.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still moving after 20 s: {moving:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Posts `body` with this content type and the session's token in the header (so the CSRF check
/// never depends on the body), and returns the status and the page.
async fn send(
    app: &TestApp,
    csrf: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    htmx: bool,
) -> (u16, String) {
    let mut request = app
        .client
        .post(format!("{}{path}", app.base_url))
        .header("x-csrf-token", csrf)
        .header(CONTENT_TYPE, content_type)
        .body(body);
    if htmx {
        request = request.header("hx-request", "true");
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let page = response.text().await.unwrap_or_default();
    (status, page)
}

fn assert_refused(case: &str, path: &str, (status, page): &(u16, String), expected: &[&str]) {
    assert!(
        matches!(status, 400 | 413 | 415 | 422),
        "{case} to {path}: a clear 4xx, not {status}: {page}"
    );
    for words in expected {
        assert!(
            page.contains(words),
            "{case} to {path}: the answer says {words:?}: {page}"
        );
    }
}

#[tokio::test]
async fn every_form_refuses_bad_input_by_name_and_changes_nothing() {
    let (emulator, app, _dir) = demo_app().await;
    let member = &DEMO_USERS.iter().find(|u| u.role == "member").unwrap();
    // The member has signed in once, so the admin can set their role.
    app.another_browser()
        .sign_in_user(member, "/computes")
        .await;
    app.sign_in_as("admin").await;
    let csrf = app.csrf_token().await;
    let names: Vec<String> = arm_client(&emulator)
        .list_computes()
        .await
        .unwrap()
        .computes
        .into_iter()
        .filter_map(|c| c.name)
        .collect();
    assert!(
        names.contains(&"ada-dev-box".to_string()) && names.contains(&"cpu-cluster".to_string())
    );

    let instance_token = new_form_token(&app, "instance").await;
    let cluster_token = new_form_token(&app, "cluster").await;
    let inference_token = new_form_token(&app, "inference").await;
    let attach_token = attach_token(&app, "vm").await;
    let roles_path = format!("/admin/roles/{}", member.object_id);
    let mut routes = vec![
        route(
            "/computes/new",
            &[
                ("kind", "instance"),
                ("form_token", &instance_token),
                ("step", "create"),
                ("name", "bad-input-box"),
                ("vm_type", "cpu"),
                ("vm_size", "Standard_DS3_v2"),
                ("public_ip", "on"),
                ("idle_minutes", "60"),
                ("creation_script_source", "none"),
            ],
            "name",
        ),
        route(
            "/computes/new",
            &[
                ("kind", "cluster"),
                ("form_token", &cluster_token),
                ("step", "create"),
                ("name", "bad-input-farm"),
                ("vm_type", "cpu"),
                ("vm_priority", "dedicated"),
                ("vm_size", "Standard_DS3_v2"),
                ("min_nodes", "0"),
                ("max_nodes", "2"),
                ("idle_seconds", "120"),
                ("admin_auth", "none"),
                ("public_ip", "on"),
                ("identity_type", "none"),
            ],
            "vm_size",
        ),
        route(
            "/computes/new",
            &inference_fields(&inference_token, "badinputaks", "create"),
            "nodes",
        ),
        route(
            "/computes/new",
            &[
                ("kind", "attached"),
                ("attach_type", "vm"),
                ("form_token", &attach_token),
                ("step", "create"),
                ("name", "bad-input-vm"),
                ("address", "10.0.0.4"),
                ("ssh_port", "22"),
                ("user", "azureuser"),
                ("auth", "password"),
                ("password", "Remote-Vm-Pass-1"),
            ],
            "address",
        ),
        // The inline check changes nothing, but decodes the same forms; an empty one is
        // checked as an empty instance form.
        Route {
            empty_is_a_request: true,
            ..route(
                "/computes/new/check",
                &[("kind", "instance"), ("name", "checked-box")],
                "name",
            )
        },
        route(
            "/computes/ada-dev-box/delete",
            &[("confirm_name", "ada-dev-box"), ("return_to", "/computes")],
            "confirm_name",
        ),
        route(
            "/computes/bulk",
            &[
                ("action", "stop"),
                ("names", "ada-dev-box"),
                ("tab", "instances"),
            ],
            "action",
        ),
        route(
            "/computes/cpu-cluster/scale",
            &[
                ("min_nodes", "1"),
                ("max_nodes", "3"),
                ("idle_seconds", "300"),
            ],
            "min_nodes",
        ),
        route(
            &roles_path,
            &[("tenant_id", member.tenant_id), ("role", "contributor")],
            "role",
        ),
        Route {
            empty_is_a_request: true,
            ..route("/computes/refresh", &[("tab", "clusters")], "tab")
        },
        // Signing out last: its plain request (an empty form) ends the session.
        Route {
            empty_is_a_request: true,
            ..route("/auth/logout", &[("_csrf", &csrf)], "_csrf")
        },
    ];
    for route in &mut routes {
        // Plain forms carry the token in the body; every route takes the one in the header too.
        if route.single != "_csrf" {
            route.fields.push(("_csrf".into(), csrf.clone()));
        }
    }

    // The demo workspace has a compute still being created: what it does on its own is not what
    // this test looks for.
    wait_until_settled(&app).await;
    let before = world(&app, &emulator, &names).await;
    for route in &routes {
        let path = route.path.as_str();
        let single = route.single;
        let with = |change: &dyn Fn(&mut Fields)| {
            let mut fields = route.fields.clone();
            change(&mut fields);
            encode(&fields).into_bytes()
        };

        // A 1 MB value in a field the form has.
        let huge = with(&|f| {
            f.iter_mut()
                .find(|(k, _)| k == single)
                .map(|(_, v)| *v = "a".repeat(ONE_MB))
                .unwrap_or_else(|| f.push((single.to_string(), "a".repeat(ONE_MB))))
        });
        let answer = send(&app, &csrf, path, FORM, huge, false).await;
        assert_refused(
            "a 1 MB field",
            path,
            &answer,
            &[&format!("The form field &#39;{single}&#39; is too long")],
        );
        assert_eq!(answer.0, 413, "{path}");

        // Invalid UTF-8 in that field.
        let mut invalid = with(&|f| f.retain(|(k, _)| k != single));
        invalid.extend_from_slice(format!("&{single}=ok%FF%FEok").as_bytes());
        let answer = send(&app, &csrf, path, FORM, invalid.clone(), false).await;
        assert_refused(
            "invalid UTF-8",
            path,
            &answer,
            &[&format!("&#39;{single}&#39; is not valid UTF-8")],
        );
        // Raw bytes that are not UTF-8 at all, in a field's name.
        let mut raw = with(&|_| {});
        raw.extend_from_slice(b"&\xff\xfe=1");
        let answer = send(&app, &csrf, path, FORM, raw, false).await;
        assert_refused(
            "a field name that is not UTF-8",
            path,
            &answer,
            &["not valid UTF-8"],
        );

        // A field the page does not have, as a page and as an htmx fragment.
        let unknown = with(&|f| f.push(("is_admin".into(), "yes".into())));
        let answer = send(&app, &csrf, path, FORM, unknown.clone(), false).await;
        assert_refused(
            "an unknown field",
            path,
            &answer,
            &["field this page does not have: &#39;is_admin&#39;"],
        );
        let (status, fragment) = send(&app, &csrf, path, FORM, unknown, true).await;
        assert_eq!(status, 400, "{path}: {fragment}");
        assert!(
            fragment.contains("is_admin") && !fragment.contains("<html"),
            "{path}: an htmx request gets the message as a fragment: {fragment}"
        );

        // A single-value field sent twice.
        let repeated = with(&|f| {
            let value = f
                .iter()
                .find(|(k, _)| k == single)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            f.push((single.to_string(), value));
        });
        let answer = send(&app, &csrf, path, FORM, repeated, false).await;
        assert_refused(
            "a repeated field",
            path,
            &answer,
            &[&format!("&#39;{single}&#39; was sent more than once")],
        );

        // A body that is not a form: JSON, multipart, text.
        let json = serde_json::to_vec(&serde_json::json!({ single: "x" })).unwrap();
        let answer = send(&app, &csrf, path, "application/json", json, false).await;
        assert_refused("a JSON body", path, &answer, &["takes an HTML form"]);
        assert_eq!(answer.0, 415, "{path}");
        let multipart = format!(
            "--b\r\nContent-Disposition: form-data; name=\"{single}\"\r\n\r\nx\r\n--b--\r\n"
        );
        let answer = send(
            &app,
            &csrf,
            path,
            "multipart/form-data; boundary=b",
            multipart.into_bytes(),
            false,
        )
        .await;
        assert_refused("a multipart body", path, &answer, &["takes an HTML form"]);
        let answer = send(&app, &csrf, path, "text/plain", with(&|_| {}), false).await;
        assert_refused(
            "a form sent as text",
            path,
            &answer,
            &["takes an HTML form"],
        );

        // Over the 2 MB any request may have.
        let answer = send(&app, &csrf, path, FORM, vec![b'a'; 3 * ONE_MB], false).await;
        assert_refused("a 3 MB body", path, &answer, &["too large"]);
        assert_eq!(answer.0, 413, "{path}");

        // An empty body: what `curl -X POST` sends.
        if !route.empty_is_a_request {
            let answer = send(&app, &csrf, path, FORM, Vec::new(), false).await;
            assert_refused("an empty body", path, &answer, &[]);
            assert!(
                answer.1.contains("required")
                    || answer.1.contains("missing")
                    || answer.1.contains("must be")
                    || answer.1.contains("type the compute&#39;s name"),
                "an empty body to {path}: the answer names what is missing: {}",
                answer.1
            );
        }
    }
    let after = world(&app, &emulator, &names).await;
    assert_eq!(before, after, "nothing changed");

    // The plain requests of the two buttons without fields still work (sign-out last).
    let (status, _) = send(&app, &csrf, "/computes/refresh", FORM, Vec::new(), false).await;
    assert_eq!(status, 303);
    let (status, _) = send(&app, &csrf, "/auth/logout", FORM, Vec::new(), false).await;
    assert_eq!(status, 303);
    app.stop().await;
}
