//! Microsoft.Network as the emulator serves it: the subscription's virtual networks and their
//! subnets (seeded from the configuration; they never change), and the check Azure ML makes on
//! the `subnet.id` of a compute instance or cluster.

use serde_json::{Map, Value, json};

use super::config::EmulatorConfig;
use super::error::ArmError;
use super::util::{normalise_location, stable_guid};
use crate::domain::arm_ids::{ResourceId, parse_subnet_id};

pub const VIRTUAL_NETWORK_TYPE: &str = "Microsoft.Network/virtualNetworks";
const SUBNET_TYPE: &str = "Microsoft.Network/virtualNetworks/subnets";

/// The subnet ids the REST spec's own example bodies use in place of a real one. They are
/// accepted, unchecked, only when `EmulatorConfig::accept_placeholder_subnets` is set: the spec's
/// examples can then be replayed as they are, while every other id is still checked.
pub const SPEC_EXAMPLE_SUBNET_IDS: &[&str] = &["test-subnet-resource-id"];

/// A virtual network of the emulated subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualNetworkSeed {
    pub resource_group: String,
    pub name: String,
    pub location: String,
    pub address_prefixes: Vec<String>,
    pub subnets: Vec<SubnetSeed>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetSeed {
    pub name: String,
    pub address_prefix: String,
}

impl VirtualNetworkSeed {
    /// A network with one address space and `subnets` as `(name, prefix)` pairs.
    pub fn new(
        resource_group: &str,
        name: &str,
        location: &str,
        address_prefix: &str,
        subnets: &[(&str, &str)],
    ) -> Self {
        VirtualNetworkSeed {
            resource_group: resource_group.to_string(),
            name: name.to_string(),
            location: location.to_string(),
            address_prefixes: vec![address_prefix.to_string()],
            subnets: subnets
                .iter()
                .map(|(name, prefix)| SubnetSeed {
                    name: name.to_string(),
                    address_prefix: prefix.to_string(),
                })
                .collect(),
        }
    }

    pub fn id(&self, subscription_id: &str) -> String {
        format!(
            "/subscriptions/{subscription_id}/resourceGroups/{}/providers/{VIRTUAL_NETWORK_TYPE}/{}",
            self.resource_group, self.name
        )
    }

    pub fn subnet_id(&self, subscription_id: &str, subnet: &str) -> String {
        format!("{}/subnets/{subnet}", self.id(subscription_id))
    }

    pub fn subnet(&self, name: &str) -> Option<&SubnetSeed> {
        self.subnets
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }
}

/// A realistic subscription: two networks in the workspace's resource group, a hub network in a
/// networking resource group, all in `location`, and a second hub in another region (which the
/// dashboard must not offer, and the subnet check refuses).
pub fn default_virtual_networks(workspace_rg: &str, location: &str) -> Vec<VirtualNetworkSeed> {
    let other_region = if normalise_location(location) == "northeurope" {
        "westeurope"
    } else {
        "northeurope"
    };
    vec![
        VirtualNetworkSeed::new(
            workspace_rg,
            "ml-vnet",
            location,
            "10.0.0.0/16",
            &[
                ("training", "10.0.1.0/24"),
                ("instances", "10.0.2.0/24"),
                ("private-endpoints", "10.0.3.0/24"),
            ],
        ),
        VirtualNetworkSeed::new(
            workspace_rg,
            "ml-scoring-vnet",
            location,
            "10.1.0.0/16",
            &[("scoring", "10.1.1.0/24"), ("aks-nodes", "10.1.2.0/24")],
        ),
        VirtualNetworkSeed::new(
            "network-hub-rg",
            "hub-vnet",
            location,
            "10.10.0.0/16",
            &[
                ("shared-services", "10.10.1.0/24"),
                ("AzureBastionSubnet", "10.10.2.0/26"),
                ("data-science", "10.10.4.0/22"),
            ],
        ),
        VirtualNetworkSeed::new(
            "network-hub-rg",
            "hub-vnet-dr",
            other_region,
            "10.20.0.0/16",
            &[
                ("shared-services", "10.20.1.0/24"),
                ("data-science", "10.20.4.0/22"),
            ],
        ),
    ]
}

/// Every virtual network of the subscription as `GET …/virtualNetworks` lists it.
pub fn list(config: &EmulatorConfig) -> Vec<Value> {
    config
        .virtual_networks
        .iter()
        .map(|vnet| virtual_network_view(vnet, &config.subscription_id))
        .collect()
}

fn virtual_network_view(vnet: &VirtualNetworkSeed, subscription_id: &str) -> Value {
    let id = vnet.id(subscription_id);
    let subnets: Vec<Value> = vnet
        .subnets
        .iter()
        .map(|subnet| subnet_view(&vnet.subnet_id(subscription_id, &subnet.name), subnet))
        .collect();
    json!({
        "name": vnet.name,
        "id": id,
        "etag": etag(&id),
        "type": VIRTUAL_NETWORK_TYPE,
        "location": vnet.location,
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": stable_guid(&format!("{id}#resourceGuid")),
            "addressSpace": { "addressPrefixes": vnet.address_prefixes },
            "subnets": subnets,
            "virtualNetworkPeerings": [],
            "enableDdosProtection": false,
        },
    })
}

fn subnet_view(id: &str, subnet: &SubnetSeed) -> Value {
    json!({
        "name": subnet.name,
        "id": id,
        "etag": etag(id),
        "type": SUBNET_TYPE,
        "properties": {
            "provisioningState": "Succeeded",
            "addressPrefix": subnet.address_prefix,
            "delegations": [],
            "privateEndpointNetworkPolicies": "Disabled",
            "privateLinkServiceNetworkPolicies": "Enabled",
        },
    })
}

/// Network resources carry weak etags that change only when the resource does.
fn etag(id: &str) -> String {
    format!("W/\"{}\"", stable_guid(id))
}

/// Checks the `subnet` of an instance's or a cluster's `properties.properties` as Azure ML
/// does: absent or null means "no virtual network"; otherwise it is `{"id": …}` naming an
/// existing subnet whose network is in the workspace's region.
pub fn check_compute_subnet(
    config: &EmulatorConfig,
    inner: &Map<String, Value>,
) -> Result<(), ArmError> {
    let id = match inner.get("subnet") {
        None | Some(Value::Null) => return Ok(()),
        Some(subnet) => subnet.get("id").and_then(Value::as_str).ok_or_else(|| {
            ArmError::bad_request(
                "BadRequest",
                "properties.properties.subnet must be an object with a string 'id', the ARM id of a subnet.",
            )
        })?,
    };
    check_subnet_id(config, id)
}

/// The rule behind `check_compute_subnet`, for one id.
fn check_subnet_id(config: &EmulatorConfig, id: &str) -> Result<(), ArmError> {
    if config.accept_placeholder_subnets && SPEC_EXAMPLE_SUBNET_IDS.contains(&id) {
        return Ok(());
    }
    network_of_subnet(config, id).map(drop)
}

/// The virtual network of an existing subnet in the workspace's region (the subnet an AKS
/// cluster's nodes join), or Azure's refusal of the id.
pub fn network_of_subnet<'a>(
    config: &'a EmulatorConfig,
    id: &str,
) -> Result<&'a VirtualNetworkSeed, ArmError> {
    let parsed = parse_subnet_id(id).map_err(|rule| malformed_subnet_id(id, &rule))?;
    let vnet = find_virtual_network(config, &parsed)
        .filter(|vnet| parsed.name_at(1).and_then(|s| vnet.subnet(s)).is_some())
        .ok_or_else(|| subnet_not_found(id, &config.subscription_id))?;
    if normalise_location(&vnet.location) != normalise_location(&config.location) {
        return Err(ArmError::bad_request(
            "InvalidSubnet",
            format!(
                "Subnet '{id}' belongs to virtual network '{}' in region '{}'; the subnet must be in the same region as the workspace ({}).",
                vnet.name, vnet.location, config.location
            ),
        ));
    }
    Ok(vnet)
}

fn find_virtual_network<'a>(
    config: &'a EmulatorConfig,
    id: &ResourceId,
) -> Option<&'a VirtualNetworkSeed> {
    let name = id.name_at(0)?;
    config.virtual_networks.iter().find(|vnet| {
        id.is_in(&config.subscription_id, &vnet.resource_group)
            && vnet.name.eq_ignore_ascii_case(name)
    })
}

/// Azure's wording around the domain's rule, which says what a subnet id looks like.
fn malformed_subnet_id(id: &str, rule: &str) -> ArmError {
    ArmError::bad_request(
        "LinkedInvalidPropertyId",
        format!("Property id '{id}' at path 'properties.properties.subnet.id' is invalid: {rule}"),
    )
    .with_target("properties.properties.subnet.id")
}

fn subnet_not_found(id: &str, subscription_id: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidSubnet",
        format!(
            "Subnet '{id}' was not found. The virtual network and the subnet must exist in subscription '{subscription_id}' before a compute can use them."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EmulatorConfig {
        EmulatorConfig::for_tests()
    }

    fn subnet_id(config: &EmulatorConfig, vnet: &str, subnet: &str) -> String {
        let vnet = config
            .virtual_networks
            .iter()
            .find(|v| v.name == vnet)
            .expect("seeded");
        vnet.subnet_id(&config.subscription_id, subnet)
    }

    #[test]
    fn subnets_of_the_region_are_accepted_in_any_case() {
        let config = config();
        let id = subnet_id(&config, "ml-vnet", "training");
        assert_eq!(check_subnet_id(&config, &id), Ok(()));
        let shouted = id
            .replace("resourceGroups", "RESOURCEGROUPS")
            .replace("Microsoft.Network", "microsoft.network")
            .replace("training", "Training");
        assert_eq!(check_subnet_id(&config, &shouted), Ok(()));
    }

    #[test]
    fn refusals_name_the_id_and_the_rule() {
        let config = config();
        let known = subnet_id(&config, "ml-vnet", "training");
        let cases = [
            (
                "not-an-id".to_string(),
                "LinkedInvalidPropertyId",
                "is invalid",
            ),
            (
                known.replace("/subnets/training", ""),
                "LinkedInvalidPropertyId",
                "is invalid",
            ),
            (
                known.replace("training", "nope"),
                "InvalidSubnet",
                "was not found",
            ),
            (
                known.replace("ml-vnet", "nope"),
                "InvalidSubnet",
                "was not found",
            ),
            (
                known.replace(
                    &config.subscription_id,
                    "11111111-2222-3333-4444-555555555555",
                ),
                "InvalidSubnet",
                "was not found",
            ),
            (
                subnet_id(&config, "hub-vnet-dr", "data-science"),
                "InvalidSubnet",
                "same region as the workspace (westeurope)",
            ),
        ];
        for (id, code, rule) in cases {
            let error = check_subnet_id(&config, &id).expect_err(&id);
            assert_eq!(error.code, code, "{id}");
            assert!(error.message.contains(&id), "{}", error.message);
            assert!(error.message.contains(rule), "{}", error.message);
        }
    }

    #[test]
    fn placeholders_pass_only_when_the_switch_is_on() {
        let mut config = config();
        assert!(check_subnet_id(&config, "test-subnet-resource-id").is_err());
        config.accept_placeholder_subnets = true;
        assert_eq!(check_subnet_id(&config, "test-subnet-resource-id"), Ok(()));
        assert!(check_subnet_id(&config, "another-placeholder").is_err());
    }

    #[test]
    fn the_default_seed_has_an_other_region_network() {
        let config = config();
        let here = normalise_location(&config.location);
        let in_region = config
            .virtual_networks
            .iter()
            .filter(|v| normalise_location(&v.location) == here)
            .count();
        assert_eq!(in_region, 3);
        assert_eq!(config.virtual_networks.len(), 4);
    }
}
