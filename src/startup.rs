//! Builds the whole application from validated settings, so that `main` and the tests start
//! exactly the same thing.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{
    ClientSecretCredential, DeveloperToolsCredential, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::azure::retry::RetryPolicy;
use crate::azure::token::{
    AzureIdentitySource, CachedTokenSource, ClientCredentialsSource, TokenSource,
};
use crate::azure::{ArmClient, WorkspaceRef};
use crate::config::{AzureSettings, Credential, EmulatorPace, Mode, Settings};
use crate::emulator::{Emulator, EmulatorConfig, RunningEmulator, Timings};
use crate::store;
use crate::store::computes::ComputeStore;
use crate::sync::{Sync, SyncConfig};
use crate::web::{self, AppState, Chrome};

/// Knobs tests turn; the product uses the defaults.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Replaces the emulator configuration of demo mode.
    pub emulator: Option<EmulatorConfig>,
    /// In demo mode, use this already running emulator (base URL and its configuration)
    /// instead of starting one: it then outlives the application, as Azure does.
    pub emulator_at: Option<(String, EmulatorConfig)>,
    pub sync: Option<SyncConfig>,
    pub retry: Option<RetryPolicy>,
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    sync: Sync,
    shutdown: CancellationToken,
    emulator: Option<RunningEmulator>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Overrides::default()).await
    }

    pub async fn build_with(settings: Settings, overrides: Overrides) -> anyhow::Result<Self> {
        let db = store::open(&settings.database_url, 8).await?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("compute-studio/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .context("the HTTP client could not be built")?;
        let (target, emulator) = match (&settings.mode, &overrides.emulator_at) {
            (Mode::Demo { .. }, Some((base_url, config))) => {
                (emulator_target(&http, base_url, config)?, None)
            }
            (
                Mode::Demo {
                    emulator_url: Some(url),
                    ..
                },
                None,
            ) => {
                let base_url = url.as_str().trim_end_matches('/');
                (
                    emulator_target(&http, base_url, &EmulatorConfig::demo())?,
                    None,
                )
            }
            (
                Mode::Demo {
                    pace,
                    activity,
                    extra_instances,
                    emulator_url: None,
                },
                None,
            ) => {
                let config = overrides
                    .emulator
                    .clone()
                    .unwrap_or_else(|| demo_emulator_config(*pace, *activity));
                let emulator = Emulator::new(config.clone());
                for compute in crate::emulator::bulk::generated_instances(&config, *extra_instances)
                {
                    emulator.insert_raw(compute);
                }
                let running = emulator
                    .serve(SocketAddr::from(([127, 0, 0, 1], 0)))
                    .await
                    .context("the built-in emulator could not start")?;
                (
                    emulator_target(&http, &running.base_url, running.emulator.config())?,
                    Some(running),
                )
            }
            (Mode::Azure(azure), _) => (azure_target(azure)?, None),
        };
        let sync_config = overrides.sync.clone().unwrap_or_else(|| SyncConfig {
            resync_every: settings.resync_every,
            watch_every: settings.watch_every,
            ..SyncConfig::default()
        });
        let arm = ArmClient::new(
            http,
            target.endpoint,
            settings.api_version.clone(),
            target.workspace.clone(),
            Arc::new(CachedTokenSource::new(target.tokens)),
            overrides.retry.clone().unwrap_or_default(),
        );
        let computes = Arc::new(
            ComputeStore::load(db.clone())
                .await
                .context("the cached computes could not be read")?,
        );
        let sync = Sync::new(computes.clone(), arm, sync_config);
        let chrome = Chrome {
            workspace: target.workspace.workspace.clone(),
            location: target.workspace.location.clone(),
            mode_badge: emulator.as_ref().map(|_| "Demo".to_string()),
        };
        let router = web::router(AppState {
            db,
            computes,
            sync: sync.clone(),
            chrome: Arc::new(chrome),
            page_size: settings.page_size,
        });
        let listener = TcpListener::bind(settings.listen).await.with_context(|| {
            format!(
                "cannot listen on {} (is another program using it? choose another with --listen)",
                settings.listen
            )
        })?;
        Ok(Self {
            listener,
            router,
            sync,
            shutdown: CancellationToken::new(),
            emulator,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn sync(&self) -> &Sync {
        &self.sync
    }

    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref().map(|running| &running.emulator)
    }

    /// Serves until `stop` completes, then stops the background tasks.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let tasks: Vec<JoinHandle<()>> = self.sync.spawn(self.shutdown.clone());
        let shutdown = self.shutdown.clone();
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                stop.await;
                shutdown.cancel();
            })
            .await;
        self.shutdown.cancel();
        for task in tasks {
            let _ = task.await;
        }
        drop(self.emulator);
        served
    }
}

/// Where ARM calls go and how they are authenticated.
struct Target {
    endpoint: Url,
    workspace: WorkspaceRef,
    tokens: Arc<dyn TokenSource>,
}

fn demo_emulator_config(pace: EmulatorPace, activity: Option<Duration>) -> EmulatorConfig {
    let mut config = EmulatorConfig::demo();
    if pace == EmulatorPace::Fast {
        config.timings = Timings::fast();
    }
    config.demo_activity = activity;
    config
}

fn emulator_target(
    http: &reqwest::Client,
    base_url: &str,
    config: &EmulatorConfig,
) -> anyhow::Result<Target> {
    let endpoint = Url::parse(&format!("{base_url}/")).context("the emulator's address")?;
    // A fresh secret per run: the emulator accepts any client, and nothing is stored.
    let secret = uuid::Uuid::new_v4().to_string();
    let tokens = ClientCredentialsSource::new(
        http.clone(),
        base_url,
        &config.tenant_id,
        "compute-studio-demo",
        &secret,
        crate::config::PUBLIC_CLOUD_ARM,
    );
    Ok(Target {
        endpoint,
        workspace: WorkspaceRef {
            subscription_id: config.subscription_id.clone(),
            resource_group: config.resource_group.clone(),
            workspace: config.workspace.clone(),
            location: config.location.clone(),
        },
        tokens: Arc::new(tokens),
    })
}

fn azure_target(azure: &AzureSettings) -> anyhow::Result<Target> {
    let credential: Arc<dyn TokenCredential> = match &azure.credential {
        Credential::ClientSecret {
            tenant_id,
            client_id,
            secret,
        } => ClientSecretCredential::new(
            tenant_id,
            client_id.clone(),
            Secret::new(secret.clone()),
            None,
        )?,
        Credential::ManagedIdentity { client_id } => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                ..Default::default()
            }))?
        }
        Credential::WorkloadIdentity => WorkloadIdentityCredential::new(None)?,
        Credential::DeveloperTools => DeveloperToolsCredential::new(None)?,
    };
    let arm_resource = azure
        .arm_endpoint
        .as_str()
        .trim_end_matches('/')
        .to_string();
    Ok(Target {
        endpoint: azure.arm_endpoint.clone(),
        workspace: WorkspaceRef {
            subscription_id: azure.subscription_id.clone(),
            resource_group: azure.resource_group.clone(),
            workspace: azure.workspace.clone(),
            location: azure.location.clone(),
        },
        tokens: Arc::new(AzureIdentitySource::new(credential, &arm_resource)),
    })
}
