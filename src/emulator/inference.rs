//! Inference clusters (`computeType: "AKS"`) as Azure ML makes them: a new AKS cluster of the
//! size, node count and purpose asked for (in the virtual network, with the SSL settings asked
//! for), or an existing AKS cluster of the subscription attached by `properties.resourceId`.
//!
//! A new cluster joins the subscription's AKS clusters (so it is listed, and stays there when
//! the compute is detached); an attached one is found there.

use serde_json::{Map, Value, json};

use super::error::ArmError;
use super::managed_clusters::{AgentPoolSeed, ManagedClusterSeed};
use super::network::network_of_subnet;
use super::state::{KindPlan, World};
use super::util::{now_utc, stable_guid};
use super::validation::{
    attached_resource_id, check_aks_ranges, check_ssl_configuration, present, text_of,
};
use crate::domain::inference::{ClusterPurpose, MAX_NODES, check_capacity};

const INNER: &str = "properties.properties";

/// Checks an AKS compute's PUT and says what to store.
pub fn prepare(
    world: &World,
    name: &str,
    properties: &Map<String, Value>,
    inner: &Map<String, Value>,
    location: &str,
) -> Result<KindPlan, ArmError> {
    let purpose =
        ClusterPurpose::from_arm(present(inner, "clusterPurpose").and_then(Value::as_str))
            .map_err(|rule| invalid(&format!("{INNER}.clusterPurpose"), rule))?;
    check_ssl_configuration(inner, now_utc())?;
    match attached_resource_id(
        properties,
        "Microsoft.ContainerService",
        "managedClusters",
        false,
    )? {
        Some(_) => attach_existing(world, properties, inner, purpose),
        None => create_new(world, name, inner, purpose, location),
    }
}

fn attach_existing(
    world: &World,
    properties: &Map<String, Value>,
    inner: &Map<String, Value>,
    purpose: ClusterPurpose,
) -> Result<KindPlan, ArmError> {
    let config = &world.config;
    let id = text_of(properties.get("resourceId")).to_string();
    let cluster = world
        .managed_clusters
        .iter()
        .find(|c| c.id(&config.subscription_id).eq_ignore_ascii_case(&id))
        .ok_or_else(|| {
            ArmError::bad_request(
                "BadRequest",
                format!(
                    "The AKS cluster '{id}' was not found in subscription '{}'.",
                    config.subscription_id
                ),
            )
            .with_target("properties.resourceId")
        })?;
    if let Some(other) = world.compute_attached_to(&id) {
        return Err(ArmError::conflict(format!(
            "The AKS cluster '{}' is already attached to this workspace as compute '{other}'.",
            cluster.name
        )));
    }
    let nodes: i64 = cluster.agent_pools.iter().map(|p| p.count).sum();
    let vcpus: i64 = cluster
        .agent_pools
        .iter()
        .map(|p| p.count * world.vcpus_of(&p.vm_size))
        .sum();
    if purpose == ClusterPurpose::Production
        && vcpus < crate::domain::inference::MIN_PRODUCTION_VCPUS
    {
        return Err(invalid(
            &format!("{INNER}.clusterPurpose"),
            format!(
                "The AKS cluster '{}' has {vcpus} vCPUs in all; a production (FastProd) cluster needs at least {}. Attach it as DevTest, or add nodes to it first.",
                cluster.name,
                crate::domain::inference::MIN_PRODUCTION_VCPUS
            ),
        ));
    }
    let mut stored = inner.clone();
    let first = cluster.agent_pools.first();
    stored.insert("agentCount".into(), json!(nodes));
    stored.insert(
        "agentVmSize".into(),
        json!(first.map(|p| p.vm_size.as_str()).unwrap_or("")),
    );
    fill_common(
        &mut stored,
        cluster,
        purpose,
        config.subscription_id.as_str(),
    );
    Ok(KindPlan {
        inner: stored,
        resource_id: Some(cluster.id(&config.subscription_id)),
        attached: true,
        location: Some(cluster.location.clone()),
        new_cluster: None,
    })
}

fn create_new(
    world: &World,
    name: &str,
    inner: &Map<String, Value>,
    purpose: ClusterPurpose,
    location: &str,
) -> Result<KindPlan, ArmError> {
    let config = &world.config;
    let size_name = text_of(inner.get("agentVmSize")).to_string();
    if size_name.is_empty() {
        return Err(invalid(
            &format!("{INNER}.agentVmSize"),
            "agentVmSize is required to create a new AKS cluster.",
        ));
    }
    let vcpus = world.vcpus_of(&size_name);
    if vcpus == 0 {
        return Err(invalid(
            &format!("{INNER}.agentVmSize"),
            format!("The VM size '{size_name}' is not supported in location '{location}'."),
        ));
    }
    let nodes = match present(inner, "agentCount") {
        None => 3,
        Some(count) => count
            .as_i64()
            .filter(|n| (1..=MAX_NODES).contains(n))
            .ok_or_else(|| {
                invalid(
                    &format!("{INNER}.agentCount"),
                    format!("agentCount must be a whole number from 1 to {MAX_NODES}."),
                )
            })?,
    };
    check_capacity(purpose, nodes, vcpus)
        .map_err(|rule| invalid(&format!("{INNER}.agentCount"), rule))?;
    let networking = present(inner, "aksNetworkingConfiguration");
    let mut vnet = None;
    if let Some(networking) = networking {
        let subnet_id = text_of(networking.get("subnetId"));
        let network = network_of_subnet(config, &subnet_id).map_err(|e| {
            e.with_target("properties.properties.aksNetworkingConfiguration.subnetId")
        })?;
        let ranges: Vec<ipnet::Ipv4Net> = network
            .address_prefixes
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect();
        check_aks_ranges(networking, &ranges)?;
        vnet = Some(network);
    }
    let internal = match present(inner, "loadBalancerType")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("publicip") => false,
        Some("internalloadbalancer") => true,
        Some(_) => {
            return Err(invalid(
                &format!("{INNER}.loadBalancerType"),
                "loadBalancerType must be PublicIp or InternalLoadBalancer.",
            ));
        }
    };
    if internal {
        let subnet = text_of(inner.get("loadBalancerSubnet"));
        let path = format!("{INNER}.loadBalancerSubnet");
        let Some(network) = vnet else {
            return Err(invalid(
                &path,
                "An internal load balancer needs the cluster in a virtual network (aksNetworkingConfiguration).",
            ));
        };
        if network.subnet(&subnet).is_none() {
            return Err(invalid(
                &path,
                format!(
                    "loadBalancerSubnet must name a subnet of the cluster's virtual network '{}'.",
                    network.name
                ),
            ));
        }
    }
    let suffix = &stable_guid(&format!("{}/{name}", world.workspace_id()))[..6];
    let cluster = ManagedClusterSeed {
        resource_group: config.resource_group.clone(),
        name: format!("{}{suffix}", name.to_ascii_lowercase()),
        location: location.to_string(),
        kubernetes_version: "1.30.6".to_string(),
        power_state: "Running".to_string(),
        agent_pools: vec![AgentPoolSeed::new("agentpool", nodes, &size_name, "System")],
    };
    let mut stored = inner.clone();
    stored.insert("agentCount".into(), json!(nodes));
    stored.insert("agentVmSize".into(), json!(size_name));
    if !internal {
        stored.insert("loadBalancerType".into(), json!("PublicIp"));
    }
    fill_common(
        &mut stored,
        &cluster,
        purpose,
        config.subscription_id.as_str(),
    );
    Ok(KindPlan {
        inner: stored,
        resource_id: Some(cluster.id(&config.subscription_id)),
        attached: false,
        location: Some(location.to_string()),
        new_cluster: Some(cluster),
    })
}

/// What Azure fills in on every AKS compute: the API server's name, the scoring front end.
fn fill_common(
    inner: &mut Map<String, Value>,
    cluster: &ManagedClusterSeed,
    purpose: ClusterPurpose,
    subscription_id: &str,
) {
    let host_hash = &stable_guid(&cluster.id(subscription_id))[..8];
    inner.insert("clusterPurpose".into(), json!(purpose.to_arm()));
    inner.insert(
        "clusterFqdn".into(),
        json!(format!(
            "{}-dns-{host_hash}.hcp.{}.azmk8s.io",
            cluster.name, cluster.location
        )),
    );
    let octet = u8::from_str_radix(&host_hash[..2], 16).unwrap_or(0);
    inner.insert(
        "systemServices".into(),
        json!([{
            "systemServiceType": "ScoringFrontEnd",
            "publicIpAddress": format!("20.73.{octet}.{}", octet / 2 + 10),
            "version": "1.0.0",
        }]),
    );
    if !inner.contains_key("loadBalancerType") {
        inner.insert("loadBalancerType".into(), json!("PublicIp"));
    }
}

fn invalid(path: &str, rule: impl std::fmt::Display) -> ArmError {
    ArmError::bad_request("ValidationError", format!("{path}: {rule}")).with_target(path)
}
