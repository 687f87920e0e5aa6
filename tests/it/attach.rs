//! Attaching compute through the forms: each type attached and listed on its tab, each rule's
//! edge beside its field, detach versus delete. (That secrets go to Azure and nowhere else is
//! `tests/secrets.rs`, a binary of its own so it can capture every log line of the process.)

use std::time::Duration;

use crate::helpers::{
    TestApp, arm_client, attach_token, create_from_review, database_url, demo_emulator, eventually,
    post, with,
};

const KEY_WITH_PASSPHRASE: &str = include_str!("../fixtures/ssh/ed25519_passphrase");
const PASSPHRASE: &str = "correct horse battery";
const PLAIN_KEY: &str = include_str!("../fixtures/ssh/ed25519");

fn vm_fields<'a>(token: &'a str, name: &'a str, step: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("kind", "attached"),
        ("attach_type", "vm"),
        ("form_token", token),
        ("step", step),
        ("name", name),
        ("address", "10.0.0.4"),
        ("ssh_port", "22"),
        ("user", "azureuser"),
        ("auth", "password"),
        ("password", "Remote-Vm-Pass-1"),
    ]
}

async fn start() -> (
    compute_studio::emulator::RunningEmulator,
    TestApp,
    tempfile::TempDir,
) {
    let emulator = demo_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    (emulator, app, dir)
}

#[tokio::test]
async fn each_kind_is_attached_through_its_form_and_listed_on_the_attached_tab() {
    let (emulator, app, _dir) = start().await;
    app.sign_in_as("contributor").await;
    let (_, list) = app.get_text("/computes?tab=attached").await;
    assert!(
        list.contains("href=\"/computes/new?kind=attached\""),
        "+ New on the tab"
    );
    let (_, vm_page) = app.get_text("/computes/new?kind=attached").await;
    assert!(vm_page.contains("Ubuntu only"), "the VM form says Ubuntu");
    for kind in [
        "Azure Databricks",
        "Azure Data Lake Analytics",
        "Azure HDInsight",
    ] {
        assert!(vm_page.contains(kind), "the chooser offers {kind}");
    }

    // A virtual machine, through review.
    let token = attach_token(&app, "vm").await;
    let (status, _, review) = post(
        &app,
        "/computes/new",
        &vm_fields(&token, "remote-vm", "review"),
    )
    .await;
    assert_eq!(status, 200, "{review}");
    assert!(review.contains("azureuser with a password"));
    assert!(review.contains("(hidden: sent to Azure only)"));
    let (status, to, body) = create_from_review(&app, &review).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/computes?tab=attached"),
        "{body}"
    );

    // HDInsight with a key and its passphrase; Databricks; Data Lake Analytics.
    let token = attach_token(&app, "hdinsight").await;
    let hdi = with(
        vm_fields(&token, "hdi-spark", "create"),
        &[
            ("attach_type", "hdinsight"),
            ("address", "spark-ssh.azurehdinsight.net"),
            ("user", "sshuser"),
            ("auth", "key"),
            ("private_key", KEY_WITH_PASSPHRASE),
            ("passphrase", PASSPHRASE),
        ],
    );
    let hdi: Vec<_> = hdi.into_iter().filter(|(k, _)| *k != "password").collect();
    let (status, _, body) = post(&app, "/computes/new", &hdi).await;
    assert_eq!(status, 303, "{body}");
    let token = attach_token(&app, "databricks").await;
    let (status, _, body) = post(
        &app,
        "/computes/new",
        &[
            ("kind", "attached"),
            ("attach_type", "databricks"),
            ("form_token", &token),
            ("step", "create"),
            ("name", "team-dbx"),
            ("workspace_name", "team-dbx"),
            ("resource_group", "ml-demo-rg"),
            ("access_token", "dapi00000000000000000000000000000001"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let token = attach_token(&app, "adla").await;
    let (status, _, body) = post(
        &app,
        "/computes/new",
        &[
            ("kind", "attached"),
            ("attach_type", "adla"),
            ("form_token", &token),
            ("step", "create"),
            ("name", "adla-jobs"),
            ("resource_group", "ml-demo-rg"),
            ("account_name", "adla01"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");

    let arm = arm_client(&emulator);
    for (name, compute_type) in [
        ("remote-vm", "VirtualMachine"),
        ("hdi-spark", "HDInsight"),
        ("team-dbx", "Databricks"),
        ("adla-jobs", "DataLakeAnalytics"),
    ] {
        let compute = arm.get_compute(name).await.unwrap().expect(name);
        assert_eq!(compute.compute_type(), compute_type);
        eventually(
            Duration::from_secs(10),
            "the cache sees it attached",
            || {
                let db = app.sync.db().clone();
                async move {
                    compute_studio::store::computes::get_row(&db, name)
                        .await
                        .unwrap()
                        .is_some_and(|r| r.state == "Succeeded")
                }
            },
        )
        .await;
    }
    let (_, list) = app.get_text("/computes?tab=attached").await;
    for name in ["remote-vm", "hdi-spark", "team-dbx", "adla-jobs"] {
        assert!(
            list.contains(&format!("data-name=\"{name}\"")),
            "{name} listed"
        );
    }
    // Detach keeps the resource, delete takes it: the confirmation says which.
    let (_, detach) = app.get_text("/computes/remote-vm/detach").await;
    assert!(detach.contains("stays and keeps billing"), "{detach}");
    let (_, delete) = app.get_text("/computes/remote-vm/delete").await;
    assert!(
        delete.contains("deletes the resource behind it"),
        "{delete}"
    );
    let (status, _, _) = post(
        &app,
        "/computes/remote-vm/detach",
        &[("confirm_name", "remote-vm")],
    )
    .await;
    assert_eq!(status, 303);
    eventually(Duration::from_secs(10), "detached", || {
        let arm = arm.clone();
        async move { arm.get_compute("remote-vm").await.unwrap().is_none() }
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn each_attach_rule_is_said_beside_its_field() {
    let (_emulator, app, _dir) = start().await;
    app.sign_in_as("contributor").await;
    let token = attach_token(&app, "vm").await;
    let base = vm_fields(&token, "edge-vm", "review");
    for (changes, field, words) in [
        (vec![("ssh_port", "0")], "ssh_port", "between 1 and 65535"),
        (
            vec![("ssh_port", "65536")],
            "ssh_port",
            "between 1 and 65535 (it is 65536)",
        ),
        (vec![("ssh_port", "twenty-two")], "ssh_port", "whole number"),
        (
            vec![("address", "azureuser@10.0.0.4")],
            "address",
            "user name",
        ),
        (vec![("address", "10.0.0.4:22")], "address", "port"),
        (vec![("password", "")], "password", "Password is required."),
        (vec![("name", "ab")], "name", "between 3 and 24"),
        (
            vec![
                ("auth", "key"),
                ("private_key", KEY_WITH_PASSPHRASE),
                ("passphrase", "wrong"),
            ],
            "passphrase",
            "does not open this key",
        ),
        (
            vec![
                ("auth", "key"),
                ("private_key", KEY_WITH_PASSPHRASE),
                ("passphrase", ""),
            ],
            "passphrase",
            "protected by a passphrase",
        ),
        (
            vec![
                ("auth", "key"),
                (
                    "private_key",
                    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILTm7R7EQQQo/G0JqWfK5A2NIxM3wlDoHotEgr4KOr/i a@b",
                ),
            ],
            "private_key",
            "PUBLIC key",
        ),
    ] {
        let fields = with(base.clone(), &changes);
        let (status, _, page) = post(&app, "/computes/new", &fields).await;
        assert_eq!(status, 422, "{changes:?}");
        let beside = format!("id=\"error-{field}\" role=\"alert\">");
        let at = page
            .find(&beside)
            .unwrap_or_else(|| panic!("no error beside {field}: {page}"));
        assert!(
            page[at..].split("</p>").next().unwrap().contains(words),
            "{field}: {page}"
        );
    }
    // The edges that pass: ports 1 and 65535, a plain key with no passphrase.
    for changes in [
        vec![("ssh_port", "1")],
        vec![("ssh_port", "65535")],
        vec![("auth", "key"), ("private_key", PLAIN_KEY)],
    ] {
        let (status, _, page) = post(&app, "/computes/new", &with(base.clone(), &changes)).await;
        assert_eq!(status, 200, "{changes:?}: {page}");
    }
    let token = attach_token(&app, "databricks").await;
    let (status, _, page) = post(
        &app,
        "/computes/new",
        &[
            ("kind", "attached"),
            ("attach_type", "databricks"),
            ("form_token", &token),
            ("step", "review"),
            ("name", "dbx"),
            ("workspace_name", "db"),
            ("resource_group", "rg."),
            ("access_token", ""),
        ],
    )
    .await;
    assert_eq!(status, 422);
    for words in [
        "3 to 64 characters",
        "must not end with",
        "Access token is required.",
    ] {
        assert!(page.contains(words), "{words}");
    }
    app.stop().await;
}
