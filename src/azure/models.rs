//! Wire models of the Azure ML compute REST API (see ../shared/arm-compute-api.md).
//!
//! Everything Azure may omit is an `Option`, every enum Azure declares extensible is a `String`,
//! and the kind-specific `properties.properties` object is kept as raw JSON so that compute
//! types and fields this version does not know survive a round trip through the cache.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::arm_ids::resource_group_of;

/// `ComputeResource`: the ARM envelope around one compute.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ComputeResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_data: Option<SystemData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Compute>,
    /// Envelope fields this version does not know (kept, so the cache loses nothing).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// `Compute`: the properties common to every compute type (discriminator `computeType`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Compute {
    #[serde(default)]
    pub compute_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_errors: Option<Vec<ErrorResponse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_attached_compute: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_local_auth: Option<bool>,
    /// The kind-specific object (`ComputeInstanceProperties`, `AmlComputeProperties`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
    /// Common fields this version does not know.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SystemData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_at: Option<String>,
}

/// One page of a paged ARM list: `{"value":[…],"nextLink":"…"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// ARM's error envelope: `{"error":{"code","message","target","details","additionalInfo"}}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ErrorResponse {
    #[serde(default)]
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<Value>,
}

/// The body behind an `Azure-AsyncOperation` URL.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// `VirtualMachineSize` from `locations/{loc}/vmSizes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VmSize {
    pub name: String,
    #[serde(default)]
    pub family: String,
    #[serde(default, rename = "vCPUs")]
    pub v_cpus: i64,
    #[serde(default)]
    pub gpus: i64,
    #[serde(
        default,
        rename = "osVhdSizeMB",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_vhd_size_mb: Option<i64>,
    #[serde(
        default,
        rename = "maxResourceVolumeMB",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_resource_volume_mb: Option<i64>,
    #[serde(default, rename = "memoryGB")]
    pub memory_gb: f64,
    #[serde(default, rename = "lowPriorityCapable")]
    pub low_priority_capable: bool,
    #[serde(default, rename = "premiumIO")]
    pub premium_io: bool,
    #[serde(default, rename = "supportedComputeTypes")]
    pub supported_compute_types: Vec<String>,
    #[serde(
        default,
        rename = "estimatedVMPrices",
        skip_serializing_if = "Option::is_none"
    )]
    pub estimated_vm_prices: Option<Value>,
}

/// `Usage` from `locations/{loc}/usages`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aml_workspace_location: Option<String>,
    #[serde(default, rename = "type")]
    pub usage_type: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub current_value: i64,
    #[serde(default)]
    pub limit: i64,
    #[serde(default)]
    pub name: UsageName,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UsageName {
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub localized_value: String,
}

/// `VirtualMachineSizeListResult`: not paged.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VmSizeList {
    #[serde(default)]
    pub value: Vec<VmSize>,
}

impl ComputeResource {
    pub fn compute_type(&self) -> &str {
        self.properties
            .as_ref()
            .map(|p| p.compute_type.as_str())
            .unwrap_or("")
    }

    pub fn provisioning_state(&self) -> Option<&str> {
        self.properties.as_ref()?.provisioning_state.as_deref()
    }

    /// A string field of the kind-specific object, e.g. `state` or `vmSize`.
    pub fn inner_str(&self, field: &str) -> Option<&str> {
        self.inner(field)?.as_str()
    }

    /// Any field of the kind-specific object.
    pub fn inner(&self, field: &str) -> Option<&Value> {
        self.properties.as_ref()?.properties.as_ref()?.get(field)
    }
}

// ----- other resource providers: networks, identities, AKS ------------------------------------------

/// A virtual network of the subscription (`Microsoft.Network/virtualNetworks`) with its subnets:
/// what a create form offers for `subnet.id`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "wire::VirtualNetwork")]
pub struct VirtualNetwork {
    pub id: String,
    pub name: String,
    pub location: String,
    pub address_prefixes: Vec<String>,
    pub subnets: Vec<Subnet>,
}

/// One subnet of a virtual network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subnet {
    pub id: String,
    pub name: String,
    /// `addressPrefix`, or the first of `addressPrefixes` (Azure sends one or the other).
    pub address_prefix: Option<String>,
}

/// A user-assigned managed identity (`Microsoft.ManagedIdentity/userAssignedIdentities`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "wire::UserAssignedIdentity")]
pub struct UserAssignedIdentity {
    pub id: String,
    pub name: String,
    pub location: String,
    pub tenant_id: Option<String>,
    pub principal_id: Option<String>,
    pub client_id: Option<String>,
}

/// An AKS cluster (`Microsoft.ContainerService/managedClusters`), summarised as a form needs it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "wire::ManagedCluster")]
pub struct ManagedCluster {
    pub id: String,
    pub name: String,
    pub location: String,
    pub provisioning_state: Option<String>,
    /// `powerState.code`: `Running` or `Stopped`.
    pub power_state: Option<String>,
    /// `kubernetesVersion`, else `currentKubernetesVersion`.
    pub kubernetes_version: Option<String>,
    /// The API server's public FQDN, else its private one (private clusters have only that).
    pub fqdn: Option<String>,
    /// Nodes of all agent pools together.
    pub node_count: i64,
    /// The VM size of the first agent pool (the system pool, in practice).
    pub vm_size: Option<String>,
}

impl VirtualNetwork {
    pub fn resource_group(&self) -> Option<&str> {
        resource_group_of(&self.id)
    }
}

impl UserAssignedIdentity {
    pub fn resource_group(&self) -> Option<&str> {
        resource_group_of(&self.id)
    }
}

impl ManagedCluster {
    pub fn resource_group(&self) -> Option<&str> {
        resource_group_of(&self.id)
    }
}

/// The shapes these providers put on the wire. Every field is optional and `null` is taken as
/// missing: a list must not fail because one resource lacks something the dashboard does not
/// even show.
mod wire {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct VirtualNetwork {
        id: Option<String>,
        name: Option<String>,
        location: Option<String>,
        properties: Option<VirtualNetworkProperties>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct VirtualNetworkProperties {
        address_space: Option<AddressSpace>,
        subnets: Option<Vec<Subnet>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct AddressSpace {
        address_prefixes: Option<Vec<String>>,
    }

    #[derive(Deserialize)]
    struct Subnet {
        id: Option<String>,
        name: Option<String>,
        properties: Option<SubnetProperties>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct SubnetProperties {
        address_prefix: Option<String>,
        address_prefixes: Option<Vec<String>>,
    }

    impl From<VirtualNetwork> for super::VirtualNetwork {
        fn from(wire: VirtualNetwork) -> Self {
            let properties = wire.properties;
            let (address_space, subnets) = match properties {
                Some(p) => (p.address_space, p.subnets),
                None => (None, None),
            };
            super::VirtualNetwork {
                id: wire.id.unwrap_or_default(),
                name: wire.name.unwrap_or_default(),
                location: wire.location.unwrap_or_default(),
                address_prefixes: address_space
                    .and_then(|a| a.address_prefixes)
                    .unwrap_or_default(),
                subnets: subnets
                    .unwrap_or_default()
                    .into_iter()
                    .map(super::Subnet::from)
                    .collect(),
            }
        }
    }

    impl From<Subnet> for super::Subnet {
        fn from(wire: Subnet) -> Self {
            let address_prefix = wire.properties.and_then(|p| {
                p.address_prefix
                    .or_else(|| p.address_prefixes.and_then(|all| all.into_iter().next()))
            });
            super::Subnet {
                id: wire.id.unwrap_or_default(),
                name: wire.name.unwrap_or_default(),
                address_prefix,
            }
        }
    }

    #[derive(Deserialize)]
    pub struct UserAssignedIdentity {
        id: Option<String>,
        name: Option<String>,
        location: Option<String>,
        properties: Option<IdentityProperties>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct IdentityProperties {
        tenant_id: Option<String>,
        principal_id: Option<String>,
        client_id: Option<String>,
    }

    impl From<UserAssignedIdentity> for super::UserAssignedIdentity {
        fn from(wire: UserAssignedIdentity) -> Self {
            let (tenant_id, principal_id, client_id) = match wire.properties {
                Some(p) => (p.tenant_id, p.principal_id, p.client_id),
                None => (None, None, None),
            };
            super::UserAssignedIdentity {
                id: wire.id.unwrap_or_default(),
                name: wire.name.unwrap_or_default(),
                location: wire.location.unwrap_or_default(),
                tenant_id,
                principal_id,
                client_id,
            }
        }
    }

    #[derive(Deserialize)]
    pub struct ManagedCluster {
        id: Option<String>,
        name: Option<String>,
        location: Option<String>,
        properties: Option<ClusterProperties>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ClusterProperties {
        provisioning_state: Option<String>,
        power_state: Option<PowerState>,
        kubernetes_version: Option<String>,
        current_kubernetes_version: Option<String>,
        fqdn: Option<String>,
        #[serde(rename = "privateFQDN")]
        private_fqdn: Option<String>,
        agent_pool_profiles: Option<Vec<AgentPool>>,
    }

    #[derive(Deserialize)]
    struct PowerState {
        code: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct AgentPool {
        count: Option<i64>,
        vm_size: Option<String>,
    }

    impl From<ManagedCluster> for super::ManagedCluster {
        fn from(wire: ManagedCluster) -> Self {
            let mut cluster = super::ManagedCluster {
                id: wire.id.unwrap_or_default(),
                name: wire.name.unwrap_or_default(),
                location: wire.location.unwrap_or_default(),
                ..Default::default()
            };
            let Some(p) = wire.properties else {
                return cluster;
            };
            let pools = p.agent_pool_profiles.unwrap_or_default();
            cluster.provisioning_state = p.provisioning_state;
            cluster.power_state = p.power_state.and_then(|s| s.code);
            cluster.kubernetes_version = p.kubernetes_version.or(p.current_kubernetes_version);
            cluster.fqdn = p.fqdn.or(p.private_fqdn);
            // Azure's numbers, added without overflow whatever they are.
            cluster.node_count = pools
                .iter()
                .filter_map(|pool| pool.count)
                .fold(0i64, i64::saturating_add);
            cluster.vm_size = pools.into_iter().next().and_then(|pool| pool.vm_size);
            cluster
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn virtual_networks_tolerate_missing_and_null_fields() {
        let full: VirtualNetwork = serde_json::from_value(json!({
            "id": "/subscriptions/s/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/hub",
            "name": "hub", "location": "westeurope", "etag": "W/\"x\"", "unknown": 1,
            "properties": {
                "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] },
                "subnets": [
                    { "id": "a", "name": "one", "properties": { "addressPrefix": "10.0.1.0/24" } },
                    { "id": "b", "name": "two", "properties": { "addressPrefixes": ["10.0.2.0/24", "fd00::/64"] } },
                    { "id": "c", "name": "three", "properties": null }
                ]
            }
        }))
        .unwrap();
        assert_eq!(full.resource_group(), Some("net-rg"));
        assert_eq!(full.address_prefixes, ["10.0.0.0/16"]);
        let prefixes: Vec<_> = full
            .subnets
            .iter()
            .map(|s| s.address_prefix.as_deref())
            .collect();
        assert_eq!(prefixes, [Some("10.0.1.0/24"), Some("10.0.2.0/24"), None]);

        let bare: VirtualNetwork =
            serde_json::from_value(json!({ "name": "bare", "properties": { "subnets": null } }))
                .unwrap();
        assert_eq!(bare.name, "bare");
        assert!(bare.subnets.is_empty() && bare.address_prefixes.is_empty());
    }

    #[test]
    fn managed_clusters_are_summarised() {
        let cluster: ManagedCluster = serde_json::from_value(json!({
            "id": "/subscriptions/s/resourcegroups/aks-rg/providers/Microsoft.ContainerService/managedClusters/k",
            "name": "k", "location": "westeurope",
            "properties": {
                "powerState": { "code": "Running" },
                "currentKubernetesVersion": "1.30.6",
                "privateFQDN": "k.private.westeurope.azmk8s.io",
                "agentPoolProfiles": [
                    { "name": "system", "count": 3, "vmSize": "Standard_D4s_v3", "mode": "System" },
                    { "name": "user", "count": 2, "vmSize": "Standard_D8s_v3", "mode": "User" },
                    { "name": "scaled-to-zero" }
                ]
            }
        }))
        .unwrap();
        assert_eq!(cluster.resource_group(), Some("aks-rg"));
        assert_eq!(cluster.node_count, 5);
        assert_eq!(cluster.vm_size.as_deref(), Some("Standard_D4s_v3"));
        assert_eq!(cluster.kubernetes_version.as_deref(), Some("1.30.6"));
        assert_eq!(
            cluster.fqdn.as_deref(),
            Some("k.private.westeurope.azmk8s.io")
        );
        assert_eq!(cluster.power_state.as_deref(), Some("Running"));

        let bare: ManagedCluster = serde_json::from_value(json!({ "name": "bare" })).unwrap();
        assert_eq!((bare.node_count, bare.vm_size), (0, None));
    }

    #[test]
    fn identities_tolerate_missing_properties() {
        let identity: UserAssignedIdentity = serde_json::from_value(json!({
            "id": "/subscriptions/s/resourceGroups/id-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai",
            "name": "uai", "location": "westeurope",
            "properties": { "clientId": "c", "principalId": "p", "tenantId": "t" }
        }))
        .unwrap();
        assert_eq!(identity.resource_group(), Some("id-rg"));
        assert_eq!(identity.client_id.as_deref(), Some("c"));
        let bare: UserAssignedIdentity = serde_json::from_value(json!({ "name": "bare" })).unwrap();
        assert_eq!(bare.principal_id, None);
    }
}
