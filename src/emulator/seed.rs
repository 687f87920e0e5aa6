//! The demo workspace (`Seed::Demo`) and the background activity that keeps it alive.

use std::time::Duration;

use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use super::Emulator;
use super::auth::Identity;
use super::demo::{DEMO_USERS, DemoUser};
use super::state::{Action, Trigger, World};

const DAY: Duration = Duration::from_secs(86_400);

/// How a seeded instance should look when the emulator starts.
#[derive(Clone, Copy)]
enum Seeded {
    Running,
    Stopped,
    /// Still being created: finishes `timings.create` after start-up.
    Creating,
    /// Being stopped by idle shutdown: finishes `timings.stop` after start-up.
    Stopping,
    /// Its VM size has no capacity in the region.
    CreateFailed,
}

struct SeedInstance {
    name: &'static str,
    owner: usize,
    vm_size: &'static str,
    state: Seeded,
    age_days: u64,
    description: &'static str,
}

const INSTANCES: &[SeedInstance] = &[
    SeedInstance {
        name: "ada-dev-box",
        owner: 0,
        vm_size: "Standard_DS3_v2",
        state: Seeded::Running,
        age_days: 41,
        description: "Ada's everyday notebook box",
    },
    SeedInstance {
        name: "grace-gpu-a100",
        owner: 1,
        vm_size: "Standard_NC24ads_A100_v4",
        state: Seeded::Running,
        age_days: 12,
        description: "Fine-tuning experiments",
    },
    SeedInstance {
        name: "alan-notebooks",
        owner: 2,
        vm_size: "Standard_DS11_v2",
        state: Seeded::Running,
        age_days: 27,
        description: "",
    },
    SeedInstance {
        name: "katherine-eda",
        owner: 3,
        vm_size: "Standard_E4ds_v4",
        state: Seeded::Running,
        age_days: 9,
        description: "Exploratory data analysis",
    },
    SeedInstance {
        name: "grace-cpu-box",
        owner: 1,
        vm_size: "Standard_DS12_v2",
        state: Seeded::Stopped,
        age_days: 33,
        description: "",
    },
    SeedInstance {
        name: "edsger-reader-box",
        owner: 4,
        vm_size: "Standard_F4s_v2",
        state: Seeded::Stopped,
        age_days: 18,
        description: "Reviewing the team's notebooks",
    },
    SeedInstance {
        name: "ada-spark-prep",
        owner: 0,
        vm_size: "Standard_D13_v2",
        state: Seeded::Creating,
        age_days: 0,
        description: "Data preparation",
    },
    SeedInstance {
        name: "alan-gpu-train",
        owner: 2,
        vm_size: "Standard_NC6s_v3",
        state: Seeded::Stopping,
        age_days: 6,
        description: "",
    },
    SeedInstance {
        name: "katherine-nd96",
        owner: 3,
        vm_size: "Standard_ND96asr_v4",
        state: Seeded::CreateFailed,
        age_days: 2,
        description: "Large model evaluation",
    },
];

/// Fills the world with the demo workspace.
pub fn apply_demo_seed(world: &mut World) {
    for seed in INSTANCES {
        seed_instance(world, seed);
    }
    seed_clusters(world);
}

fn user_identity(user: &DemoUser) -> Identity {
    Identity {
        object_id: user.object_id.to_string(),
        tenant_id: user.tenant_id.to_string(),
        user_name: user.email.to_string(),
        is_application: false,
    }
}

fn seed_instance(world: &mut World, seed: &SeedInstance) {
    let owner = &DEMO_USERS[seed.owner % DEMO_USERS.len()];
    let mut body = json!({
        "location": world.config.location,
        "properties": {
            "computeType": "ComputeInstance",
            "properties": {
                "vmSize": seed.vm_size,
                "applicationSharingPolicy": "Personal",
                "sshSettings": { "sshPublicAccess": "Disabled" },
                "computeInstanceAuthorizationType": "personal",
                "personalComputeInstanceSettings": {
                    "assignedUser": { "objectId": owner.object_id, "tenantId": owner.tenant_id }
                },
                "idleTimeBeforeShutdown": "PT60M",
                "schedules": { "computeStartStop": [ {
                    "status": "Enabled", "action": "Stop", "triggerType": "Cron",
                    "cron": { "expression": "0 19 * * 1-5", "timeZone": "W. Europe Standard Time" }
                } ] }
            }
        }
    });
    if !seed.description.is_empty() {
        body["properties"]["description"] = json!(seed.description);
    }
    if let Err(error) = world.create_or_update(seed.name, &body, &user_identity(owner)) {
        tracing::warn!(name = seed.name, ?error, "demo seed instance refused");
        return;
    }
    if matches!(seed.state, Seeded::Creating) {
        return;
    }
    world.force_settle(seed.name);
    world.backdate(
        seed.name,
        DAY * seed.age_days as u32 + Duration::from_secs(3600 * 3),
    );
    match seed.state {
        Seeded::Stopped => {
            if world
                .power(seed.name, Action::Stop, Trigger::IdleShutdown)
                .is_ok()
            {
                world.force_settle(seed.name);
            }
        }
        Seeded::Stopping => {
            let _ = world.power(seed.name, Action::Stop, Trigger::IdleShutdown);
        }
        Seeded::Running | Seeded::Creating | Seeded::CreateFailed => {}
    }
}

fn seed_clusters(world: &mut World) {
    let admin = user_identity(&DEMO_USERS[0]);
    let cluster = |vm_size: &str, max: i64, description: &str| -> Value {
        json!({
            "location": "westeurope",
            "properties": {
                "computeType": "AmlCompute",
                "description": description,
                "properties": {
                    "vmSize": vm_size,
                    "vmPriority": "Dedicated",
                    "osType": "Linux",
                    "scaleSettings": { "minNodeCount": 0, "maxNodeCount": max, "nodeIdleTimeBeforeScaleDown": "PT120S" },
                    "remoteLoginPortPublicAccess": "Disabled",
                    "enableNodePublicIp": true
                }
            }
        })
    };
    for (name, size, max, description) in [
        (
            "cpu-cluster",
            "Standard_DS3_v2",
            8,
            "Shared CPU cluster for pipelines",
        ),
        (
            "gpu-cluster",
            "Standard_NC6s_v3",
            4,
            "Shared GPU cluster for training",
        ),
    ] {
        if world
            .create_or_update(name, &cluster(size, max, description), &admin)
            .is_ok()
        {
            world.force_settle(name);
            world.backdate(name, DAY * 60);
        }
    }
    // The GPU cluster is scaling up to one warm node as the demo starts.
    let scale = json!({ "properties": { "properties": { "scaleSettings": {
        "minNodeCount": 1, "maxNodeCount": 4, "nodeIdleTimeBeforeScaleDown": "PT300S" } } } });
    if let Err(error) = world.patch("gpu-cluster", &scale) {
        tracing::warn!(?error, "demo seed cluster resize refused");
    }
}

/// Every `period`, starts or stops one settled instance "by schedule" or "by idle shutdown", so
/// that the dashboard sees states change by themselves.
pub async fn run_demo_activity(emulator: Emulator, period: Duration) {
    let mut ticker = tokio::time::interval(period);
    ticker.tick().await; // the first tick is immediate; the demo starts calm
    loop {
        ticker.tick().await;
        demo_tick(&emulator);
    }
}

fn demo_tick(emulator: &Emulator) {
    let mut world = emulator.world();
    world.settle(std::time::Instant::now());
    let running = world.settled_instances_in("Running");
    let stopped = world.settled_instances_in("Stopped");
    let mut rng = rand::rng();
    let candidates: Vec<(&String, bool)> = running
        .iter()
        .map(|n| (n, true))
        .chain(stopped.iter().map(|n| (n, false)))
        .collect();
    let Some((name, is_running)) = candidates.choose(&mut rng).copied() else {
        return;
    };
    let result = if is_running {
        let trigger = *[Trigger::Schedule, Trigger::IdleShutdown]
            .choose(&mut rng)
            .unwrap_or(&Trigger::Schedule);
        world.power(name, Action::Stop, trigger)
    } else {
        world.power(name, Action::Start, Trigger::Schedule)
    };
    if let Err(error) = result {
        tracing::debug!(name, ?error, "demo activity skipped");
    }
}
