//! The collections of the other resource providers the dashboard reads, at subscription or
//! resource group scope: virtual networks, user-assigned identities and AKS clusters. They go
//! through the same checks as every ARM request (see `arm::handle`).

use axum::http::Method;
use serde_json::Value;

use super::super::error::ArmError;
use super::super::state::World;
use super::super::{managed_clusters, managed_identities, network};
use super::Reply;
use super::arm::{Request, only};
use super::paging::{SKIP_TOKEN, paged_reply, slice_page};
use crate::domain::arm_ids::resource_group_of;

/// A list the emulator serves at `…/providers/{namespace}/{type}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    VirtualNetworks,
    UserAssignedIdentities,
    ManagedClusters,
}

impl Collection {
    /// The collection of a lowercased namespace and type, if the emulator serves it.
    pub fn find(namespace: &str, resource_type: &str) -> Option<Self> {
        match (namespace, resource_type) {
            ("microsoft.network", "virtualnetworks") => Some(Collection::VirtualNetworks),
            ("microsoft.managedidentity", "userassignedidentities") => {
                Some(Collection::UserAssignedIdentities)
            }
            ("microsoft.containerservice", "managedclusters") => Some(Collection::ManagedClusters),
            _ => None,
        }
    }

    fn items(self, world: &World) -> Vec<Value> {
        match self {
            Collection::VirtualNetworks => network::list(&world.config),
            Collection::UserAssignedIdentities => managed_identities::list(&world.config),
            Collection::ManagedClusters => {
                managed_clusters::list(&world.managed_clusters, &world.config)
            }
        }
    }
}

/// `GET /subscriptions/{sub}[/resourceGroups/{rg}]/providers/{namespace}/{type}`: one page of the
/// collection, limited to the resource group when the path names one. Subscription and resource
/// group have been checked by the caller.
pub fn list(
    world: &World,
    request: &Request,
    collection: Collection,
    resource_group: Option<&str>,
) -> Result<Reply, ArmError> {
    only(request, &[Method::GET])?;
    let items: Vec<Value> = collection
        .items(world)
        .into_iter()
        .filter(|item| resource_group.is_none_or(|group| is_in_group(item, group)))
        .collect();
    paged_reply(
        request,
        SKIP_TOKEN,
        world.config.page_size,
        |offset, limit| slice_page(items, offset, limit),
    )
}

fn is_in_group(item: &Value, group: &str) -> bool {
    item["id"]
        .as_str()
        .and_then(resource_group_of)
        .is_some_and(|g| g.eq_ignore_ascii_case(group))
}
