//! How an emulator instance behaves: identity of the fake workspace, operation timings, quotas,
//! failure sizes, the seed, and the resources of other providers around the workspace
//! (virtual networks, user-assigned identities, AKS clusters).

use std::time::Duration;

use super::demo::DEMO_TENANT_ID;
use super::managed_clusters::{ManagedClusterSeed, default_managed_clusters};
use super::managed_identities::{UserAssignedIdentitySeed, default_user_assigned_identities};
use super::network::{VirtualNetworkSeed, default_virtual_networks};

/// How long each long-running operation takes before it settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timings {
    pub create: Duration,
    pub start: Duration,
    pub stop: Duration,
    pub restart: Duration,
    pub delete: Duration,
    pub update: Duration,
    /// The `Retry-After` value (seconds) sent with every 201/202.
    pub retry_after_secs: u64,
}

impl Timings {
    /// Slow enough that a person watching the dashboard sees the transitional states.
    pub fn demo() -> Self {
        Timings {
            create: Duration::from_secs(20),
            start: Duration::from_secs(8),
            stop: Duration::from_secs(6),
            restart: Duration::from_secs(10),
            delete: Duration::from_secs(6),
            update: Duration::from_secs(5),
            retry_after_secs: 1,
        }
    }

    /// Fast enough that integration tests finish in a few seconds.
    pub fn fast() -> Self {
        Timings {
            create: Duration::from_millis(150),
            start: Duration::from_millis(80),
            stop: Duration::from_millis(80),
            restart: Duration::from_millis(80),
            delete: Duration::from_millis(60),
            update: Duration::from_millis(60),
            retry_after_secs: 0,
        }
    }
}

/// What the emulator contains when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// No computes at all.
    Empty,
    /// A lively team workspace: instances of several people in several states, two clusters.
    Demo,
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub subscription_id: String,
    pub resource_group: String,
    pub workspace: String,
    pub location: String,
    pub tenant_id: String,
    pub timings: Timings,
    /// Items per page of `GET …/computes`.
    pub page_size: usize,
    /// Creating a compute with one of these sizes ends in a provisioning failure.
    pub failing_vm_sizes: Vec<String>,
    pub seed: Seed,
    /// If set, every period a background task starts or stops one instance "by schedule".
    pub demo_activity: Option<Duration>,
    /// Lifetime of the access tokens the token endpoint issues.
    pub token_lifetime: Duration,
    /// Dedicated vCPU quota per VM family (`family` as in the vmSizes list, e.g. `standardDSv2Family`).
    /// A family that is not listed has no family limit (only the regional one applies).
    pub quotas: Vec<(String, i64)>,
    /// Total dedicated vCPUs of the region, across all families.
    pub regional_core_limit: i64,
    /// The subscription's virtual networks (Microsoft.Network): listed for the create forms, and
    /// the only subnets a compute's `subnet.id` may name.
    pub virtual_networks: Vec<VirtualNetworkSeed>,
    /// The subscription's user-assigned identities (Microsoft.ManagedIdentity): listed for the
    /// create forms, and the only ones a compute's `identity` may name.
    pub user_assigned_identities: Vec<UserAssignedIdentitySeed>,
    /// The subscription's AKS clusters (Microsoft.ContainerService).
    pub managed_clusters: Vec<ManagedClusterSeed>,
    /// Whether a compute's `subnet.id` may be one of the REST spec's example placeholders
    /// (`network::SPEC_EXAMPLE_SUBNET_IDS`), accepted unchecked. Off by default: only tests that
    /// replay the spec's example bodies turn it on; any other id is always checked.
    pub accept_placeholder_subnets: bool,
}

/// Subscription GUID used by the demo and test configurations.
pub const DEMO_SUBSCRIPTION_ID: &str = "00000000-0000-0000-0000-0000000000a1";

/// The per-family quotas of a typical subscription that was granted some GPU quota.
pub fn default_quotas() -> Vec<(String, i64)> {
    [
        ("standardDSv2Family", 96),
        ("standardDv2Family", 48),
        ("standardDSv3Family", 48),
        ("standardEDSv4Family", 48),
        ("standardFSv2Family", 48),
        ("standardNCSv3Family", 24),
        ("standardNCADSA100v4Family", 24),
        ("standardNDASv4_A100Family", 96),
    ]
    .into_iter()
    .map(|(family, limit)| (family.to_string(), limit))
    .collect()
}

impl EmulatorConfig {
    /// The configuration of `compute-studio --emulator`: demo data, visible timings, live activity.
    pub fn demo() -> Self {
        let (resource_group, location) = ("ml-demo-rg", "westeurope");
        EmulatorConfig {
            subscription_id: DEMO_SUBSCRIPTION_ID.to_string(),
            resource_group: resource_group.to_string(),
            workspace: "demo-workspace".to_string(),
            location: location.to_string(),
            tenant_id: DEMO_TENANT_ID.to_string(),
            timings: Timings::demo(),
            page_size: 50,
            // A real size that does exist but for which the region has no capacity.
            failing_vm_sizes: vec!["Standard_ND96asr_v4".to_string()],
            seed: Seed::Demo,
            demo_activity: Some(Duration::from_secs(45)),
            token_lifetime: Duration::from_secs(3600),
            quotas: default_quotas(),
            regional_core_limit: 200,
            virtual_networks: default_virtual_networks(resource_group, location),
            user_assigned_identities: default_user_assigned_identities(resource_group, location),
            managed_clusters: default_managed_clusters(resource_group, location),
            accept_placeholder_subnets: false,
        }
    }

    /// The configuration of the integration tests: empty, fast, with a synthetic failing size,
    /// and the demo's networks, identities and AKS clusters (placeholder subnets refused).
    pub fn for_tests() -> Self {
        let mut quotas = default_quotas();
        quotas.push(("standardFAILv1Family".to_string(), 100));
        EmulatorConfig {
            timings: Timings::fast(),
            failing_vm_sizes: vec!["Standard_FAIL_v1".to_string()],
            seed: Seed::Empty,
            demo_activity: None,
            quotas,
            ..EmulatorConfig::demo()
        }
    }

    /// The family quota, if the family has one.
    pub fn family_limit(&self, family: &str) -> Option<i64> {
        self.quotas
            .iter()
            .find(|(f, _)| f.eq_ignore_ascii_case(family))
            .map(|(_, limit)| *limit)
    }

    /// Every resource group that exists in the emulated subscription: the workspace's and those
    /// of the seeded networks, identities and clusters.
    pub fn resource_groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = vec![self.resource_group.as_str()];
        let seeded = self
            .virtual_networks
            .iter()
            .map(|v| v.resource_group.as_str())
            .chain(
                self.user_assigned_identities
                    .iter()
                    .map(|i| i.resource_group.as_str()),
            )
            .chain(
                self.managed_clusters
                    .iter()
                    .map(|c| c.resource_group.as_str()),
            );
        for group in seeded {
            if !groups.iter().any(|g| g.eq_ignore_ascii_case(group)) {
                groups.push(group);
            }
        }
        groups
    }

    pub fn is_failing_size(&self, vm_size: &str) -> bool {
        self.failing_vm_sizes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(vm_size))
    }
}
