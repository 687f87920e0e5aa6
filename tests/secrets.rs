//! Every secret typed into a create form goes to Azure and nowhere else: not into the database
//! (any table, sessions and the audit log included), not into the logs, not into any page.
//!
//! A binary of its own: it installs a process-wide log subscriber that captures every line the
//! application, the emulator and their libraries write, from every thread.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[allow(dead_code)]
#[path = "it/helpers.rs"]
mod helpers;

use helpers::{
    TestApp, arm_client, attach_token, create_from_review, database_url, demo_emulator, eventually,
    field_value, inference_fields, new_form_token, post, valid_certificate, with,
};

const KEY_WITH_PASSPHRASE: &str = include_str!("fixtures/ssh/ed25519_passphrase");
const PASSPHRASE: &str = "correct horse battery";

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
    ]
}

/// A `MakeWriter` that keeps every log line of the process in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// Every secret typed into a form goes to Azure and nowhere else: not into the database (any
/// table, sessions and the audit log included), not into the logs, not into any page.
#[tokio::test]
async fn secrets_go_to_azure_and_nowhere_else() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let emulator = demo_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    app.sign_in_as("admin").await;
    let vm_password = "Vm-Secret-Pass-8451";
    let token = "dapi5ec2e7f00d5ec2e7f00d5ec2e7f00d51";
    let (cert, ssl_key) = valid_certificate(&["scoring.contoso.com"]);
    let mut pages: Vec<String> = Vec::new();

    // A VM password: an error re-render (bad port), then review, then create.
    let form_token = attach_token(&app, "vm").await;
    let vm = with(
        vm_fields(&form_token, "secret-vm", "review"),
        &[("password", vm_password), ("ssh_port", "0")],
    );
    let (status, _, page) = post(&app, "/computes/new", &vm).await;
    assert_eq!(status, 422);
    pages.push(page.clone());
    let mut again: Vec<(String, String)> = with(vm, &[("ssh_port", "22"), ("password", "")])
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    again.push((
        "password_sealed".into(),
        field_value(&page, "password_sealed"),
    ));
    let again: Vec<(&str, &str)> = again
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, review) = post(&app, "/computes/new", &again).await;
    assert_eq!(status, 200, "the sealed password carries on: {review}");
    pages.push(review.clone());
    let (status, _, page) = create_from_review(&app, &review).await;
    assert_eq!(status, 303, "{page}");
    pages.push(page);

    // A private key and its passphrase: a wrong passphrase first, then the right one.
    let form_token = attach_token(&app, "hdinsight").await;
    let hdi = |passphrase: &'static str, step: &'static str| {
        vec![
            ("kind", "attached"),
            ("attach_type", "hdinsight"),
            ("form_token", form_token.as_str()),
            ("step", step),
            ("name", "secret-hdi"),
            ("address", "spark-ssh.azurehdinsight.net"),
            ("ssh_port", "22"),
            ("user", "sshuser"),
            ("auth", "key"),
            ("private_key", KEY_WITH_PASSPHRASE),
            ("passphrase", passphrase),
        ]
    };
    let (status, _, page) = post(&app, "/computes/new", &hdi("not it", "review")).await;
    assert_eq!(status, 422);
    pages.push(page);
    let (status, _, review) = post(&app, "/computes/new", &hdi(PASSPHRASE, "review")).await;
    assert_eq!(status, 200, "{review}");
    pages.push(review.clone());
    let (status, _, page) = create_from_review(&app, &review).await;
    assert_eq!(status, 303, "{page}");
    pages.push(page);

    // A Databricks token: an error re-render (bad workspace name), review, create.
    let form_token = attach_token(&app, "databricks").await;
    let dbx = |workspace: &'static str, step: &'static str| {
        vec![
            ("kind", "attached"),
            ("attach_type", "databricks"),
            ("form_token", form_token.as_str()),
            ("step", step),
            ("name", "secret-dbx"),
            ("workspace_name", workspace),
            ("resource_group", "ml-demo-rg"),
            ("access_token", token),
        ]
    };
    let (status, _, page) = post(&app, "/computes/new", &dbx("d b", "review")).await;
    assert_eq!(status, 422);
    pages.push(page);
    let (_, _, review) = post(&app, "/computes/new", &dbx("team-dbx", "review")).await;
    pages.push(review.clone());
    let (status, _, page) = create_from_review(&app, &review).await;
    assert_eq!(status, 303, "{page}");
    pages.push(page);

    // An SSL key of an inference cluster: an error re-render, review, create.
    let form_token = new_form_token(&app, "inference").await;
    let ssl = |cname: &'static str, step: &'static str| {
        let mut fields = inference_fields(&form_token, "secretaks", step);
        fields.retain(|(k, _)| *k != "ssl");
        fields.extend([
            ("ssl", "custom"),
            ("ssl_cert", cert.as_str()),
            ("ssl_key", ssl_key.as_str()),
            ("ssl_cname", cname),
        ]);
        fields
    };
    let (status, _, page) = post(
        &app,
        "/computes/new",
        &ssl("elsewhere.contoso.com", "review"),
    )
    .await;
    assert_eq!(status, 422);
    pages.push(page);
    let (_, _, review) = post(&app, "/computes/new", &ssl("scoring.contoso.com", "review")).await;
    pages.push(review.clone());
    let (status, _, page) = create_from_review(&app, &review).await;
    assert_eq!(status, 303, "{page}");
    pages.push(page);

    // Azure received them all, and settled.
    let arm = arm_client(&emulator);
    for name in ["secret-vm", "secret-hdi", "secret-dbx", "secretaks"] {
        eventually(Duration::from_secs(10), "created", || {
            let db = app.sync.db().clone();
            async move {
                compute_studio::store::computes::get_row(&db, name)
                    .await
                    .unwrap()
                    .is_some_and(|r| r.state == "Succeeded")
            }
        })
        .await;
        assert!(arm.get_compute(name).await.unwrap().is_some());
    }
    // Every page a person can see now.
    for path in [
        "/computes?tab=attached",
        "/computes?tab=inference",
        "/computes/secret-vm",
        "/computes/secret-hdi",
        "/computes/secret-dbx",
        "/computes/secretaks",
        "/activity",
        "/admin/audit",
        "/admin/audit.csv",
    ] {
        let (status, page) = app.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        pages.push(page);
    }
    app.stop().await;

    // Each line of the keys' bodies (short last lines could match by chance, so not those).
    let body_lines = |pem: &'static str| -> Vec<&'static str> {
        pem.lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .collect()
    };
    // Public parts are no secret: the SSL key's lines that the certificate also holds, and the
    // SSH key's public half (sent as publicKeyData), may be shown.
    let ssh_public = compute_studio::domain::ssh_private_key::SshPrivateKey::parse(
        KEY_WITH_PASSPHRASE,
        PASSPHRASE,
    )
    .unwrap()
    .public_openssh()
    .unwrap()
    .to_string();
    let key_lines: Vec<&str> = body_lines(KEY_WITH_PASSPHRASE)
        .into_iter()
        .filter(|l| !ssh_public.contains(*l))
        .collect();
    let ssl_key: &'static str = Box::leak(ssl_key.into_boxed_str());
    let ssl_key_lines: Vec<&str> = body_lines(ssl_key)
        .into_iter()
        .filter(|l| !cert.contains(*l))
        .collect();
    assert!(!key_lines.is_empty() && !ssl_key_lines.is_empty());
    let mut secrets = vec![vm_password, token, PASSPHRASE];
    secrets.extend(key_lines.iter().copied());
    secrets.extend(ssl_key_lines.iter().copied());
    let encoded: Vec<String> = secrets
        .iter()
        .map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect())
        .collect();
    let needles: Vec<&str> = secrets
        .iter()
        .copied()
        .chain(encoded.iter().map(String::as_str))
        .collect();

    let mut database = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        database.extend(std::fs::read(&path).unwrap());
    }
    assert!(contains(&database, "secret-dbx"), "the database was read");
    let logs = logs.0.lock().unwrap().clone();
    assert!(
        contains(&logs, "compute_studio") && contains(&logs, "/computes/new"),
        "the logs of the app were captured"
    );
    for needle in &needles {
        assert!(!contains(&database, needle), "a secret is in the database");
        assert!(!contains(&logs, needle), "a secret is in the logs");
        for (n, page) in pages.iter().enumerate() {
            if let Some(at) = page.find(needle) {
                panic!(
                    "a secret is on page {n}: {}",
                    &page[at.saturating_sub(300)..(at + 100).min(page.len())]
                );
            }
        }
    }
}
