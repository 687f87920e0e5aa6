//! The test harness: starts emulator and application on free ports with a fresh database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use compute_studio::azure::retry::RetryPolicy;
use compute_studio::azure::token::{CachedTokenSource, ClientCredentialsSource};
use compute_studio::azure::{ArmClient, WorkspaceRef};
use compute_studio::config::{Mode, Settings};
use compute_studio::domain::roles::Role;
use compute_studio::emulator::demo::{DEMO_USERS, DemoUser};
use compute_studio::emulator::{Emulator, EmulatorConfig, RunningEmulator, Seed, Timings};
use compute_studio::startup::{Application, Overrides};
use compute_studio::sync::{Sync, SyncConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub async fn spawn_emulator(config: EmulatorConfig) -> RunningEmulator {
    Emulator::spawn(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the emulator starts")
}

/// An emulator with the demo workspace and millisecond timings.
pub async fn demo_emulator() -> RunningEmulator {
    let mut config = EmulatorConfig::demo();
    config.timings = Timings::fast();
    config.demo_activity = None;
    spawn_emulator(config).await
}

/// The demo workspace's emulator, an app on a fresh database, and the directory holding it.
pub async fn demo_app() -> (RunningEmulator, TestApp, tempfile::TempDir) {
    let emulator = demo_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    (emulator, app, dir)
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        max_elapsed: Duration::from_secs(10),
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
    }
}

/// An `ArmClient` that talks to the emulator exactly as the product does.
pub fn arm_client(emulator: &RunningEmulator) -> ArmClient {
    let config = emulator.emulator.config();
    let http = reqwest::Client::new();
    let tokens = ClientCredentialsSource::new(
        http.clone(),
        &emulator.base_url,
        &config.tenant_id,
        "tests",
        "test-secret",
        "https://management.azure.com",
    );
    ArmClient::new(
        http,
        format!("{}/", emulator.base_url).parse().unwrap(),
        "2025-06-01",
        WorkspaceRef {
            subscription_id: config.subscription_id.clone(),
            resource_group: config.resource_group.clone(),
            workspace: config.workspace.clone(),
            location: config.location.clone(),
        },
        Arc::new(CachedTokenSource::new(Arc::new(tokens))),
        fast_retry(),
    )
}

pub fn fast_sync() -> SyncConfig {
    SyncConfig {
        resync_every: Duration::from_secs(3600),
        watch_every: Duration::from_millis(100),
        min_poll: Duration::from_millis(20),
        default_poll: Duration::from_millis(50),
        max_poll: Duration::from_millis(200),
    }
}

pub fn database_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("cache.db").display())
}

pub fn settings(database_url: &str) -> Settings {
    Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        public_url: None,
        sign_in: None,
        role_map: vec![
            ("ComputeStudio.Reader".into(), Role::Reader),
            ("ComputeStudio.Member".into(), Role::Member),
            ("ComputeStudio.Contributor".into(), Role::Contributor),
            ("ComputeStudio.Admin".into(), Role::Admin),
        ],
        default_role: Role::Reader,
        session_idle: Duration::from_secs(3600),
        secure_cookies: compute_studio::config::SecureCookies::Never,
        database_url: database_url.to_string(),
        api_version: "2025-06-01".into(),
        page_size: 50,
        resync_every: Duration::from_secs(3600),
        watch_every: Duration::from_millis(100),
        mode: Mode::Demo {
            pace: compute_studio::config::EmulatorPace::Fast,
            activity: None,
            extra_instances: 0,
            emulator_url: None,
        },
    }
}

/// A running application, its database file and a client that keeps cookies.
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub sync: Sync,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// Starts the application against an emulator that outlives it.
    pub async fn start(emulator: &RunningEmulator, database_url: &str) -> TestApp {
        let overrides = Overrides {
            emulator_at: Some((
                emulator.base_url.clone(),
                emulator.emulator.config().clone(),
            )),
            sync: Some(fast_sync()),
            retry: Some(fast_retry()),
            ..Overrides::default()
        };
        let app = Application::build_with(settings(database_url), overrides)
            .await
            .expect("the application starts");
        let base_url = format!("http://{}", app.local_addr());
        let sync = app.sync().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        // The first resync runs at start; wait for it so tests decide what comes next.
        let first = sync.clone();
        eventually(Duration::from_secs(10), "the first resync", || {
            let sync = first.clone();
            async move { sync.resyncs_completed() > 0 }
        })
        .await;
        TestApp {
            base_url,
            client: browser(),
            sync,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Signs in through the real flow: the dashboard's /auth/login, the emulator's authorize
    /// endpoint (with `prompt=none` and a login hint instead of the picker), and the callback.
    pub async fn sign_in_as(&self, role: &str) -> &'static DemoUser {
        let user = DEMO_USERS
            .iter()
            .find(|u| u.role == role)
            .expect("a demo user with this role");
        self.sign_in_user(user, "/computes").await;
        user
    }

    /// The same, for one person, returning where the dashboard sent the browser at the end.
    pub async fn sign_in_user(&self, user: &DemoUser, next: &str) -> String {
        sign_in(&self.client, &self.base_url, user, next).await
    }

    /// The CSRF token of the signed-in session, as its pages carry it.
    pub async fn csrf_token(&self) -> String {
        let (_, page) = self.get_text("/computes").await;
        let marker = "name=\"_csrf\" value=\"";
        let start = page.find(marker).expect("a page with a form") + marker.len();
        page[start..start + 64].to_string()
    }

    /// A form POST with the session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf_token().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("_csrf", &token));
        self.client
            .post(format!("{}{path}", self.base_url))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .expect("GET answers")
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// The same running app seen from another browser (its own cookies), without the power
    /// to stop it.
    pub fn another_browser(&self) -> TestApp {
        TestApp {
            base_url: self.base_url.clone(),
            client: browser(),
            sync: self.sync.clone(),
            stop: None,
            task: None,
        }
    }

    /// Stops serving and the background tasks, as a shutdown would.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Signs `user` in on the dashboard at `base_url` with this browser, through the real flow;
/// returns where the dashboard sent the browser at the end.
pub async fn sign_in(
    client: &reqwest::Client,
    base_url: &str,
    user: &DemoUser,
    next: &str,
) -> String {
    let login = client
        .get(format!("{}/auth/login?next={}", base_url, urlencode(next)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        303,
        "login redirects to the identity provider"
    );
    let authorize = location(&login);
    let authorized = client
        .get(format!(
            "{authorize}&prompt=none&login_hint={}",
            urlencode(user.email)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        authorized.status(),
        302,
        "the emulator signs the hinted user in"
    );
    let callback = location(&authorized);
    assert!(
        callback.starts_with(base_url),
        "back to the dashboard: {callback}"
    );
    let done = client.get(callback).send().await.unwrap();
    assert_eq!(
        done.status(),
        303,
        "{}",
        done.text().await.unwrap_or_default()
    );
    location(&done)
}

/// Waits until `check` holds, or fails the test after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A minimal, valid compute instance body.
pub fn instance_body(
    location: &str,
    vm_size: &str,
) -> compute_studio::azure::models::ComputeResource {
    serde_json::from_value(serde_json::json!({
        "location": location,
        "properties": {"computeType": "ComputeInstance", "properties": {"vmSize": vm_size}}
    }))
    .unwrap()
}

pub fn empty_config() -> EmulatorConfig {
    let mut config = EmulatorConfig::for_tests();
    config.seed = Seed::Empty;
    config
}

/// A client like a browser: cookies kept, redirects not followed (tests look at each step).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

pub fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

// ----- the create forms -----------------------------------------------------------------------------

/// The value of a form field on a page (the first input with that name).
pub fn field_value(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// The hidden fields a review page carries to the next step.
pub fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let name = rest.split('"').next().unwrap().to_string();
            let value = rest
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (name, html_unescape(value))
        })
        .filter(|(name, _)| name != "_csrf")
        .collect()
}

fn html_unescape(text: &str) -> String {
    text.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

pub async fn new_form_token(app: &TestApp, kind: &str) -> String {
    let (status, page) = app.get_text(&format!("/computes/new?kind={kind}")).await;
    assert_eq!(status, 200, "{page}");
    field_value(&page, "form_token")
}

pub async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let response = app.post_form(path, fields).await;
    let status = response.status().as_u16();
    let to = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, to, response.text().await.unwrap())
}

/// A self-signed certificate and its key (PEM) for `names`, valid between the two dates.
pub fn certificate(
    names: &[&str],
    from: time::OffsetDateTime,
    until: time::OffsetDateTime,
) -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    params.not_before = from;
    params.not_after = until;
    (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
}

pub fn valid_certificate(names: &[&str]) -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    certificate(
        names,
        now - time::Duration::days(10),
        now + time::Duration::days(300),
    )
}

/// The fields of a new production cluster of 3 × Standard_D4s_v3 with the defaults.
pub fn inference_fields<'a>(
    token: &'a str,
    name: &'a str,
    step: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("kind", "inference"),
        ("form_token", token),
        ("step", step),
        ("name", name),
        ("source", "new"),
        ("region", "westeurope"),
        ("vm_size", "Standard_D4s_v3"),
        ("purpose", "production"),
        ("nodes", "3"),
        ("network", "default"),
        ("service_cidr", "10.0.0.0/16"),
        ("dns_service_ip", "10.0.0.10"),
        ("docker_bridge_cidr", "172.17.0.1/16"),
        ("ssl", "off"),
        ("load_balancer", "public"),
    ]
}

/// The fields with `changes` made: each replaces the field of its name, or is added.
pub fn with<'a>(
    mut fields: Vec<(&'a str, &'a str)>,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    for (key, value) in changes {
        fields.retain(|(k, _)| k != key);
        fields.push((key, value));
    }
    fields
}

/// The form token of a fresh attach form of `attach_type`.
pub async fn attach_token(app: &TestApp, attach_type: &str) -> String {
    let (status, page) = app
        .get_text(&format!("/computes/new?kind=attached&type={attach_type}"))
        .await;
    assert_eq!(status, 200, "{page}");
    field_value(&page, "form_token")
}

/// Posts the review page's hidden fields with `step=create`.
pub async fn create_from_review(app: &TestApp, review: &str) -> (u16, String, String) {
    let mut carried = hidden_fields(review);
    carried.push(("step".into(), "create".into()));
    let carried: Vec<(&str, &str)> = carried
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post(app, "/computes/new", &carried).await
}

/// The create form's fields for a small CPU instance, as a person fills them in.
pub fn instance_form<'a>(form_token: &'a str, name: &'a str) -> [(&'static str, &'a str); 8] {
    [
        ("kind", "instance"),
        ("form_token", form_token),
        ("step", "create"),
        ("name", name),
        ("vm_type", "cpu"),
        ("vm_size", "Standard_DS3_v2"),
        ("public_ip", "on"),
        ("idle_minutes", "60"),
    ]
}
