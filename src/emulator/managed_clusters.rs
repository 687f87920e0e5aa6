//! Microsoft.ContainerService as the emulator serves it: the subscription's AKS clusters
//! (seeded from the configuration, joined by those inference computes create, left by those
//! deleted with their compute), which inference computes attach to.

use serde_json::{Value, json};

use super::config::EmulatorConfig;
use super::util::stable_guid;

/// The resource type exactly as AKS writes it (capital M, unlike the path segment).
pub const MANAGED_CLUSTER_TYPE: &str = "Microsoft.ContainerService/ManagedClusters";

/// An AKS cluster of the emulated subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedClusterSeed {
    pub resource_group: String,
    pub name: String,
    pub location: String,
    pub kubernetes_version: String,
    /// `Running` or `Stopped`.
    pub power_state: String,
    pub agent_pools: Vec<AgentPoolSeed>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPoolSeed {
    pub name: String,
    pub count: i64,
    pub vm_size: String,
    /// `System` or `User`.
    pub mode: String,
}

impl AgentPoolSeed {
    pub fn new(name: &str, count: i64, vm_size: &str, mode: &str) -> Self {
        AgentPoolSeed {
            name: name.to_string(),
            count,
            vm_size: vm_size.to_string(),
            mode: mode.to_string(),
        }
    }
}

impl ManagedClusterSeed {
    /// A running cluster with the usual single system pool of three nodes.
    pub fn new(resource_group: &str, name: &str, location: &str) -> Self {
        ManagedClusterSeed {
            resource_group: resource_group.to_string(),
            name: name.to_string(),
            location: location.to_string(),
            kubernetes_version: "1.30.6".to_string(),
            power_state: "Running".to_string(),
            agent_pools: vec![AgentPoolSeed::new(
                "nodepool1",
                3,
                "Standard_D4s_v3",
                "System",
            )],
        }
    }

    /// AKS writes `resourcegroups` in lower case in the ids it returns; clients must cope.
    pub fn id(&self, subscription_id: &str) -> String {
        format!(
            "/subscriptions/{subscription_id}/resourcegroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
            self.resource_group, self.name
        )
    }
}

/// Two clusters in the workspace's region (one with an extra user pool) and one elsewhere.
pub fn default_managed_clusters(workspace_rg: &str, location: &str) -> Vec<ManagedClusterSeed> {
    let mut platform = ManagedClusterSeed::new("platform-aks-rg", "platform-aks", location);
    platform
        .agent_pools
        .push(AgentPoolSeed::new("gpupool", 2, "Standard_NC6s_v3", "User"));
    let mut elsewhere = ManagedClusterSeed::new("platform-aks-rg", "platform-aks-dr", "eastus");
    elsewhere.power_state = "Stopped".to_string();
    vec![
        ManagedClusterSeed::new(workspace_rg, "ml-inference-aks", location),
        platform,
        elsewhere,
    ]
}

/// Every AKS cluster as `GET …/managedClusters` lists it.
pub fn list(clusters: &[ManagedClusterSeed], config: &EmulatorConfig) -> Vec<Value> {
    clusters
        .iter()
        .map(|cluster| managed_cluster_view(cluster, config))
        .collect()
}

fn managed_cluster_view(cluster: &ManagedClusterSeed, config: &EmulatorConfig) -> Value {
    let id = cluster.id(&config.subscription_id);
    let dns_prefix = format!("{}-dns", cluster.name);
    let host_hash = &stable_guid(&id)[..8];
    let power = json!({ "code": cluster.power_state });
    let pools: Vec<Value> = cluster
        .agent_pools
        .iter()
        .map(|pool| {
            json!({
                "name": pool.name,
                "count": pool.count,
                "vmSize": pool.vm_size,
                "osDiskSizeGB": 128,
                "osDiskType": "Managed",
                "osType": "Linux",
                "osSKU": "Ubuntu",
                "mode": pool.mode,
                "type": "VirtualMachineScaleSets",
                "maxPods": 110,
                "enableAutoScaling": false,
                "provisioningState": "Succeeded",
                "powerState": power,
                "orchestratorVersion": cluster.kubernetes_version,
                "currentOrchestratorVersion": cluster.kubernetes_version,
            })
        })
        .collect();
    json!({
        "id": id,
        "location": cluster.location,
        "name": cluster.name,
        "type": MANAGED_CLUSTER_TYPE,
        "tags": {},
        "sku": { "name": "Base", "tier": "Free" },
        "identity": {
            "type": "SystemAssigned",
            "principalId": stable_guid(&format!("{id}#principal")),
            "tenantId": config.tenant_id,
        },
        "properties": {
            "provisioningState": "Succeeded",
            "powerState": power,
            "kubernetesVersion": cluster.kubernetes_version,
            "currentKubernetesVersion": cluster.kubernetes_version,
            "dnsPrefix": dns_prefix,
            "fqdn": format!("{dns_prefix}-{host_hash}.hcp.{}.azmk8s.io", cluster.location),
            "azurePortalFQDN": format!("{dns_prefix}-{host_hash}.portal.hcp.{}.azmk8s.io", cluster.location),
            "agentPoolProfiles": pools,
            "nodeResourceGroup": format!("MC_{}_{}_{}", cluster.resource_group, cluster.name, cluster.location),
            "enableRBAC": true,
            "networkProfile": {
                "networkPlugin": "azure",
                "loadBalancerSku": "standard",
                "serviceCidr": "10.0.0.0/16",
                "dnsServiceIP": "10.0.0.10",
                "outboundType": "loadBalancer",
            },
        },
    })
}
