//! What the create forms offer, from Azure: the region's VM sizes, the core quota left, the
//! subscription's networks in the region, its user-assigned identities and its AKS clusters.
//!
//! Fetched together and remembered for a minute, so typing in a form never waits on Azure;
//! forgotten after every create, whose cores change the quota.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::azure::ArmClient;
use crate::azure::models::{ManagedCluster, UserAssignedIdentity, VirtualNetwork, VmSize};
use crate::domain::quota::{Headroom, UsageLine};

const FRESH_FOR: Duration = Duration::from_secs(60);

/// One look at Azure's offer. A part Azure would not give is empty, with the reason in
/// `problems` for the form to show.
#[derive(Debug, Default)]
pub struct Offer {
    pub sizes: Vec<VmSize>,
    pub headroom: Headroom,
    /// Networks in the workspace's region only: a compute cannot join one elsewhere.
    pub networks: Vec<VirtualNetwork>,
    pub identities: Vec<UserAssignedIdentity>,
    /// AKS clusters of every region: an inference cluster may attach one of any region.
    pub managed_clusters: Vec<ManagedCluster>,
    pub problems: Vec<String>,
}

impl Offer {
    pub fn size(&self, name: &str) -> Option<&VmSize> {
        self.sizes
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The subnet with this id, and its network.
    pub fn subnet(&self, id: &str) -> Option<(&VirtualNetwork, &crate::azure::models::Subnet)> {
        self.networks.iter().find_map(|network| {
            network
                .subnets
                .iter()
                .find(|s| s.id.eq_ignore_ascii_case(id))
                .map(|s| (network, s))
        })
    }
}

pub struct OfferCache {
    arm: ArmClient,
    location: String,
    slot: Mutex<Option<(Instant, Arc<Offer>)>>,
}

impl OfferCache {
    pub fn new(arm: ArmClient, location: String) -> Self {
        OfferCache {
            arm,
            location,
            slot: Mutex::new(None),
        }
    }

    /// The remembered offer, or a fresh one when it is older than a minute. Concurrent
    /// callers wait for one fetch rather than each asking Azure.
    pub async fn get(&self) -> Arc<Offer> {
        let mut slot = self.slot.lock().await;
        if let Some((at, offer)) = slot.as_ref()
            && at.elapsed() < FRESH_FOR
        {
            return offer.clone();
        }
        let offer = Arc::new(self.fetch().await);
        // A failed look is not remembered: the next form asks again.
        if offer.problems.is_empty() {
            *slot = Some((Instant::now(), offer.clone()));
        } else {
            *slot = None;
        }
        offer
    }

    /// The last look at Azure's offer, however old, without asking Azure (or waiting for a look
    /// in progress): for pages that only decorate what they show with it.
    pub fn peek(&self) -> Option<Arc<Offer>> {
        let slot = self.slot.try_lock().ok()?;
        slot.as_ref().map(|(_, offer)| offer.clone())
    }

    /// After a create: its cores count against the quota from now on.
    pub async fn forget(&self) {
        let mut slot = self.slot.lock().await;
        // Stale, so the next form asks Azure again; still there for `peek`.
        let long_ago = Instant::now().checked_sub(FRESH_FOR * 2);
        match (slot.as_mut(), long_ago) {
            (Some((at, _)), Some(long_ago)) => *at = long_ago,
            _ => *slot = None,
        }
    }

    async fn fetch(&self) -> Offer {
        let (sizes, usages, networks, identities, clusters) = tokio::join!(
            self.arm.vm_sizes(),
            self.arm.usages(),
            self.arm.virtual_networks(),
            self.arm.user_assigned_identities(),
            self.arm.managed_clusters(),
        );
        let mut offer = Offer::default();
        let problem = |what: &str, e: crate::azure::ArmError| {
            tracing::warn!(error = %e, "could not list {what}");
            offer_problem(what, &e)
        };
        let mut problems = Vec::new();
        match sizes {
            Ok(mut sizes) => {
                sizes.sort_by(|a, b| {
                    (a.gpus > 0, a.v_cpus, &a.name).cmp(&(b.gpus > 0, b.v_cpus, &b.name))
                });
                offer.sizes = sizes;
            }
            Err(e) => problems.push(problem("the VM sizes of the region", e)),
        }
        match usages {
            Ok(usages) => {
                offer.headroom = Headroom::new(usages.into_iter().map(|u| UsageLine {
                    name: u.name.value,
                    current: u.current_value,
                    limit: u.limit,
                }));
            }
            Err(e) => problems.push(problem("the core quota", e)),
        }
        match networks {
            Ok(networks) => {
                offer.networks = networks
                    .into_iter()
                    .filter(|n| same_region(&n.location, &self.location))
                    .collect();
                offer.networks.sort_by(|a, b| {
                    (a.resource_group(), &a.name).cmp(&(b.resource_group(), &b.name))
                });
            }
            Err(e) => problems.push(problem("the virtual networks", e)),
        }
        match identities {
            Ok(identities) => offer.identities = identities,
            Err(e) => problems.push(problem("the user-assigned identities", e)),
        }
        match clusters {
            Ok(mut clusters) => {
                clusters.sort_by(|a, b| (&a.location, &a.name).cmp(&(&b.location, &b.name)));
                offer.managed_clusters = clusters;
            }
            Err(e) => problems.push(problem("the AKS clusters", e)),
        }
        offer.problems = problems;
        offer
    }
}

fn offer_problem(what: &str, e: &crate::azure::ArmError) -> String {
    format!("Azure did not list {what}: {}", e.user_message())
}

/// Azure writes regions as `westeurope` in some places and `West Europe` in others.
pub fn same_region(a: &str, b: &str) -> bool {
    let squash = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    squash(a) == squash(b)
}
