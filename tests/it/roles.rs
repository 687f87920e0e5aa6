//! Who may do what, decided on the server: every route × every role, admin pages, and the
//! owner filters of the list.

use compute_studio::emulator::demo::DEMO_USERS;
use compute_studio::store;

use crate::helpers::demo_app;

/// A request of the matrix: method, path, form fields, and the status the role should get.
type Case<'a> = (&'a str, String, Vec<(&'a str, String)>, u16);

const ROLES: [&str; 4] = ["reader", "member", "contributor", "admin"];

#[tokio::test]
async fn every_route_for_every_role() {
    let (emulator, app, _dir) = demo_app().await;
    let arm = crate::helpers::arm_client(&emulator);
    // Somebody else, whose role the state-changing admin route would try to change.
    let other = DEMO_USERS.iter().find(|u| u.role == "reader").unwrap();
    app.sign_in_user(other, "/computes").await;
    let some_instance = store::computes::get_row(app.sync.db(), "ada-dev-box")
        .await
        .unwrap()
        .map(|r| r.name)
        .unwrap_or_default();

    for role in ROLES {
        let app = app.another_browser();
        app.sign_in_as(role).await;
        let is_admin = role == "admin";
        let expect = |allowed: bool, ok: u16| if allowed { ok } else { 403 };
        let is_member_or_more = role != "reader";
        let is_contributor_or_more = matches!(role, "contributor" | "admin");
        let form_token = if is_member_or_more {
            let (_, page) = app.get_text("/computes/new?kind=instance").await;
            let marker = "name=\"form_token\" value=\"";
            let start = page.find(marker).unwrap() + marker.len();
            page[start..start + 64].to_string()
        } else {
            // A reader never gets the form; a well-formed token of their own still gets a 403.
            "ab".repeat(32)
        };
        let created_name = format!("matrix-{role}");
        let role_change: Vec<(&str, String)> = vec![
            ("tenant_id", other.tenant_id.to_string()),
            ("role", "contributor".to_string()),
        ];
        let create_instance: Vec<(&str, String)> = vec![
            ("kind", "instance".into()),
            ("step", "create".into()),
            ("form_token", form_token.clone()),
            ("name", created_name.clone()),
            ("vm_type", "cpu".into()),
            ("vm_size", "Standard_DS3_v2".into()),
            ("public_ip", "on".into()),
        ];
        let check_name: Vec<(&str, String)> =
            vec![("kind", "instance".into()), ("name", "fine-name".into())];
        let cases: Vec<Case> = vec![
            ("GET", "/computes?owner=all".into(), vec![], 200),
            ("GET", format!("/computes/{some_instance}/row"), vec![], 200),
            (
                "POST",
                "/computes/refresh".into(),
                vec![("tab", "instances".into())],
                303,
            ),
            (
                "GET",
                "/computes/new?kind=instance".into(),
                vec![],
                expect(is_member_or_more, 200),
            ),
            (
                "GET",
                "/computes/new?kind=cluster".into(),
                vec![],
                expect(is_contributor_or_more, 200),
            ),
            (
                "POST",
                "/computes/new/check".into(),
                check_name,
                expect(is_member_or_more, 200),
            ),
            (
                "POST",
                "/computes/new".into(),
                create_instance,
                expect(is_member_or_more, 303),
            ),
            ("GET", "/computes/ada-dev-box".into(), vec![], 200),
            ("GET", "/computes/ada-dev-box/status".into(), vec![], 200),
            ("GET", "/activity".into(), vec![], 200),
            ("GET", "/events".into(), vec![], 200),
            (
                "GET",
                "/computes/cpu-cluster/delete".into(),
                vec![],
                expect(is_contributor_or_more, 200),
            ),
            (
                "POST",
                // Each role its own cluster: one that is still resizing would answer 409.
                format!(
                    "/computes/{}/scale",
                    if is_admin {
                        "cpu-cluster"
                    } else {
                        "gpu-cluster"
                    }
                ),
                vec![
                    ("min_nodes", "0".into()),
                    ("max_nodes", "3".into()),
                    ("idle_seconds", "120".into()),
                ],
                expect(is_contributor_or_more, 303),
            ),
            (
                "POST",
                "/computes/bulk".into(),
                vec![
                    ("action", "start".into()),
                    ("tab", "instances".into()),
                    ("names", "edsger-reader-box".into()),
                ],
                expect(is_member_or_more, 200),
            ),
            (
                "GET",
                "/computes/ada-dev-box/reassign".into(),
                vec![],
                expect(is_admin, 200),
            ),
            // Whatever the role, only the owner (Ada, the admin) opens her instance's apps.
            (
                "GET",
                "/computes/ada-dev-box/open/jupyterlab".into(),
                vec![],
                expect(is_admin, 303),
            ),
            ("GET", "/admin/roles".into(), vec![], expect(is_admin, 200)),
            (
                "POST",
                format!("/admin/roles/{}", other.object_id),
                role_change,
                expect(is_admin, 303),
            ),
            ("GET", "/admin/audit".into(), vec![], expect(is_admin, 200)),
            (
                "GET",
                "/admin/audit.csv".into(),
                vec![],
                expect(is_admin, 200),
            ),
        ];
        for (method, path, fields, expected) in cases {
            let status = match method {
                "GET" => app.get(&path).await.status().as_u16(),
                _ => {
                    let fields: Vec<(&str, &str)> =
                        fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    app.post_form(&path, &fields).await.status().as_u16()
                }
            };
            assert_eq!(status, expected, "{role} {method} {path}");
        }
        let created = arm.get_compute(&created_name).await.unwrap();
        assert_eq!(
            created.is_some(),
            is_member_or_more,
            "a refused create reaches Azure never ({role})"
        );
        let overridden =
            store::users::role_override(app.sync.db(), other.object_id, other.tenant_id)
                .await
                .unwrap();
        if is_admin {
            assert_eq!(overridden.as_deref(), Some("contributor"));
        } else {
            assert_eq!(
                overridden, None,
                "a refused role change changed nothing ({role})"
            );
        }
        app.post_form("/auth/logout", &[]).await;
    }
}

#[tokio::test]
async fn an_override_takes_effect_at_the_next_request() {
    let (_emulator, app, _dir) = demo_app().await;
    let reader = DEMO_USERS.iter().find(|u| u.role == "reader").unwrap();
    let reader_app = app.another_browser();
    reader_app.sign_in_user(reader, "/computes").await;
    assert_eq!(reader_app.get("/admin/roles").await.status(), 403);

    app.sign_in_as("admin").await;
    let (_, page) = app.get_text("/admin/roles").await;
    assert!(page.contains(reader.name) && page.contains("Your own role cannot be changed here."));
    let set = app
        .post_form(
            &format!("/admin/roles/{}", reader.object_id),
            &[("tenant_id", reader.tenant_id), ("role", "admin")],
        )
        .await;
    assert_eq!(set.status(), 303);

    assert_eq!(
        reader_app.get("/admin/roles").await.status(),
        200,
        "promoted without signing in again"
    );

    let bad = app
        .post_form(
            &format!("/admin/roles/{}", reader.object_id),
            &[("tenant_id", reader.tenant_id), ("role", "owner")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("must be empty, reader, member, contributor or admin")
    );
    let admin = DEMO_USERS.iter().find(|u| u.role == "admin").unwrap();
    let own = app
        .post_form(
            &format!("/admin/roles/{}", admin.object_id),
            &[("tenant_id", admin.tenant_id), ("role", "reader")],
        )
        .await;
    assert_eq!(own.status(), 403, "an admin cannot demote themselves");
}

#[tokio::test]
async fn the_audit_log_records_actions_and_exports_them() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("admin").await;
    app.post_form("/computes/refresh", &[("tab", "instances")])
        .await;

    let (status, page) = app.get_text("/admin/audit?action=refresh").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<td>refresh</td>")
            && page.contains("Ada Lovelace")
            && page.contains("127.0.0.1")
    );
    assert!(!page.contains("<td>sign-in</td>"), "filtered by action");

    let csv = app.get("/admin/audit.csv").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("time,actor,actor_id,action,target,outcome,detail,source"));
    assert!(csv.contains(",sign-in,") && csv.contains(",refresh,"));
    assert!(
        !csv.to_lowercase().contains("bearer") && !csv.contains("eyJ"),
        "no token is ever recorded"
    );

    let (status, _) = app.get_text("/admin/audit?from=yesterday").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_member_sees_their_own_instances_first_and_all_in_one_click() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sync.resync_now().await.unwrap();
    let member = app.sign_in_as("member").await;

    let (_, mine) = app.get_text("/computes").await;
    let all_rows = store::computes::count(app.sync.db()).await.unwrap();
    let rows = mine.matches("<tr class=\"compute-row\"").count();
    assert!(
        rows > 0 && (rows as i64) < all_rows,
        "only the member's own instances"
    );
    assert!(
        mine.contains(&format!(
            "<option value=\"me\" selected>Me ({rows})</option>"
        )),
        "{mine}"
    );
    assert!(mine.contains(member.email));
    // People who signed in are shown by name, not by Azure's object id or e-mail.
    assert!(
        mine.contains(&format!(
            "<option value=\"{}\">{} (",
            member.object_id, member.name
        )),
        "{mine}"
    );
    assert!(mine.contains(&format!("<td>{}</td>", member.name)));

    let (_, all) = app.get_text("/computes?owner=all").await;
    assert!(all.matches("<tr class=\"compute-row\"").count() > rows);

    let (status, _) = app.get_text("/computes?owner=%3Cscript%3E").await;
    assert_eq!(status, 400);
}
