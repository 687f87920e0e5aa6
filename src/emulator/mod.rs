//! A stand-alone fake of the Azure ML compute REST API and of the Entra token endpoint.
//!
//! It serves, over real HTTP, the ARM calls the dashboard makes (list, get, create, update,
//! delete, start/stop/restart, listNodes, vmSizes, usages, long-running operation status) with
//! Azure's wire format, validation, error codes and state machine, so that a client cannot tell
//! it from Azure. See `/work/shared/arm-compute-api.md`.
//!
//! Layout: `config` (what an instance looks like), `state` (the world and its state machine),
//! `routes` (HTTP), `auth` (tokens), `catalogue` (VM sizes), `seed` (demo data and activity),
//! `faults` (injected misbehaviour), `demo` (the demo people), and the resources of the other
//! providers the create forms read: `network` (virtual networks and the subnet check),
//! `managed_identities` (user-assigned identities and the `identity` check), `managed_clusters`
//! (AKS).

mod attached;
mod auth;
pub mod bulk;
mod catalogue;
mod config;
pub mod demo;
mod error;
mod faults;
mod inference;
mod managed_clusters;
mod managed_identities;
mod network;
mod routes;
mod seed;
pub mod signin;
mod state;
mod util;
mod validation;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::task::JoinHandle;

pub use auth::{SERVICE_PRINCIPAL_NAME, SERVICE_PRINCIPAL_OBJECT_ID};
pub use catalogue::vm_size_catalogue;
pub use config::{DEMO_SUBSCRIPTION_ID, EmulatorConfig, Seed, Timings, default_quotas};
pub use faults::{Fault, FaultKind, FaultPlan, RequestClass, parse_classes, parse_kinds};
pub use managed_clusters::{AgentPoolSeed, ManagedClusterSeed};
pub use managed_identities::UserAssignedIdentitySeed;
pub use network::{SPEC_EXAMPLE_SUBNET_IDS, SubnetSeed, VirtualNetworkSeed};
pub use state::ExecutedOperation;

use auth::Identity;
use state::World;

/// A running fake of the workspace. Cheap to clone: all clones share one world.
#[derive(Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
}

struct Shared {
    config: EmulatorConfig,
    world: Mutex<World>,
    faults: Mutex<VecDeque<Fault>>,
    /// The random share of faults, when one is set.
    plan: Mutex<Option<FaultPlan>>,
    /// How many requests each "METHOD path" received, for the plan's draws.
    occurrences: Mutex<HashMap<String, u64>>,
    /// Faults inflicted, by kind.
    applied: Mutex<BTreeMap<FaultKind, usize>>,
    /// (method, path) of every request received, for `request_count`.
    requests: Mutex<Vec<(String, String)>>,
    /// Counts ARM requests, to make the remaining-budget headers go down like Azure's.
    arm_requests: AtomicU64,
    /// Authorization codes of the sign-in flow, not yet redeemed.
    codes: Mutex<signin::CodeBook>,
}

impl Emulator {
    /// A new emulator with the seed of `config` applied.
    pub fn new(config: EmulatorConfig) -> Self {
        let mut world = World::new(config.clone());
        if config.seed == Seed::Demo {
            seed::apply_demo_seed(&mut world);
        }
        Emulator {
            shared: Arc::new(Shared {
                config,
                world: Mutex::new(world),
                faults: Mutex::new(VecDeque::new()),
                plan: Mutex::new(None),
                occurrences: Mutex::new(HashMap::new()),
                applied: Mutex::new(BTreeMap::new()),
                requests: Mutex::new(Vec::new()),
                arm_requests: AtomicU64::new(0),
                codes: Mutex::new(signin::CodeBook::new()),
            }),
        }
    }

    /// The browser-facing sign-in pages alone (see `routes::sign_in_router`).
    pub fn sign_in_router(&self) -> axum::Router {
        routes::sign_in_router(self.clone())
    }

    /// Every route, with the state applied.
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    /// Binds `addr` (port 0 picks a free port), serves in a background task and starts the demo
    /// activity if the configuration asks for it.
    pub async fn spawn(
        config: EmulatorConfig,
        addr: SocketAddr,
    ) -> std::io::Result<RunningEmulator> {
        Emulator::new(config).serve(addr).await
    }

    /// Serves this emulator (prepared with, say, `insert_raw`) so that its first answer already
    /// shows everything it holds.
    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<RunningEmulator> {
        let emulator = self;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let host = if local.ip().is_unspecified() {
            format!("127.0.0.1:{}", local.port())
        } else {
            local.to_string()
        };
        let router = emulator.router();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "emulator server stopped");
            }
        });
        let activity = emulator
            .config()
            .demo_activity
            .map(|period| tokio::spawn(seed::run_demo_activity(emulator.clone(), period)));
        Ok(RunningEmulator {
            base_url: format!("http://{host}"),
            emulator,
            tasks: vec![Some(server), activity].into_iter().flatten().collect(),
        })
    }

    /// Queues a fault for the next ARM requests (the token endpoint is never affected).
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push_back(fault);
    }

    /// Sets (or with `None` removes) the random share of faults applied to ARM requests once
    /// the queued faults are spent. The plan is checked first (see `FaultPlan::validate`).
    pub fn set_fault_plan(&self, plan: Option<FaultPlan>) -> Result<(), String> {
        if let Some(plan) = &plan {
            plan.validate()?;
        }
        *lock(&self.shared.plan) = plan;
        Ok(())
    }

    /// How many faults of each kind were inflicted so far (a `ProvisioningFailure` counts when
    /// it made an operation fail).
    pub fn fault_counts(&self) -> BTreeMap<FaultKind, usize> {
        let mut counts = lock(&self.shared.applied).clone();
        let forced = self.world().forced_failures;
        if forced > 0 {
            counts.insert(FaultKind::ProvisioningFailure, forced);
        }
        counts
    }

    /// Every operation the emulator executed (create, update, delete, start, stop, restart),
    /// in order, with how it stands now: the test hook to check nothing was done twice.
    pub fn executed_operations(&self) -> Vec<ExecutedOperation> {
        let mut world = self.world();
        world.settle(std::time::Instant::now());
        world.executed_operations(std::time::Instant::now())
    }

    /// A compute as a GET would show it now (no fault, no token needed), if it exists.
    pub fn compute(&self, name: &str) -> Option<serde_json::Value> {
        let mut world = self.world();
        world.settle(std::time::Instant::now());
        world.get_view(name)
    }

    /// The names of every compute now.
    pub fn compute_names(&self) -> Vec<String> {
        let mut world = self.world();
        world.settle(std::time::Instant::now());
        world.compute_names()
    }

    /// Changes how long operations begun from now on take.
    pub fn set_timings(&self, timings: Timings) {
        self.world().config.timings = timings;
    }

    /// Stores a compute resource exactly as given (e.g. of a `computeType` the dashboard does not
    /// know); it is listed and returned as is and never changes by itself.
    pub fn insert_raw(&self, compute: serde_json::Value) {
        lock(&self.shared.world).insert_raw(compute);
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// How many requests with this method and a path ending in `path_suffix` were received.
    pub fn request_count(&self, method: &str, path_suffix: &str) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|(m, p)| m.eq_ignore_ascii_case(method) && p.ends_with(path_suffix))
            .count()
    }

    /// Issues an access token for the dashboard's service principal, as the token endpoint
    /// would (handy for tests and for in-process use).
    pub fn issue_token(&self) -> String {
        let identity = Identity::service_principal(&self.shared.config.tenant_id);
        let lifetime = self.shared.config.token_lifetime;
        lock(&self.shared.world).tokens.issue(&identity, lifetime)
    }

    /// Issues an access token on behalf of a demo user (what the browser sign-in flow, a later
    /// task, will hand out): computes created with it have that user in `createdBy`.
    pub fn issue_user_token(&self, user: &demo::DemoUser) -> String {
        let identity = Identity {
            object_id: user.object_id.to_string(),
            tenant_id: user.tenant_id.to_string(),
            user_name: user.email.to_string(),
            is_application: false,
        };
        let lifetime = self.shared.config.token_lifetime;
        lock(&self.shared.world).tokens.issue(&identity, lifetime)
    }

    fn codes(&self) -> MutexGuard<'_, signin::CodeBook> {
        lock(&self.shared.codes)
    }

    fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.shared.world)
    }

    /// The fault for one ARM request: a queued one first, else the plan's draw.
    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        if let Some(fault) = faults::take_one(&mut lock(&self.shared.faults)) {
            return Some(fault);
        }
        let plan = lock(&self.shared.plan).clone()?;
        let key = format!(
            "{} {}",
            method.to_ascii_uppercase(),
            path.to_ascii_lowercase()
        );
        let occurrence = {
            let mut seen = lock(&self.shared.occurrences);
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            *n - 1
        };
        plan.draw(method, path, occurrence)
    }

    /// Counts a fault inflicted (provisioning failures are counted by the world).
    fn count_fault(&self, kind: FaultKind) {
        if kind != FaultKind::ProvisioningFailure {
            *lock(&self.shared.applied).entry(kind).or_insert(0) += 1;
        }
    }

    fn record_request(&self, method: &str, path: &str) {
        lock(&self.shared.requests).push((method.to_string(), path.to_string()));
    }

    fn next_arm_request_number(&self) -> u64 {
        self.shared.arm_requests.fetch_add(1, Ordering::Relaxed)
    }
}

/// A poisoned lock only means a handler panicked mid-update; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An emulator serving on a port; dropping it stops the server.
pub struct RunningEmulator {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    pub emulator: Emulator,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningEmulator {
    /// Stops serving (the same as dropping it).
    pub fn shutdown(self) {}
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
