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
use crate::config::{AzureSettings, Credential, EmulatorPace, Mode, SecureCookies, Settings};
use crate::domain::roles::Role;
use crate::emulator::{Emulator, EmulatorConfig, RunningEmulator, Timings};
use crate::store;
use crate::store::computes::ComputeStore;
use crate::sync::{Sync, SyncConfig};
use crate::web::auth::{Auth, People, RoleDirectory, SignIn, SignInSettings};
use crate::web::{self, AppState, Chrome, SessionSettings, SessionStore};

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
    sessions: tower_sessions_sqlx_store::SqliteStore,
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
                let mut target =
                    emulator_target(&http, &running.base_url, running.emulator.config())?;
                target.demo_pages_mounted = true;
                (target, Some(running))
            }
            (Mode::Azure(azure), _) => (azure_target(azure)?, None),
        };
        let sync_config = overrides.sync.clone().unwrap_or_else(|| SyncConfig {
            resync_every: settings.resync_every,
            watch_every: settings.watch_every,
            ..SyncConfig::default()
        });
        let arm = ArmClient::new(
            http.clone(),
            target.endpoint.clone(),
            settings.api_version.clone(),
            target.workspace.clone(),
            Arc::new(CachedTokenSource::new(target.tokens.clone())),
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
            mode_badge: target.demo_sign_in.as_ref().map(|_| "Demo".to_string()),
            viewer: None,
            notice: None,
        };
        let listener = TcpListener::bind(settings.listen).await.with_context(|| {
            format!(
                "cannot listen on {} (is another program using it? choose another with --listen)",
                settings.listen
            )
        })?;
        // Known only now when the port was chosen by the system (tests listen on port 0).
        let public_url = match &settings.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_string(),
            None => default_public_url(listener.local_addr()?),
        };
        let auth = build_auth(&settings, &target, &public_url, http.clone(), &db).await?;
        let sessions = tower_sessions_sqlx_store::SqliteStore::new(db.clone());
        sessions
            .migrate()
            .await
            .context("the session table could not be created")?;
        let session_settings = SessionSettings {
            secure_cookie: match settings.secure_cookies {
                SecureCookies::Always => true,
                SecureCookies::Never => false,
                SecureCookies::Auto => public_url.starts_with("https://"),
            },
            idle_timeout: settings.session_idle,
        };
        let shutdown = CancellationToken::new();
        let router = web::router(
            AppState {
                shutdown: shutdown.clone(),
                db,
                computes,
                sync: sync.clone(),
                auth: Arc::new(auth),
                chrome: Arc::new(chrome),
                page_size: settings.page_size,
                offers: Arc::new(web::create::OfferCache::new(
                    sync.arm().clone(),
                    target.workspace.location.clone(),
                )),
                sealer: Arc::new(web::sealed::Sealer::new()),
                rendered_rows: Default::default(),
                bursts: web::bursts::Bursts::start(sync.subscribe(), shutdown.clone()),
            },
            SessionStore::new(
                tower_sessions_moka_store::MokaStore::new(Some(10_000)),
                sessions.clone(),
            ),
            &session_settings,
        );
        let router = match &emulator {
            Some(running) => router.nest(DEMO_SIGN_IN_PREFIX, running.emulator.sign_in_router()),
            None => router,
        };
        Ok(Self {
            listener,
            router,
            sessions,
            sync,
            shutdown,
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
        let mut tasks: Vec<JoinHandle<()>> = self.sync.spawn(self.shutdown.clone());
        tasks.push(spawn_session_cleanup(
            self.sessions.clone(),
            self.shutdown.clone(),
        ));
        let shutdown = self.shutdown.clone();
        let served = web::server::serve(self.listener, self.router, async move {
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

/// Without --public-url: the listen address, with `localhost` for "every interface" (a browser
/// cannot go to 0.0.0.0).
fn default_public_url(local: SocketAddr) -> String {
    if local.ip().is_unspecified() {
        format!("http://localhost:{}", local.port())
    } else {
        format!("http://{local}")
    }
}

/// Where ARM calls go and how they are authenticated.
struct Target {
    endpoint: Url,
    workspace: WorkspaceRef,
    tokens: Arc<dyn TokenSource>,
    /// In demo mode the emulator also plays Entra: its base URL and tenant.
    demo_sign_in: Option<(String, String)>,
    /// The in-process emulator's sign-in pages are mounted under `DEMO_SIGN_IN_PREFIX`.
    demo_pages_mounted: bool,
}

/// Where the dashboard serves the in-process emulator's sign-in pages to browsers.
pub const DEMO_SIGN_IN_PREFIX: &str = "/_demo-entra";

/// Sign-in against the configured app registration, or the emulator's Entra in demo mode.
async fn build_auth(
    settings: &Settings,
    target: &Target,
    public_url: &str,
    http: reqwest::Client,
    db: &sqlx::SqlitePool,
) -> anyhow::Result<Auth> {
    let redirect_url = format!("{public_url}/auth/callback");
    let sign_in = match (&settings.sign_in, &target.demo_sign_in) {
        (Some(registration), _) => SignInSettings {
            authority: registration.authority.clone(),
            tenant_id: registration.tenant_id.clone(),
            client_id: registration.client_id.clone(),
            client_secret: registration.client_secret.clone(),
            redirect_url,
            browser_authority: None,
        },
        (None, Some((base_url, tenant_id))) => SignInSettings {
            authority: base_url.clone(),
            tenant_id: tenant_id.clone(),
            client_id: "compute-studio-demo".into(),
            // The emulator accepts any secret; a fresh one per run is stored nowhere.
            client_secret: uuid::Uuid::new_v4().to_string(),
            redirect_url,
            // The in-process emulator listens on loopback, which a browser on another machine
            // (or outside a container) cannot reach: its pages are also served by the dashboard.
            browser_authority: target
                .demo_pages_mounted
                .then(|| format!("{public_url}{DEMO_SIGN_IN_PREFIX}")),
        },
        (None, None) => anyhow::bail!("no sign-in registration is configured"),
    };
    let overrides = store::users::all(db)
        .await
        .context("the role overrides could not be read")?
        .into_iter()
        .filter_map(|u| {
            let role = Role::parse(u.role_override.as_deref()?)?;
            Some(((u.object_id, u.tenant_id), role))
        })
        .collect();
    let people = People::new(
        store::users::names_by_object_id(db)
            .await
            .context("the people who signed in could not be read")?,
    );
    Ok(Auth {
        people,
        sign_in: SignIn::new(sign_in, http),
        roles: RoleDirectory::new(settings.role_map.clone(), settings.default_role, overrides),
    })
}

/// Expired sessions are deleted from the database now and then.
fn spawn_session_cleanup(
    sessions: tower_sessions_sqlx_store::SqliteStore,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    use tower_sessions::ExpiredDeletion;
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = sessions.continuously_delete_expired(Duration::from_secs(600)) => {}
        }
    })
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
        demo_sign_in: Some((base_url.to_string(), config.tenant_id.clone())),
        demo_pages_mounted: false,
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
        demo_sign_in: None,
        demo_pages_mounted: false,
    })
}
