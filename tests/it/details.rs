//! The details page of one compute: everything Azure knows in words, the actions and
//! applications this person may use, and a cluster's scale settings edited in place.

use std::time::Duration;

use compute_studio::domain::arm_ids::subnet_id;
use compute_studio::emulator::RunningEmulator;
use compute_studio::emulator::demo::DEMO_USERS;
use compute_studio::store;
use serde_json::{Value, json};

use compute_studio::emulator::{EmulatorConfig, Timings};

use crate::helpers::{TestApp, arm_client, database_url, demo_app, eventually, spawn_emulator};

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";

/// "echo token=s3cret" — a setup script whose text must never reach the page.
const SCRIPT_BASE64: &str = "ZWNobyB0b2tlbj1zM2NyZXQ=";

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

async fn operations(app: &TestApp, name: &str) -> Vec<store::operations::OperationRecord> {
    store::operations::for_compute(app.sync.db(), name, 100)
        .await
        .unwrap()
}

/// Alan's instance with SSH on, in a subnet, with a schedule, idle shutdown and a setup script,
/// created the way Azure's own clients do, then seen by the dashboard.
async fn create_ssh_instance(emulator: &RunningEmulator, app: &TestApp, name: &str) {
    let config = emulator.emulator.config();
    let alan = DEMO_USERS.iter().find(|u| u.name == "Alan Turing").unwrap();
    let body = json!({
        "location": config.location,
        "properties": {
            "computeType": "ComputeInstance",
            "description": "Alan's box with SSH",
            "properties": {
                "vmSize": "Standard_DS3_v2",
                "sshSettings": {"sshPublicAccess": "Enabled", "adminPublicKey": ED25519},
                "subnet": {"id": subnet_id(&config.subscription_id, &config.resource_group, "ml-vnet", "instances")},
                "personalComputeInstanceSettings": {"assignedUser": {"objectId": alan.object_id, "tenantId": alan.tenant_id}},
                "idleTimeBeforeShutdown": "PT60M",
                "schedules": {"computeStartStop": [{
                    "status": "Enabled", "action": "Stop", "triggerType": "Recurrence",
                    "recurrence": {"frequency": "Day", "interval": 1, "timeZone": "UTC",
                                   "schedule": {"hours": [18], "minutes": [0]}}
                }]},
                "setupScripts": {"scripts": {"creationScript": {"scriptSource": "inline", "scriptData": SCRIPT_BASE64}}}
            }
        }
    });
    arm_client(emulator)
        .create_or_update(name, &serde_json::from_value(body).unwrap())
        .await
        .expect("the emulator creates the instance");
    app.sync.resync_now().await.unwrap();
    wait_for_state(app, name, "Running").await;
}

/// What a page says for `label` in one of its lists of facts.
fn fact(page: &str, label: &str) -> String {
    let marker = format!("<dt>{label}</dt>");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no fact {label}: {page}"))
        + marker.len();
    let rest = &page[start..];
    let value = rest.find("<dd>").expect("a value") + 4;
    let end = rest.find("</dd>").expect("the end of the value");
    rest[value..end].trim().to_string()
}

/// The value of the input named `name` on a page.
fn input_value(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no input {name}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

async fn scale_settings_in_azure(emulator: &RunningEmulator, name: &str) -> Value {
    let cluster = arm_client(emulator)
        .get_compute(name)
        .await
        .unwrap()
        .expect("the cluster exists");
    serde_json::to_value(cluster).unwrap()["properties"]["properties"]["scaleSettings"].clone()
}

#[tokio::test]
async fn an_instance_with_ssh_shows_everything_azure_knows_in_words() {
    let (emulator, app, _dir) = demo_app().await;
    create_ssh_instance(&emulator, &app, "alan-ssh-box").await;
    app.sign_in_as("member").await; // Alan
    let (status, page) = app.get_text("/computes/alan-ssh-box").await;
    assert_eq!(status, 200, "{page}");
    for expected in [
        "alan-ssh-box",
        "Compute instance",
        "Alan&#39;s box with SSH",
        "Running",
        "Standard_DS3_v2",
        "westeurope",
        "Alan Turing", // the assigned user, named
        "Created by",
        "Private IP",
        "10.0.",
        "Public IP",
        "20.86.",
        "ssh -p 500",
        "azureuser@20.86.",
        "readonly",
        "ED25519 key SHA256:",
        "Stop every day at 18:00 (UTC)",
        "Stops after 1 h without activity",
        "An inline script",
        "Create by a person",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    assert_eq!(fact(&page, "Subnet"), "instances");
    assert_eq!(fact(&page, "Virtual network"), "ml-vnet");
    assert_eq!(fact(&page, "Assigned to"), "Alan Turing");
    assert_eq!(fact(&page, "Creation script"), "An inline script");
    assert!(
        !page.contains(SCRIPT_BASE64) && !page.contains("s3cret"),
        "a setup script is never shown"
    );

    // Ada's instance has SSH off: no command to copy.
    let (status, page) = app.get_text("/computes/ada-dev-box").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Off (SSH access can only be chosen"),
        "{page}"
    );
    assert!(!page.contains("ssh -p"), "no SSH command without SSH");
    assert!(
        page.contains("Stop at cron &#39;0 19 * * 1-5&#39;"),
        "{page}"
    );
    app.stop().await;
}

#[tokio::test]
async fn applications_and_actions_are_offered_to_those_who_may_use_them() {
    let (_emulator, app, _dir) = demo_app().await;
    let alan = app.another_browser();
    alan.sign_in_as("member").await;
    let (_, own) = alan.get_text("/computes/alan-notebooks").await;
    for link in ["jupyterlab", "jupyter", "vscode", "rstudio", "terminal"] {
        assert!(
            own.contains(&format!("href=\"/computes/alan-notebooks/open/{link}\"")),
            "{link}"
        );
    }
    assert!(own.contains("action=\"/computes/alan-notebooks/stop\""));
    assert!(own.contains("action=\"/computes/alan-notebooks/restart\""));
    assert!(
        own.contains("href=\"/computes/alan-notebooks/delete\""),
        "delete goes to its confirmation page"
    );
    assert!(
        !own.contains("action=\"/computes/alan-notebooks/start\""),
        "not in this state"
    );
    assert!(!own.contains("/reassign"), "only admins reassign");

    let (_, others) = alan.get_text("/computes/ada-dev-box").await;
    assert!(
        !others.contains("/open/"),
        "no applications of somebody else's"
    );
    assert!(
        !others.contains("action=\"/computes/ada-dev-box/"),
        "no actions on somebody else's"
    );

    let ada = app.another_browser();
    ada.sign_in_as("admin").await;
    let (_, page) = ada.get_text("/computes/alan-notebooks").await;
    assert!(
        !page.contains("/open/"),
        "the admin does not use Alan's workstation"
    );
    assert!(page.contains("action=\"/computes/alan-notebooks/stop\""));
    assert!(page.contains("href=\"/computes/alan-notebooks/reassign\""));
    let (_, own_stopped) = ada.get_text("/computes/ada-dev-box").await;
    assert!(own_stopped.contains("/computes/ada-dev-box/open/jupyterlab"));

    // An action from the page comes back to the page, with what was done.
    let stopped = alan
        .post_form(
            "/computes/alan-notebooks/stop",
            &[("return_to", "/computes/alan-notebooks")],
        )
        .await;
    assert_eq!(stopped.status().as_u16(), 303);
    assert_eq!(stopped.headers()["location"], "/computes/alan-notebooks");
    let (_, page) = alan.get_text("/computes/alan-notebooks").await;
    assert!(page.contains("Stop alan-notebooks."), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn the_status_section_follows_the_live_stream_and_reloads_without_javascript() {
    // Stopping takes long enough here to look at the page while it happens.
    let mut config = EmulatorConfig::demo();
    config.timings = Timings {
        stop: Duration::from_secs(30),
        ..Timings::fast()
    };
    config.demo_activity = None;
    let emulator = spawn_emulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    app.sign_in_as("member").await;
    let (status, section) = app.get_text("/computes/alan-notebooks/status").await;
    assert_eq!(status, 200);
    assert!(
        section.starts_with("<section id=\"compute-status\""),
        "{section}"
    );
    assert!(
        !section.contains("every 2s"),
        "a settled compute is not polled"
    );
    let (_, page) = app.get_text("/computes/alan-notebooks").await;
    assert!(!page.contains("http-equiv=\"refresh\""));

    let response = app.post_form("/computes/alan-notebooks/stop", &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = app.get_text("/computes/alan-notebooks").await;
    assert!(
        page.contains("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>"),
        "without JavaScript the page reloads itself"
    );
    let (_, section) = app.get_text("/computes/alan-notebooks/status").await;
    assert!(section.contains("Stopping"), "{section}");
    assert!(
        section.contains(
            "hx-get=\"/computes/alan-notebooks/status\" hx-trigger=\"sse:row-alan-notebooks\""
        ),
        "the live stream, not a timer, makes it re-read itself: {section}"
    );
    assert!(!section.contains("every 2s"));
    assert!(
        !section.contains("action=\"/computes/"),
        "no actions while it moves"
    );

    let (status, section) = app.get_text("/computes/no-such-box/status").await;
    assert_eq!(status, 200);
    assert!(
        section.contains("no longer exists") && !section.contains("every 2s"),
        "a compute that is gone stops the polling: {section}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_compute_is_not_found() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("reader").await;
    let (status, page) = app.get_text("/computes/no-such-box").await;
    assert_eq!(status, 404);
    assert!(
        page.contains("compute named &#39;no-such-box&#39;"),
        "{page}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cluster_shows_its_nodes_and_its_scale_settings_are_checked_before_azure_is_asked() {
    let (emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await; // Grace
    let (status, page) = app.get_text("/computes/cpu-cluster").await;
    assert_eq!(status, 200);
    for expected in [
        "Compute cluster",
        "Current nodes",
        "Target nodes",
        "Allocation",
        "Node states",
        "Scales from 0 to 8 nodes; idle nodes are released after 2 min.",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    assert_eq!(fact(&page, "VM priority"), "Dedicated");
    assert_eq!(fact(&page, "Current nodes"), "0");
    assert_eq!(input_value(&page, "max_nodes"), "8");
    let before = scale_settings_in_azure(&emulator, "cpu-cluster").await;

    // Minimum above maximum: said beside the maximum, the typed values kept, nothing sent.
    let response = app
        .post_form(
            "/computes/cpu-cluster/scale",
            &[("min_nodes", "5"), ("max_nodes", "2"), ("idle_seconds", "")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Maximum nodes (2) must be at least the minimum nodes (5)."),
        "{page}"
    );
    assert_eq!(input_value(&page, "min_nodes"), "5");
    assert_eq!(input_value(&page, "max_nodes"), "2");
    assert!(
        page.contains("<h1>cpu-cluster"),
        "without JavaScript, the whole page"
    );

    // Not numbers, through htmx: the section alone, each field with its own message.
    let response = app
        .client
        .post(format!("{}/computes/cpu-cluster/scale", app.base_url))
        .header("hx-request", "true")
        .header("x-csrf-token", app.csrf_token().await)
        .form(&[
            ("min_nodes", "one"),
            ("max_nodes", "x"),
            ("idle_seconds", "soon"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let section = response.text().await.unwrap();
    assert!(
        section.starts_with("<section id=\"compute-scale\""),
        "{section}"
    );
    for message in [
        "Minimum nodes must be a whole number from 0 to 10000, not &#39;one&#39;.",
        "Maximum nodes must be a whole number from 1 to 10000, not &#39;x&#39;.",
        "Idle seconds before scale down must be a whole number",
    ] {
        assert!(section.contains(message), "{message}: {section}");
    }
    assert_eq!(input_value(&section, "idle_seconds"), "soon");
    assert!(
        operations(&app, "cpu-cluster").await.is_empty(),
        "nothing was sent"
    );
    assert_eq!(
        scale_settings_in_azure(&emulator, "cpu-cluster").await,
        before
    );

    // Good values: sent to Azure as an operation, and the section says so.
    let response = app
        .client
        .post(format!("{}/computes/cpu-cluster/scale", app.base_url))
        .header("hx-request", "true")
        .header("x-csrf-token", app.csrf_token().await)
        .form(&[
            ("min_nodes", "1"),
            ("max_nodes", "6"),
            ("idle_seconds", "300"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let section = response.text().await.unwrap();
    assert!(section.contains("Saved."), "{section}");
    assert!(section.contains("Scales from 1 to 6 nodes; idle nodes are released after 5 min."));
    let recorded = operations(&app, "cpu-cluster").await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].action, "update");
    assert_eq!(
        scale_settings_in_azure(&emulator, "cpu-cluster").await,
        json!({"minNodeCount": 1, "maxNodeCount": 6, "nodeIdleTimeBeforeScaleDown": "PT5M"})
    );
    wait_for_state(&app, "cpu-cluster", "Steady").await;

    // Without JavaScript: back to the page, which shows the new settings.
    let response = app
        .post_form(
            "/computes/cpu-cluster/scale",
            &[
                ("min_nodes", "0"),
                ("max_nodes", "6"),
                ("idle_seconds", "300"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/computes/cpu-cluster");
    wait_for_state(&app, "cpu-cluster", "Steady").await;
    let (_, page) = app.get_text("/computes/cpu-cluster").await;
    assert!(
        page.contains("Saved the scale settings of cpu-cluster."),
        "{page}"
    );
    assert_eq!(input_value(&page, "min_nodes"), "0");
    assert_eq!(input_value(&page, "idle_seconds"), "300");
    let audit = store::audit::search(app.sync.db(), &Default::default(), 100, 0)
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "scale" && e.target == "cpu-cluster")
            .count(),
        2,
        "each save is audited"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_member_may_not_change_a_clusters_scale_settings() {
    let (emulator, app, _dir) = demo_app().await;
    app.sign_in_as("member").await;
    let (_, page) = app.get_text("/computes/cpu-cluster").await;
    assert!(
        page.contains("Scales from 0 to 8 nodes"),
        "members read the settings"
    );
    assert!(!page.contains("name=\"min_nodes\""), "but get no form");
    let before = scale_settings_in_azure(&emulator, "cpu-cluster").await;
    let response = app
        .post_form(
            "/computes/cpu-cluster/scale",
            &[("min_nodes", "1"), ("max_nodes", "2"), ("idle_seconds", "")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(operations(&app, "cpu-cluster").await.is_empty());
    assert_eq!(
        scale_settings_in_azure(&emulator, "cpu-cluster").await,
        before
    );
    // Instances have no scale settings, whoever asks.
    let contributor = app.another_browser();
    contributor.sign_in_as("contributor").await;
    let response = contributor
        .post_form(
            "/computes/alan-notebooks/scale",
            &[("min_nodes", "1"), ("max_nodes", "2")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 400);
    app.stop().await;
}
