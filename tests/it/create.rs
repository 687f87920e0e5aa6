//! Creating compute through the forms: inline checks, kept values, review, create once, and
//! Azure's own refusals on the right field.

use std::time::Duration;

use compute_studio::emulator::demo::DEMO_USERS;
use compute_studio::store;

use crate::helpers::{
    arm_client, demo_app, eventually, field_value, hidden_fields, new_form_token, post,
};

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";

fn instance_fields<'a>(token: &'a str, name: &'a str, step: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("kind", "instance"),
        ("form_token", token),
        ("step", step),
        ("name", name),
        ("vm_type", "cpu"),
        ("vm_size", "Standard_DS3_v2"),
        ("public_ip", "on"),
        ("idle_minutes", "60"),
    ]
}

#[tokio::test]
async fn the_instance_form_offers_the_regions_sizes_networks_and_quota() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("member").await;
    let (status, page) = app.get_text("/computes/new?kind=instance").await;
    assert_eq!(status, 200);
    for expected in [
        "Standard_DS3_v2",
        "Standard_NC6s_v3",
        "ml-vnet",
        "hub-vnet",
        "cannot be changed after creation",
    ] {
        assert!(page.contains(expected), "{expected}");
    }
    assert!(
        !page.contains("hub-vnet-dr"),
        "a network of another region is not offered"
    );
    assert!(
        !page.contains("Assign to another user"),
        "members cannot create for others"
    );
    // The demo workspace's GPU instances leave the A100 family with less than a size needs.
    let (_, admin_page) = {
        let admin = app.another_browser();
        admin.sign_in_as("admin").await;
        admin.get_text("/computes/new?kind=instance").await
    };
    assert!(admin_page.contains("Assign to another user"));
    for person in DEMO_USERS.iter().filter(|u| u.role == "admin") {
        assert!(
            admin_page.contains(person.name),
            "people who signed in are offered"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_bad_form_keeps_every_value_and_shows_each_error_beside_its_field() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("member").await;
    let token = new_form_token(&app, "instance").await;
    let private_key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
    let (status, _, page) = post(
        &app,
        "/computes/new",
        &[
            ("kind", "instance"),
            ("form_token", &token),
            ("step", "review"),
            ("name", "9lives"),
            ("vm_type", "gpu"),
            ("vm_size", "Standard_DS3_v2"),
            ("ssh", "on"),
            ("ssh_key", private_key),
            ("idle_minutes", "5"),
            ("subnet", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x/providers/Microsoft.Network/virtualNetworks/nope/subnets/none"),
            ("schedule-0-action", "Stop"),
            ("schedule-0-enabled", "on"),
            ("schedule-0-kind", "daily"),
            ("schedule-0-time", "25:00"),
            ("schedule-0-tz", "UTC"),
            ("creation_script_source", "path"),
            ("creation_script_path", "/etc/passwd"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    for message in [
        "Compute name must start with a letter.",
        "Standard_DS3_v2 is a CPU size; choose a GPU size or change the type.",
        "PRIVATE key",
        "Idle shutdown must be between 15 minutes and 4320 minutes",
        "That subnet is not one of the subscription",
        "Script path must be relative",
        "things need fixing",
    ] {
        assert!(
            page.contains(&message.replace('\'', "&#39;")) || page.contains(message),
            "missing: {message}\n{page}"
        );
    }
    assert!(
        page.contains("id=\"error-name\" role=\"alert\""),
        "the error sits beside its field"
    );
    assert_eq!(field_value(&page, "name"), "9lives", "values are kept");
    assert_eq!(field_value(&page, "idle_minutes"), "5");
    assert_eq!(field_value(&page, "schedule-0-time"), "25:00");
    assert!(
        !page.contains("b3BlbnNzaC1rZXktdjEAAAAA"),
        "a private key pasted by mistake is never shown again"
    );
    assert_eq!(
        field_value(&page, "form_token"),
        token,
        "the same form, the same token"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_inline_check_answers_for_the_field_being_typed() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("member").await;
    let csrf = app.csrf_token().await;
    let check = |name: &'static str, value: String, field: &'static str| {
        let app = &app;
        let csrf = csrf.clone();
        async move {
            let response = app
                .client
                .post(format!("{}/computes/new/check", app.base_url))
                .header("hx-request", "true")
                .header("hx-trigger-name", field)
                .header("x-csrf-token", csrf)
                .form(&[
                    ("kind", "instance"),
                    ("vm_type", "cpu"),
                    ("ssh", "on"),
                    (name, value.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            response.text().await.unwrap()
        }
    };
    let fragment = check("name", "cpu-".into(), "name").await;
    assert!(fragment.contains("id=\"error-name\""), "{fragment}");
    assert!(
        fragment.contains(
            "Every &#39;-&#39; in a compute name must be followed later by at least one letter."
        ),
        "{fragment}"
    );
    let fine = check("name", "brand-new-box".into(), "name").await;
    assert!(fine.contains("id=\"error-name\" hidden"), "{fine}");
    let taken = check("name", "ADA-DEV-BOX".into(), "name").await;
    assert!(
        taken.contains("already exists in this workspace"),
        "{taken}"
    );
    let key = check("ssh_key", "ssh-rsa AAAAB3NzaC1yc2E".into(), "ssh_key").await;
    assert!(
        key.contains("id=\"error-ssh_key\"") && key.contains("cut off"),
        "{key}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_instance_is_reviewed_created_once_and_carried_to_running() {
    let (emulator, app, _dir) = demo_app().await;
    let member = app.sign_in_as("member").await;
    let token = new_form_token(&app, "instance").await;
    let mut fields = instance_fields(&token, "alan-new-box", "review");
    fields.extend([
        ("ssh", "on"),
        ("ssh_key", ED25519),
        ("schedule-0-action", "Stop"),
        ("schedule-0-enabled", "on"),
        ("schedule-0-kind", "weekly"),
        ("schedule-0-time", "19:30"),
        ("schedule-0-weekday", "Monday"),
        ("schedule-0-weekday", "Friday"),
        ("schedule-0-tz", "W. Europe Standard Time"),
        ("creation_script_source", "inline"),
        (
            "creation_script_inline",
            "#!/bin/bash\ngit clone https://example.com/repo.git\n",
        ),
        ("creation_script_timeout", "10"),
    ]);
    let (status, _, review) = post(&app, "/computes/new", &fields).await;
    assert_eq!(status, 200, "{review}");
    assert!(review.contains("Review alan-new-box"));
    assert!(
        review.contains("personalComputeInstanceSettings"),
        "the exact ARM body is on the page"
    );
    assert!(review.contains("ED25519 key SHA256:"));
    assert!(review.contains("Nothing has been sent to Azure yet"));

    let mut carried = hidden_fields(&review);
    carried.push(("step".into(), "create".into()));
    let carried: Vec<(&str, &str)> = carried
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // A double click: the same form twice, at once.
    let (first, second) = tokio::join!(
        post(&app, "/computes/new", &carried),
        post(&app, "/computes/new", &carried)
    );
    for (status, to, body) in [&first, &second] {
        assert_eq!(*status, 303, "{body}");
        assert_eq!(to, "/computes?tab=instances");
    }
    let creates = store::operations::for_compute(app.sync.db(), "alan-new-box", 10)
        .await
        .unwrap();
    assert_eq!(creates.len(), 1, "one compute, one operation: {creates:?}");

    let (_, list) = app.get_text("/computes?tab=instances&owner=me").await;
    assert!(list.contains("data-name=\"alan-new-box\""), "{list}");
    let arm = arm_client(&emulator);
    eventually(Duration::from_secs(10), "the instance runs", || {
        let arm = arm.clone();
        async move {
            arm.get_compute("alan-new-box")
                .await
                .unwrap()
                .and_then(|c| c.inner_str("state").map(str::to_string))
                .as_deref()
                == Some("Running")
        }
    })
    .await;
    let created = arm.get_compute("alan-new-box").await.unwrap().unwrap();
    let inner = created
        .properties
        .as_ref()
        .unwrap()
        .properties
        .clone()
        .unwrap();
    assert_eq!(
        inner["personalComputeInstanceSettings"]["assignedUser"]["objectId"],
        member.object_id
    );
    assert_eq!(inner["sshSettings"]["sshPublicAccess"], "Enabled");
    assert_eq!(
        inner["schedules"]["computeStartStop"][0]["recurrence"]["schedule"]["weekDays"],
        serde_json::json!(["Monday", "Friday"])
    );
    assert_eq!(
        inner["setupScripts"]["scripts"]["creationScript"]["timeout"],
        "10m"
    );
    eventually(Duration::from_secs(10), "the cache sees it running", || {
        let db = app.sync.db().clone();
        async move {
            store::computes::get_row(&db, "alan-new-box")
                .await
                .unwrap()
                .map(|r| r.state)
                .as_deref()
                == Some("Running")
        }
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn azure_refusals_land_on_their_field_and_failures_on_the_row() {
    let (emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    // A compute made behind the dashboard's back: only Azure knows the name is taken.
    let arm = arm_client(&emulator);
    arm.create_or_update(
        "hidden-box",
        &crate::helpers::instance_body("westeurope", "Standard_DS3_v2"),
    )
    .await
    .unwrap();
    let token = new_form_token(&app, "instance").await;
    let (status, _, page) = post(
        &app,
        "/computes/new",
        &instance_fields(&token, "hidden-box", "create"),
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Azure refused"), "{page}");
    assert!(
        page.contains("id=\"error-name\" role=\"alert\">Azure refused"),
        "on the name field"
    );
    // The refused form may be fixed and sent again with its token.
    let (status, to, _) = post(
        &app,
        "/computes/new",
        &instance_fields(&token, "visible-box", "create"),
    )
    .await;
    assert_eq!((status, to.as_str()), (303, "/computes?tab=instances"));

    // A size the region has no capacity for: accepted, then failed with Azure's message.
    let token = new_form_token(&app, "instance").await;
    let mut fields = instance_fields(&token, "doomed-box", "create");
    fields.retain(|(k, _)| *k != "vm_size" && *k != "vm_type");
    fields.extend([("vm_type", "gpu"), ("vm_size", "Standard_ND96asr_v4")]);
    let (status, _, page) = post(&app, "/computes/new", &fields).await;
    assert_eq!(status, 303, "{page}");
    eventually(
        Duration::from_secs(10),
        "the create fails with Azure's words",
        || {
            let db = app.sync.db().clone();
            async move {
                let ops = store::operations::for_compute(&db, "doomed-box", 10)
                    .await
                    .unwrap();
                ops.first().is_some_and(|op| {
                    op.status == "failed"
                        && op.error_message.as_deref().is_some_and(|m| !m.is_empty())
                })
            }
        },
    )
    .await;
    let failure = store::operations::for_compute(app.sync.db(), "doomed-box", 10)
        .await
        .unwrap()[0]
        .error_message
        .clone()
        .unwrap();
    let (_, list) = app.get_text("/computes?tab=instances&owner=all").await;
    let row_start = list.find("data-name=\"doomed-box\"").unwrap();
    let row = &list[row_start..row_start + list[row_start..].find("</tr>").unwrap()];
    assert!(row.contains("Create failed"), "{row}");
    assert!(
        row.contains("class=\"row-problem\""),
        "Azure's words are on the row: {row}"
    );
    let first_words: String = failure.chars().take(30).collect();
    assert!(
        row.contains(&first_words.replace('\'', "&#39;")),
        "{row}\n{failure}"
    );
    app.stop().await;
}

#[tokio::test]
async fn sizes_over_the_quota_are_refused_with_the_numbers() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    let token = new_form_token(&app, "cluster").await;
    let (status, _, page) = post(
        &app,
        "/computes/new",
        &[
            ("kind", "cluster"),
            ("form_token", &token),
            ("step", "review"),
            ("name", "gpu-farm"),
            ("vm_type", "gpu"),
            ("vm_priority", "dedicated"),
            ("vm_size", "Standard_NC24ads_A100_v4"),
            ("min_nodes", "2"),
            ("max_nodes", "4"),
            ("idle_seconds", "120"),
            ("admin_auth", "none"),
            ("public_ip", "on"),
            ("identity_type", "none"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("The minimum nodes need 48 vCPUs"), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn a_cluster_with_a_password_never_shows_it_and_is_created() {
    let (emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    let token = new_form_token(&app, "cluster").await;
    let password = "Corr3ct-Horse-Battery";
    let config = emulator.emulator.config();
    let uai = config.user_assigned_identities[0].id(&config.subscription_id);
    let mut fields = vec![
        ("kind", "cluster"),
        ("form_token", token.as_str()),
        ("step", "review"),
        ("name", "train-cpu"),
        ("vm_type", "cpu"),
        ("vm_priority", "low"),
        ("vm_size", "Standard_DS3_v2"),
        ("min_nodes", "5"),
        ("max_nodes", "4"),
        ("idle_seconds", ""),
        ("admin_auth", "password"),
        ("admin_user", "mlops"),
        ("admin_password", password),
        ("public_ip", "on"),
        ("identity_type", "user"),
        ("identity_ids", uai.as_str()),
    ];
    let (status, _, page) = post(&app, "/computes/new", &fields).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Maximum nodes (4) must be at least the minimum nodes (5)."),
        "{page}"
    );
    assert!(
        !page.contains(password),
        "a password is never written into a page"
    );
    assert!(
        page.contains("name=\"admin_password_sealed\""),
        "a good password is kept, sealed"
    );
    fields.retain(|(k, _)| *k != "min_nodes");
    fields.push(("min_nodes", "0"));
    let (status, _, review) = post(&app, "/computes/new", &fields).await;
    assert_eq!(status, 200, "{review}");
    assert!(!review.contains(password));
    assert!(review.contains("(hidden: sent to Azure only)"));
    assert!(
        review.contains("may take nodes back"),
        "what low priority means"
    );
    let mut carried = hidden_fields(&review);
    carried.push(("step".into(), "create".into()));
    let carried: Vec<(&str, &str)> = carried
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, to, body) = post(&app, "/computes/new", &carried).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/computes?tab=clusters"),
        "{body}"
    );
    let created = arm_client(&emulator)
        .get_compute("train-cpu")
        .await
        .unwrap()
        .unwrap();
    let inner = created
        .properties
        .as_ref()
        .unwrap()
        .properties
        .clone()
        .unwrap();
    assert_eq!(inner["vmPriority"], "LowPriority");
    assert_eq!(inner["scaleSettings"]["maxNodeCount"], 4);
    assert_eq!(created.identity.as_ref().unwrap()["type"], "UserAssigned");
    let stored: Vec<String> = sqlx::query_scalar("SELECT resource_json FROM computes")
        .fetch_all(app.sync.db())
        .await
        .unwrap();
    assert!(
        stored.iter().all(|json| !json.contains(password)),
        "the cache never holds it"
    );
    app.stop().await;
}

#[tokio::test]
async fn who_may_create_what_for_whom() {
    let (emulator, app, _dir) = demo_app().await;
    let member = app.another_browser();
    member.sign_in_as("member").await;
    let (status, _) = member.get_text("/computes/new?kind=cluster").await;
    assert_eq!(status, 403, "members create instances only");
    let token = new_form_token(&member, "instance").await;
    let mut fields = instance_fields(&token, "for-someone", "review");
    fields.push(("assign_to", "other"));
    let (status, _, page) = post(&member, "/computes/new", &fields).await;
    assert_eq!(status, 422);
    assert!(page.contains("Only an admin may create an instance for somebody else."));

    let admin = app.another_browser();
    admin.sign_in_as("admin").await;
    let token = new_form_token(&admin, "instance").await;
    let mut fields = instance_fields(&token, "for-someone", "create");
    fields.extend([
        ("assign_to", "other"),
        ("assign_object_id", "not-a-guid"),
        ("assign_tenant_id", ""),
    ]);
    let (status, _, page) = post(&admin, "/computes/new", &fields).await;
    assert_eq!(status, 422);
    assert!(page.contains("Object id must be a GUID"), "{page}");
    assert!(page.contains("Tenant id is required."));
    let object_id = "0b9c7e0e-1111-2222-3333-444455556666";
    let tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    fields.retain(|(k, _)| !k.starts_with("assign_"));
    fields.extend([
        ("assign_to", "other"),
        ("assign_object_id", object_id),
        ("assign_tenant_id", tenant_id),
    ]);
    let (status, _, page) = post(&admin, "/computes/new", &fields).await;
    assert_eq!(status, 303, "{page}");
    let created = arm_client(&emulator)
        .get_compute("for-someone")
        .await
        .unwrap()
        .unwrap();
    let assigned = &created.properties.unwrap().properties.unwrap()["personalComputeInstanceSettings"]
        ["assignedUser"];
    assert_eq!(assigned["objectId"], object_id);
    assert_eq!(assigned["tenantId"], tenant_id);
    app.stop().await;
}

#[tokio::test]
async fn forms_a_browser_never_sends_get_a_clear_400() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("member").await;
    let token = new_form_token(&app, "instance").await;
    let mut unknown = instance_fields(&token, "odd-box", "review");
    unknown.push(("is_admin", "true"));
    let (status, _, page) = post(&app, "/computes/new", &unknown).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("a field this page does not have: &#39;is_admin&#39;"),
        "{page}"
    );
    let mut repeated = instance_fields(&token, "odd-box", "review");
    repeated.push(("name", "other-box"));
    let (status, _, page) = post(&app, "/computes/new", &repeated).await;
    assert_eq!(status, 400);
    assert!(page.contains("was sent more than once"));
    let huge = "a".repeat(1024 * 1024);
    let (status, _, page) = post(
        &app,
        "/computes/new",
        &instance_fields(&token, &huge, "review"),
    )
    .await;
    assert_eq!(
        status, 413,
        "a 1 MB name is longer than any field of any form: refused by name, not a crash"
    );
    assert!(
        page.contains("The form field &#39;name&#39; is too long"),
        "{page}"
    );
    assert!(
        !page.contains(&huge[..1000]),
        "and is not echoed whole… or at all"
    );
    let (status, _, _) = post(
        &app,
        "/computes/new",
        &instance_fields("forged", "odd-box", "create"),
    )
    .await;
    assert_eq!(status, 400, "a damaged form token");
    app.stop().await;
}

#[tokio::test]
async fn an_admin_reassigns_an_instance_by_copy_then_confirmed_delete() {
    let (emulator, app, _dir) = demo_app().await;
    let alan = DEMO_USERS
        .iter()
        .find(|u| u.role == "member" && u.name.starts_with("Alan"))
        .unwrap();
    app.another_browser().sign_in_user(alan, "/computes").await;
    let member = app.another_browser();
    member.sign_in_as("member").await;
    assert_eq!(
        member.get_text("/computes/katherine-eda/reassign").await.0,
        403,
        "admins only"
    );

    let admin = app.another_browser();
    admin.sign_in_as("admin").await;
    let (status, page) = admin.get_text("/computes/katherine-eda/reassign").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("cannot change it afterwards"),
        "the page explains why"
    );
    assert!(page.contains(alan.name), "people who signed in are offered");
    let alan_choice = format!("{}|{}", alan.object_id, alan.tenant_id);

    let (status, form) = admin
        .get_text(&format!(
            "/computes/new?kind=instance&copy_of=katherine-eda&assign_to={}",
            crate::helpers::urlencode(&alan_choice)
        ))
        .await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("name=\"replaces\" value=\"katherine-eda\""));
    let old = arm_client(&emulator)
        .get_compute("katherine-eda")
        .await
        .unwrap()
        .unwrap();
    let old_size = old.inner_str("vmSize").unwrap().to_string();
    assert!(
        form.contains(&format!("value=\"{old_size}\" checked")),
        "the copy keeps the size"
    );

    let token = field_value(&form, "form_token");
    let mut fields = instance_fields(&token, "alan-eda", "create");
    fields.retain(|(k, _)| !matches!(*k, "vm_size" | "vm_type"));
    let vm_type = if old_size.contains("_N") {
        "gpu"
    } else {
        "cpu"
    };
    fields.extend([
        ("vm_size", old_size.as_str()),
        ("vm_type", vm_type),
        ("assign_to", alan_choice.as_str()),
        ("replaces", "katherine-eda"),
    ]);
    let (status, to, body) = post(&admin, "/computes/new", &fields).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(to, "/computes/katherine-eda/reassign?created=alan-eda");
    let (_, step_two) = admin.get_text(&to).await;
    assert!(
        step_two.contains("Step 2: delete katherine-eda"),
        "{step_two}"
    );

    let (status, _, _) = post(
        &admin,
        "/computes/katherine-eda/delete",
        &[("confirm_name", "katherine-eda")],
    )
    .await;
    assert_eq!(status, 303);
    let arm = arm_client(&emulator);
    eventually(Duration::from_secs(10), "the old instance is gone", || {
        let arm = arm.clone();
        async move { arm.get_compute("katherine-eda").await.unwrap().is_none() }
    })
    .await;
    let new = arm.get_compute("alan-eda").await.unwrap().unwrap();
    assert_eq!(
        new.properties.unwrap().properties.unwrap()["personalComputeInstanceSettings"]["assignedUser"]
            ["objectId"],
        alan.object_id
    );
    app.stop().await;
}
