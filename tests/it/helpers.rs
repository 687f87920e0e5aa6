//! The test harness: starts emulator and application on free ports with a fresh database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use compute_studio::azure::retry::RetryPolicy;
use compute_studio::azure::token::{CachedTokenSource, ClientCredentialsSource};
use compute_studio::azure::{ArmClient, WorkspaceRef};
use compute_studio::config::{Mode, Settings};
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
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            sync,
            stop: Some(stop),
            task: Some(task),
        }
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
