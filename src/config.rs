//! Settings from flags and environment variables, checked all at once at start-up.
//!
//! With no Azure workspace settings the product runs in demo mode: the built-in emulator
//! plays Azure. Azure mode is configuration only; the same code runs in both.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

use crate::domain::roles::Role;

pub const DEFAULT_API_VERSION: &str = "2025-06-01";
pub const PUBLIC_CLOUD_ARM: &str = "https://management.azure.com";
pub const PUBLIC_CLOUD_AUTHORITY: &str = "https://login.microsoftonline.com";

#[derive(Debug, Parser)]
#[command(
    name = "compute-studio",
    version,
    about = "A dashboard for the compute of an Azure Machine Learning workspace"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s settings, so that a bare `compute-studio` serves.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard (the default).
    Serve(Box<ServeArgs>),
    /// Run the built-in Azure emulator alone, for tests, demos and other tools.
    Emulator(EmulatorArgs),
    /// Exit 0 if the dashboard at --listen answers /healthz (for container health checks).
    Healthcheck {
        #[arg(long, env = "CS_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CredentialKind {
    /// A service principal's client secret (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET).
    ClientSecret,
    /// The managed identity of the VM, App Service or container (optionally AZURE_CLIENT_ID).
    ManagedIdentity,
    /// Workload identity federation on Kubernetes (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE).
    WorkloadIdentity,
    /// The signed-in developer's Azure CLI or Azure Developer CLI.
    DeveloperTools,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmulatorPace {
    /// Operations take seconds, as in a demo.
    Demo,
    /// Operations take milliseconds, as in tests.
    Fast,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the dashboard listens on.
    #[arg(long, env = "CS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// SQLite database of the cache.
    #[arg(
        long,
        env = "CS_DATABASE_URL",
        default_value = "sqlite://compute-studio.db"
    )]
    pub database_url: String,
    /// Seconds between two full resyncs of the workspace.
    #[arg(long, env = "CS_RESYNC_SECONDS", default_value_t = 30)]
    pub resync_seconds: u64,
    /// Milliseconds between two re-reads of computes in a transitional state.
    #[arg(long, env = "CS_WATCH_MILLIS", default_value_t = 2000)]
    pub watch_millis: u64,
    /// Rows per page of the compute list (at most 100).
    #[arg(long, env = "CS_PAGE_SIZE", default_value_t = 50)]
    pub page_size: u32,

    #[command(flatten)]
    pub azure: AzureArgs,
    #[command(flatten)]
    pub sign_in: SignInArgs,
    #[command(flatten)]
    pub demo: DemoArgs,
}

/// How people sign in (Microsoft Entra ID). In demo mode the emulator plays Entra and these
/// are not needed.
#[derive(Debug, Clone, Args)]
pub struct SignInArgs {
    /// The address people use to reach the dashboard (for the sign-in redirect and cookies);
    /// default: http://<listen address>.
    #[arg(long, env = "CS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Entra authority host (sovereign clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn).
    #[arg(long, env = "CS_SIGNIN_AUTHORITY", default_value = PUBLIC_CLOUD_AUTHORITY)]
    pub sign_in_authority: String,
    /// Tenant of the app registration people sign in with.
    #[arg(long, env = "CS_SIGNIN_TENANT_ID")]
    pub sign_in_tenant_id: Option<String>,
    /// Client (application) id of that app registration.
    #[arg(long, env = "CS_SIGNIN_CLIENT_ID")]
    pub sign_in_client_id: Option<String>,
    /// Its client secret (prefer the environment variable).
    #[arg(long, env = "CS_SIGNIN_CLIENT_SECRET", hide_env_values = true)]
    pub sign_in_client_secret: Option<String>,
    /// App role values of the id_token `roles` claim and the dashboard role each gives.
    #[arg(
        long,
        env = "CS_ROLE_MAP",
        default_value = "ComputeStudio.Reader=reader,ComputeStudio.Member=member,ComputeStudio.Contributor=contributor,ComputeStudio.Admin=admin"
    )]
    pub role_map: String,
    /// Role of a person whose token carries no mapped role.
    #[arg(long, env = "CS_DEFAULT_ROLE", default_value = "reader")]
    pub default_role: String,
    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "CS_SESSION_IDLE_MINUTES", default_value_t = 480)]
    pub session_idle_minutes: u64,
    /// Mark the session cookie Secure: auto (when the public URL is https), always or never.
    #[arg(long, env = "CS_SECURE_COOKIES", value_enum, default_value = "auto")]
    pub secure_cookies: SecureCookies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecureCookies {
    Auto,
    Always,
    Never,
}

/// Where the workspace is and how to reach it. Any of the first four given means Azure mode.
#[derive(Debug, Clone, Default, Args)]
pub struct AzureArgs {
    /// Subscription of the workspace (a GUID).
    #[arg(long, env = "AZURE_SUBSCRIPTION_ID")]
    pub subscription_id: Option<String>,
    /// Resource group of the workspace.
    #[arg(long, env = "AZURE_RESOURCE_GROUP")]
    pub resource_group: Option<String>,
    /// Name of the Azure Machine Learning workspace.
    #[arg(long, env = "AZURE_ML_WORKSPACE")]
    pub workspace: Option<String>,
    /// Azure region of the workspace (e.g. westeurope).
    #[arg(long, env = "AZURE_LOCATION")]
    pub location: Option<String>,
    /// Azure Resource Manager endpoint (sovereign clouds: https://management.chinacloudapi.cn, https://management.usgovcloudapi.net).
    #[arg(long, env = "CS_ARM_ENDPOINT")]
    pub arm_endpoint: Option<String>,
    /// api-version of the Azure ML compute API.
    #[arg(long, env = "CS_ARM_API_VERSION", default_value = DEFAULT_API_VERSION)]
    pub api_version: String,
    /// How the dashboard authenticates to Azure Resource Manager.
    #[arg(long = "azure-credential", env = "CS_AZURE_CREDENTIAL", value_enum)]
    pub credential: Option<CredentialKind>,
    /// Entra tenant of the service principal.
    #[arg(long, env = "AZURE_TENANT_ID")]
    pub tenant_id: Option<String>,
    /// Client (application) id of the service principal or user-assigned managed identity.
    #[arg(long, env = "AZURE_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Client secret of the service principal (prefer the environment variable to the flag).
    #[arg(long, env = "AZURE_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// How fast the built-in emulator finishes operations in demo mode.
    #[arg(long, env = "CS_EMULATOR_PACE", value_enum, default_value = "demo")]
    pub emulator_pace: EmulatorPace,
    /// Seconds between the demo's simulated schedule and idle-shutdown events (0: none).
    #[arg(long, env = "CS_DEMO_ACTIVITY_SECONDS", default_value_t = 45)]
    pub demo_activity_seconds: u64,
    /// Generated compute instances added to the demo workspace (for benchmarks and demos at scale).
    #[arg(long, env = "CS_DEMO_EXTRA_INSTANCES", default_value_t = 0)]
    pub demo_extra_instances: usize,
    /// Use an emulator already running at this URL (`compute-studio emulator`) instead of
    /// starting one in-process.
    #[arg(long, env = "CS_EMULATOR_URL")]
    pub emulator_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct EmulatorArgs {
    /// Address the emulator listens on.
    #[arg(long, env = "CS_EMULATOR_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Operation durations: seconds (demo) or milliseconds (fast).
    #[arg(long, env = "CS_EMULATOR_PACE", value_enum, default_value = "demo")]
    pub pace: EmulatorPace,
    /// Start with the demo workspace rather than an empty one.
    #[arg(long, env = "CS_EMULATOR_SEED", default_value_t = true, action = clap::ArgAction::Set)]
    pub seed: bool,
    /// Generated compute instances added to the workspace.
    #[arg(long, env = "CS_DEMO_EXTRA_INSTANCES", default_value_t = 0)]
    pub extra_instances: usize,
    /// Share of ARM requests disturbed by an injected fault, from 0 (none) to 1 (every one).
    #[arg(long, env = "CS_EMULATOR_FAULT_RATE", default_value = "0")]
    pub fault_rate: String,
    /// The faults to inject, comma-separated: latency, throttle, server-error, reset-before,
    /// reset-after, not-json, truncated, slow-answer, provisioning-failure; or all.
    #[arg(long, env = "CS_EMULATOR_FAULT_KINDS", default_value = "all")]
    pub fault_kinds: String,
    /// Seed of the faults' random choice (the same seed, the same faults); default: random.
    #[arg(long, env = "CS_EMULATOR_FAULT_SEED")]
    pub fault_seed: Option<String>,
    /// The requests faults may hit, comma-separated: create, update, delete, power, read, poll,
    /// other; or all.
    #[arg(long, env = "CS_EMULATOR_FAULT_OPERATIONS", default_value = "all")]
    pub fault_operations: String,
}

impl EmulatorArgs {
    /// The fault plan the flags ask for (`None` at rate 0), or every problem with them.
    pub fn fault_plan(&self) -> Result<Option<crate::emulator::FaultPlan>, SettingsError> {
        use crate::emulator::{FaultPlan, parse_classes, parse_kinds};
        let mut problems = Vec::new();
        let rate = match self.fault_rate.trim().parse::<f64>() {
            Ok(rate) if (0.0..=1.0).contains(&rate) => rate,
            _ => {
                problems.push(format!(
                    "--fault-rate (CS_EMULATOR_FAULT_RATE) must be a number from 0 to 1 (0.2 disturbs one request in five), not '{}'",
                    self.fault_rate
                ));
                0.0
            }
        };
        let kinds = parse_kinds(&self.fault_kinds).unwrap_or_else(|e| {
            problems.push(format!("--fault-kinds (CS_EMULATOR_FAULT_KINDS): {e}"));
            Vec::new()
        });
        let classes = parse_classes(&self.fault_operations).unwrap_or_else(|e| {
            problems.push(format!(
                "--fault-operations (CS_EMULATOR_FAULT_OPERATIONS): {e}"
            ));
            Vec::new()
        });
        let seed = match self.fault_seed.as_deref().map(|s| s.trim().parse::<u64>()) {
            None => rand::random::<u64>(),
            Some(Ok(seed)) => seed,
            Some(Err(_)) => {
                problems.push(format!(
                    "--fault-seed (CS_EMULATOR_FAULT_SEED) must be a whole number from 0 to {}, not '{}'",
                    u64::MAX,
                    self.fault_seed.as_deref().unwrap_or_default()
                ));
                0
            }
        };
        if !problems.is_empty() {
            return Err(SettingsError(problems));
        }
        if rate == 0.0 {
            return Ok(None);
        }
        Ok(Some(
            FaultPlan::new(rate, seed)
                .with_kinds(&kinds)
                .with_classes(&classes),
        ))
    }
}

/// How the dashboard reaches Azure, decided from the settings.
#[derive(Debug, Clone)]
pub enum Mode {
    /// The built-in emulator, started in-process.
    Demo {
        pace: EmulatorPace,
        activity: Option<Duration>,
        /// Generated instances added to the demo workspace.
        extra_instances: usize,
        /// An emulator that already runs, used instead of an in-process one.
        emulator_url: Option<Url>,
    },
    Azure(Box<AzureSettings>),
}

#[derive(Debug, Clone)]
pub struct AzureSettings {
    pub subscription_id: String,
    pub resource_group: String,
    pub workspace: String,
    pub location: String,
    pub arm_endpoint: Url,
    pub credential: Credential,
}

/// Credentials, checked complete. `Debug` never prints the secret.
#[derive(Clone)]
pub enum Credential {
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret: String,
    },
    ManagedIdentity {
        client_id: Option<String>,
    },
    WorkloadIdentity,
    DeveloperTools,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::ClientSecret {
                tenant_id,
                client_id,
                ..
            } => f
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("secret", &"<redacted>")
                .finish(),
            Credential::ManagedIdentity { client_id } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .finish(),
            Credential::WorkloadIdentity => f.write_str("WorkloadIdentity"),
            Credential::DeveloperTools => f.write_str("DeveloperTools"),
        }
    }
}

/// Everything `serve` needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub public_url: Option<Url>,
    /// The app registration people sign in with; `None` in demo mode (the emulator's).
    pub sign_in: Option<SignInRegistration>,
    pub role_map: Vec<(String, Role)>,
    pub default_role: Role,
    pub session_idle: Duration,
    pub secure_cookies: SecureCookies,
    pub database_url: String,
    pub api_version: String,
    pub page_size: u32,
    pub resync_every: Duration,
    pub watch_every: Duration,
    pub mode: Mode,
}

/// Every bad setting at once, one line each, naming the flag and the variable.
#[derive(Debug, thiserror::Error)]
#[error("Compute Studio cannot start; fix these settings:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct SettingsError(pub Vec<String>);

impl ServeArgs {
    pub fn validate(&self) -> Result<Settings, SettingsError> {
        let mut problems = Vec::new();
        if !(1..=100).contains(&self.page_size) {
            problems.push(format!(
                "--page-size (CS_PAGE_SIZE) must be between 1 and 100, not {}",
                self.page_size
            ));
        }
        if self.resync_seconds == 0 {
            problems.push("--resync-seconds (CS_RESYNC_SECONDS) must be at least 1".into());
        }
        if self.watch_millis < 100 {
            problems.push("--watch-millis (CS_WATCH_MILLIS) must be at least 100".into());
        }
        if !is_api_version(&self.azure.api_version) {
            problems.push(format!(
                "--api-version (CS_ARM_API_VERSION) must look like 2025-06-01 or 2025-06-01-preview, not '{}'",
                self.azure.api_version
            ));
        }
        if !self.database_url.starts_with("sqlite:") {
            problems.push(format!(
                "--database-url (CS_DATABASE_URL) must be a SQLite URL such as sqlite://compute-studio.db, not '{}'",
                self.database_url
            ));
        }
        let mode = self.mode(&mut problems);
        let public_url = self.public_url(&mut problems);
        let role_map = parse_role_map(&self.sign_in.role_map, &mut problems);
        let default_role = Role::parse(&self.sign_in.default_role).unwrap_or_else(|| {
            problems.push(format!(
                "--default-role (CS_DEFAULT_ROLE) must be reader, member, contributor or admin, not '{}'",
                self.sign_in.default_role
            ));
            Role::Reader
        });
        if !(5..=43_200).contains(&self.sign_in.session_idle_minutes) {
            problems.push(
                "--session-idle-minutes (CS_SESSION_IDLE_MINUTES) must be between 5 and 43200"
                    .into(),
            );
        }
        let sign_in = match &mode {
            Some(Mode::Azure(_)) => self.sign_in_registration(&mut problems),
            _ => None,
        };
        if !problems.is_empty() {
            return Err(SettingsError(problems));
        }
        Ok(Settings {
            listen: self.listen,
            public_url,
            sign_in,
            role_map,
            default_role,
            session_idle: Duration::from_secs(self.sign_in.session_idle_minutes * 60),
            secure_cookies: self.sign_in.secure_cookies,
            database_url: self.database_url.clone(),
            api_version: self.azure.api_version.clone(),
            page_size: self.page_size,
            resync_every: Duration::from_secs(self.resync_seconds),
            watch_every: Duration::from_millis(self.watch_millis),
            mode: mode.unwrap_or(Mode::Demo {
                pace: EmulatorPace::Demo,
                activity: None,
                extra_instances: 0,
                emulator_url: None,
            }),
        })
    }

    fn mode(&self, problems: &mut Vec<String>) -> Option<Mode> {
        let azure = &self.azure;
        let workspace_settings = [
            (
                "--subscription-id",
                "AZURE_SUBSCRIPTION_ID",
                &azure.subscription_id,
            ),
            (
                "--resource-group",
                "AZURE_RESOURCE_GROUP",
                &azure.resource_group,
            ),
            ("--workspace", "AZURE_ML_WORKSPACE", &azure.workspace),
            ("--location", "AZURE_LOCATION", &azure.location),
        ];
        let given = workspace_settings
            .iter()
            .filter(|(_, _, v)| v.is_some())
            .count();
        if given == 0 {
            if azure.credential.is_some() || azure.arm_endpoint.is_some() {
                problems.push(
                    "--azure-credential / --arm-endpoint are set, but no workspace: set --subscription-id, --resource-group, --workspace and --location too, or unset them for demo mode".into(),
                );
                return None;
            }
            let activity = (self.demo.demo_activity_seconds > 0)
                .then(|| Duration::from_secs(self.demo.demo_activity_seconds));
            let emulator_url = match self.demo.emulator_url.as_deref().map(Url::parse) {
                None => None,
                Some(Ok(url)) if matches!(url.scheme(), "http" | "https") => Some(url),
                Some(_) => {
                    problems.push("--emulator-url (CS_EMULATOR_URL) must be an http(s) URL such as http://127.0.0.1:8081".into());
                    return None;
                }
            };
            return Some(Mode::Demo {
                pace: self.demo.emulator_pace,
                activity,
                extra_instances: self.demo.demo_extra_instances,
                emulator_url,
            });
        }
        for (flag, env, value) in workspace_settings {
            if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                problems.push(format!("{flag} ({env}) is required in Azure mode"));
            }
        }
        if let Some(sub) = &azure.subscription_id
            && !is_guid(sub)
        {
            problems.push(format!(
                "--subscription-id (AZURE_SUBSCRIPTION_ID) must be a GUID, not '{sub}'"
            ));
        }
        if let Some(rg) = &azure.resource_group
            && (rg.is_empty()
                || rg.len() > 90
                || !rg
                    .chars()
                    .all(|c| c.is_alphanumeric() || "-_.()".contains(c)))
        {
            problems.push(format!("--resource-group (AZURE_RESOURCE_GROUP) '{rg}' is not a valid resource group name (1-90 letters, digits, '-', '_', '.', '(', ')')"));
        }
        if let Some(ws) = &azure.workspace {
            let ok = (3..=33).contains(&ws.len())
                && ws.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && ws
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                problems.push(format!("--workspace (AZURE_ML_WORKSPACE) '{ws}' is not a valid workspace name (3-33 letters, digits, '-' or '_', starting with a letter or digit)"));
            }
        }
        if let Some(location) = &azure.location
            && (location.is_empty() || !location.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            problems.push(format!("--location (AZURE_LOCATION) '{location}' is not an Azure region name such as westeurope"));
        }
        let arm_endpoint = parse_endpoint(
            azure.arm_endpoint.as_deref().unwrap_or(PUBLIC_CLOUD_ARM),
            problems,
        );
        let credential = self.credential(problems);
        if !problems.is_empty() {
            return None;
        }
        Some(Mode::Azure(Box::new(AzureSettings {
            subscription_id: azure.subscription_id.clone()?,
            resource_group: azure.resource_group.clone()?,
            workspace: azure.workspace.clone()?,
            location: azure.location.clone()?.to_ascii_lowercase(),
            arm_endpoint: arm_endpoint?,
            credential: credential?,
        })))
    }

    fn public_url(&self, problems: &mut Vec<String>) -> Option<Url> {
        let text = self.sign_in.public_url.as_deref()?;
        match Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            _ => {
                problems.push(format!("--public-url (CS_PUBLIC_URL) must be an http(s) URL such as https://compute.example.com, not '{text}'"));
                None
            }
        }
    }

    fn sign_in_registration(&self, problems: &mut Vec<String>) -> Option<SignInRegistration> {
        let args = &self.sign_in;
        let mut missing = false;
        for (flag, env, value) in [
            (
                "--sign-in-tenant-id",
                "CS_SIGNIN_TENANT_ID",
                &args.sign_in_tenant_id,
            ),
            (
                "--sign-in-client-id",
                "CS_SIGNIN_CLIENT_ID",
                &args.sign_in_client_id,
            ),
            (
                "--sign-in-client-secret",
                "CS_SIGNIN_CLIENT_SECRET",
                &args.sign_in_client_secret,
            ),
        ] {
            if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                problems.push(format!("{flag} ({env}) is required in Azure mode (the app registration people sign in with)"));
                missing = true;
            }
        }
        if self.sign_in.public_url.is_none() {
            problems.push("--public-url (CS_PUBLIC_URL) is required in Azure mode: Entra redirects people back to it".into());
        }
        let authority = parse_endpoint_named(
            &args.sign_in_authority,
            "--sign-in-authority (CS_SIGNIN_AUTHORITY)",
            problems,
        )?;
        if missing {
            return None;
        }
        Some(SignInRegistration {
            authority: authority.as_str().trim_end_matches('/').to_string(),
            tenant_id: args.sign_in_tenant_id.clone()?,
            client_id: args.sign_in_client_id.clone()?,
            client_secret: args.sign_in_client_secret.clone()?,
        })
    }

    fn credential(&self, problems: &mut Vec<String>) -> Option<Credential> {
        let azure = &self.azure;
        let Some(kind) = azure.credential else {
            problems.push("--azure-credential (CS_AZURE_CREDENTIAL) is required in Azure mode: client-secret, managed-identity, workload-identity or developer-tools".into());
            return None;
        };
        let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if kind != CredentialKind::ClientSecret && has(&azure.client_secret) {
            problems.push(format!(
                "AZURE_CLIENT_SECRET is set but --azure-credential is {}: the secret would be ignored; unset it or use client-secret",
                kind.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
            ));
        }
        match kind {
            CredentialKind::ClientSecret => {
                for (flag, env, value) in [
                    ("--tenant-id", "AZURE_TENANT_ID", &azure.tenant_id),
                    ("--client-id", "AZURE_CLIENT_ID", &azure.client_id),
                    (
                        "--client-secret",
                        "AZURE_CLIENT_SECRET",
                        &azure.client_secret,
                    ),
                ] {
                    if !has(value) {
                        problems.push(format!(
                            "{flag} ({env}) is required with --azure-credential client-secret"
                        ));
                    }
                }
                if let Some(tenant) = azure.tenant_id.as_deref().filter(|t| !t.is_empty())
                    && !is_guid(tenant)
                    && !tenant.contains('.')
                {
                    problems.push(format!("--tenant-id (AZURE_TENANT_ID) must be a tenant GUID or domain, not '{tenant}'"));
                }
                Some(Credential::ClientSecret {
                    tenant_id: azure.tenant_id.clone()?,
                    client_id: azure.client_id.clone()?,
                    secret: azure.client_secret.clone()?,
                })
            }
            CredentialKind::ManagedIdentity => Some(Credential::ManagedIdentity {
                client_id: azure.client_id.clone(),
            }),
            CredentialKind::WorkloadIdentity => Some(Credential::WorkloadIdentity),
            CredentialKind::DeveloperTools => Some(Credential::DeveloperTools),
        }
    }
}

/// An app registration for sign-in. `Debug` never prints the secret.
#[derive(Clone)]
pub struct SignInRegistration {
    pub authority: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for SignInRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRegistration")
            .field("authority", &self.authority)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// `App.Role=member,Other.Role=admin` → pairs; every bad entry is named.
fn parse_role_map(text: &str, problems: &mut Vec<String>) -> Vec<(String, Role)> {
    let mut map = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.split_once('=') {
            Some((claim, role)) if !claim.trim().is_empty() => match Role::parse(role) {
                Some(role) => map.push((claim.trim().to_string(), role)),
                None => problems.push(format!(
                    "--role-map (CS_ROLE_MAP): '{role}' in '{entry}' is not a role (reader, member, contributor, admin)"
                )),
            },
            _ => problems.push(format!("--role-map (CS_ROLE_MAP): '{entry}' is not of the form AppRoleValue=role")),
        }
    }
    map
}

fn parse_endpoint(value: &str, problems: &mut Vec<String>) -> Option<Url> {
    parse_endpoint_named(value, "--arm-endpoint (CS_ARM_ENDPOINT)", problems)
}

fn parse_endpoint_named(value: &str, setting: &str, problems: &mut Vec<String>) -> Option<Url> {
    let mut url = match Url::parse(value) {
        Ok(url) => url,
        Err(e) => {
            problems.push(format!("{setting} '{value}' is not a URL: {e}"));
            return None;
        }
    };
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        problems.push(format!(
            "{setting} '{value}' must use https (plain http only for a local emulator)"
        ));
        return None;
    }
    // ArmClient appends paths to it: it must end with exactly one '/'.
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{path}/"));
    Some(url)
}

pub fn is_guid(value: &str) -> bool {
    uuid::Uuid::try_parse(value).is_ok() && value.len() == 36
}

pub fn is_api_version(value: &str) -> bool {
    let date = value.strip_suffix("-preview").unwrap_or(value);
    let b = date.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emulator_args(args: &[&str]) -> EmulatorArgs {
        let mut argv = vec!["compute-studio", "emulator"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).expect("flags parse").command {
            Some(Command::Emulator(args)) => args,
            other => panic!("not the emulator command: {other:?}"),
        }
    }

    #[test]
    fn the_emulator_fault_flags_make_a_plan() {
        use crate::emulator::{FaultKind, RequestClass};
        assert_eq!(emulator_args(&[]).fault_plan().unwrap(), None);
        let plan = emulator_args(&[
            "--fault-rate",
            "0.2",
            "--fault-kinds",
            "throttle, reset-after",
            "--fault-seed",
            "42",
            "--fault-operations",
            "power,create",
        ])
        .fault_plan()
        .unwrap()
        .expect("a plan");
        assert_eq!(plan.rate, 0.2);
        assert_eq!(plan.seed, 42);
        assert_eq!(
            plan.kinds,
            [FaultKind::Throttle, FaultKind::ResetAfterExecuting]
        );
        assert_eq!(plan.classes, [RequestClass::Power, RequestClass::Create]);
    }

    #[test]
    fn bad_emulator_fault_flags_are_each_named() {
        let err = emulator_args(&[
            "--fault-rate",
            "1.5",
            "--fault-kinds",
            "throttle,gremlins",
            "--fault-seed",
            "seven",
            "--fault-operations",
            ",",
        ])
        .fault_plan()
        .unwrap_err()
        .to_string();
        for expected in [
            "--fault-rate (CS_EMULATOR_FAULT_RATE) must be a number from 0 to 1",
            "not '1.5'",
            "unknown fault kind 'gremlins': choose among latency, throttle",
            "--fault-seed (CS_EMULATOR_FAULT_SEED) must be a whole number",
            "--fault-operations (CS_EMULATOR_FAULT_OPERATIONS): name at least one class of request",
        ] {
            assert!(err.contains(expected), "{expected} missing from:\n{err}");
        }
    }

    fn parse(args: &[&str]) -> Result<Settings, SettingsError> {
        let mut argv = vec!["compute-studio"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)
            .expect("flags parse")
            .serve
            .validate()
    }

    #[test]
    fn no_azure_settings_means_demo_mode() {
        let settings = parse(&[]).unwrap();
        assert!(matches!(settings.mode, Mode::Demo { .. }));
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn a_partial_workspace_names_every_missing_setting() {
        let err = parse(&["--subscription-id", "nope", "--workspace", "ws1"])
            .unwrap_err()
            .to_string();
        for expected in [
            "--resource-group (AZURE_RESOURCE_GROUP) is required",
            "--location (AZURE_LOCATION) is required",
            "--subscription-id (AZURE_SUBSCRIPTION_ID) must be a GUID",
            "--azure-credential (CS_AZURE_CREDENTIAL) is required",
        ] {
            assert!(err.contains(expected), "{expected} missing from:\n{err}");
        }
    }

    #[test]
    fn contradictory_credentials_are_refused() {
        let err = parse(&[
            "--subscription-id",
            "2f6a1b3c-0000-4000-8000-000000000001",
            "--resource-group",
            "rg",
            "--workspace",
            "ws1",
            "--location",
            "westeurope",
            "--azure-credential",
            "managed-identity",
            "--client-secret",
            "s3cret",
            "--arm-endpoint",
            "http://example.com",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("AZURE_CLIENT_SECRET is set but --azure-credential is managed-identity"),
            "{err}"
        );
        assert!(err.contains("must use https"), "{err}");
        assert!(!err.contains("s3cret"), "a secret must never be echoed");
    }

    #[test]
    fn a_complete_azure_configuration_is_accepted() {
        let settings = parse(&[
            "--subscription-id",
            "2f6a1b3c-0000-4000-8000-000000000001",
            "--resource-group",
            "ml-rg",
            "--workspace",
            "team-ws",
            "--location",
            "WestEurope",
            "--azure-credential",
            "developer-tools",
            "--arm-endpoint",
            "https://management.usgovcloudapi.net",
            "--public-url",
            "https://compute.example.com",
            "--sign-in-tenant-id",
            "2f6a1b3c-0000-4000-8000-000000000002",
            "--sign-in-client-id",
            "2f6a1b3c-0000-4000-8000-000000000003",
            "--sign-in-client-secret",
            "s3cret",
            "--sign-in-authority",
            "https://login.microsoftonline.us",
        ])
        .unwrap();
        let sign_in = settings.sign_in.expect("a sign-in registration");
        assert_eq!(sign_in.authority, "https://login.microsoftonline.us");
        assert!(!format!("{sign_in:?}").contains("s3cret"));
        let Mode::Azure(azure) = settings.mode else {
            panic!("expected Azure mode")
        };
        assert_eq!(azure.location, "westeurope");
        assert_eq!(
            azure.arm_endpoint.as_str(),
            "https://management.usgovcloudapi.net/"
        );
    }

    #[test]
    fn azure_mode_needs_a_sign_in_registration_and_good_role_settings() {
        let err = parse(&[
            "--subscription-id",
            "2f6a1b3c-0000-4000-8000-000000000001",
            "--resource-group",
            "ml-rg",
            "--workspace",
            "team-ws",
            "--location",
            "westeurope",
            "--azure-credential",
            "developer-tools",
            "--role-map",
            "App.Admin=superuser,broken",
            "--default-role",
            "boss",
        ])
        .unwrap_err()
        .to_string();
        for expected in [
            "--sign-in-client-id (CS_SIGNIN_CLIENT_ID) is required",
            "--public-url (CS_PUBLIC_URL) is required",
            "'superuser' in 'App.Admin=superuser' is not a role",
            "'broken' is not of the form AppRoleValue=role",
            "--default-role (CS_DEFAULT_ROLE) must be",
        ] {
            assert!(err.contains(expected), "{expected} missing from:\n{err}");
        }
    }
}
