//! The inference cluster form: a new AKS cluster or an existing one of the subscription, its
//! size, nodes and purpose, its network, SSL and load balancer, and the rules that turn them
//! into a plan.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::common::{Plan, Secret, check_name_by, describe_size};
use super::options::{Offer, same_region};
use crate::azure::models::ManagedCluster;
use crate::domain::certificates::{SslCertificate, check_cname};
use crate::domain::compute::ComputeKind;
use crate::domain::field::FieldErrors;
use crate::domain::inference::{
    ClusterPurpose, MIN_PRODUCTION_VCPUS, check_capacity, check_leaf_domain_label,
    describe_capacity, parse_node_count,
};
use crate::domain::names::check_inference_rule;
use crate::domain::network_ranges::{
    AksNetwork, DEFAULT_DNS_SERVICE_IP, DEFAULT_DOCKER_BRIDGE_CIDR, DEFAULT_SERVICE_CIDR,
};
use crate::error::AppError;
use crate::web::forms::FormFields;
use crate::web::sealed::Sealer;

pub const FIELDS: &[&str] = &[
    "kind",
    "form_token",
    "step",
    "name",
    "source",
    "existing_cluster",
    "region",
    "vm_size",
    "purpose",
    "nodes",
    "network",
    "subnet",
    "service_cidr",
    "dns_service_ip",
    "docker_bridge_cidr",
    "ssl",
    "ssl_cert",
    "ssl_key",
    "ssl_key_sealed",
    "ssl_cname",
    "ssl_leaf_label",
    "load_balancer",
    "lb_subnet",
];

/// The SSL private key, kept sealed between steps.
pub const SSL_KEY: Secret = Secret::new("ssl_key", "inference.ssl_key");

#[derive(Debug, Clone, Default)]
pub struct InferenceForm {
    pub name: String,
    /// `new` or `existing`.
    pub source: String,
    /// The resource id of the AKS cluster to attach.
    pub existing_cluster: String,
    pub region: String,
    pub vm_size: String,
    /// `production` or `devtest`.
    pub purpose: String,
    pub nodes: String,
    /// `default` or `advanced`.
    pub network: String,
    pub subnet: String,
    pub service_cidr: String,
    pub dns_service_ip: String,
    pub docker_bridge_cidr: String,
    /// `off`, `custom` or `microsoft`.
    pub ssl: String,
    pub ssl_cert: String,
    /// Never shown again: kept between steps only sealed.
    pub ssl_key: String,
    pub ssl_cname: String,
    pub ssl_leaf_label: String,
    /// `public` or `internal`.
    pub load_balancer: String,
    pub lb_subnet: String,
}

impl InferenceForm {
    pub fn blank(location: &str) -> Self {
        InferenceForm {
            source: "new".into(),
            region: location.to_string(),
            vm_size: "Standard_D4s_v3".into(),
            purpose: "production".into(),
            nodes: "3".into(),
            network: "default".into(),
            service_cidr: DEFAULT_SERVICE_CIDR.into(),
            dns_service_ip: DEFAULT_DNS_SERVICE_IP.into(),
            docker_bridge_cidr: DEFAULT_DOCKER_BRIDGE_CIDR.into(),
            ssl: "off".into(),
            load_balancer: "public".into(),
            ..InferenceForm::default()
        }
    }

    pub fn read(fields: &FormFields, sealer: &Sealer) -> Result<Self, AppError> {
        fields.only_known(FIELDS, &[])?;
        Ok(InferenceForm {
            name: fields.one("name")?.trim().to_string(),
            source: fields.one("source")?,
            existing_cluster: fields.one("existing_cluster")?.trim().to_string(),
            region: fields.one("region")?.trim().to_string(),
            vm_size: fields.one("vm_size")?,
            purpose: fields.one("purpose")?,
            nodes: fields.one("nodes")?,
            network: fields.one("network")?,
            subnet: fields.one("subnet")?,
            service_cidr: fields.one("service_cidr")?,
            dns_service_ip: fields.one("dns_service_ip")?,
            docker_bridge_cidr: fields.one("docker_bridge_cidr")?,
            ssl: fields.one("ssl")?,
            ssl_cert: fields.one("ssl_cert")?,
            ssl_key: SSL_KEY.read(fields, sealer)?,
            ssl_cname: fields.one("ssl_cname")?.trim().to_string(),
            ssl_leaf_label: fields.one("ssl_leaf_label")?.trim().to_string(),
            load_balancer: fields.one("load_balancer")?,
            lb_subnet: fields.one("lb_subnet")?.trim().to_string(),
        })
    }

    pub fn attaching(&self) -> bool {
        self.source == "existing"
    }

    /// Regions the form offers: the workspace's, then those of the subscription's AKS clusters.
    pub fn regions(offer: &Offer, location: &str) -> Vec<String> {
        let mut regions = vec![location.to_string()];
        for cluster in &offer.managed_clusters {
            if !regions.iter().any(|r| same_region(r, &cluster.location)) {
                regions.push(cluster.location.clone());
            }
        }
        regions
    }

    /// The cluster's vCPUs in words, as the form shows them beside the node count.
    pub fn capacity(&self, offer: &Offer) -> Option<String> {
        let (nodes, vcpus) = if self.attaching() {
            let cluster = self.chosen_cluster(offer)?;
            (cluster.node_count, cluster_vcpus_per_node(offer, cluster)?)
        } else {
            (
                parse_node_count(&self.nodes).ok()?,
                offer.size(self.vm_size.trim())?.v_cpus,
            )
        };
        let total = nodes.saturating_mul(vcpus);
        let verdict = if total >= MIN_PRODUCTION_VCPUS {
            "enough for production".to_string()
        } else {
            format!("production needs at least {MIN_PRODUCTION_VCPUS}")
        };
        Some(format!("{}: {verdict}.", describe_capacity(nodes, vcpus)))
    }

    fn chosen_cluster<'a>(&self, offer: &'a Offer) -> Option<&'a ManagedCluster> {
        offer
            .managed_clusters
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(&self.existing_cluster))
    }

    pub fn validate(
        &self,
        offer: &Offer,
        location: &str,
        name_taken: &dyn Fn(&str) -> bool,
        now: OffsetDateTime,
    ) -> Result<Plan, FieldErrors> {
        let mut errors = FieldErrors::new();
        check_name_by(&mut errors, &self.name, name_taken, check_inference_rule);
        let purpose = errors.check("purpose", ClusterPurpose::from_form(&self.purpose));
        let regions = Self::regions(offer, location);
        let region = regions
            .iter()
            .find(|r| same_region(r, &self.region))
            .cloned();
        if region.is_none() {
            errors.add(
                "region",
                "Choose a region: the workspace's, or one where the subscription has AKS clusters.",
            );
        }
        let mut inner = Map::new();
        let mut summary = vec![
            ("Name".to_string(), self.name.clone()),
            ("Kind".to_string(), "Inference cluster".to_string()),
        ];
        let mut resource_id = None;
        match self.source.as_str() {
            "new" => self.check_new(
                offer,
                location,
                purpose,
                &mut errors,
                &mut inner,
                &mut summary,
            ),
            "existing" => {
                resource_id =
                    self.check_existing(offer, purpose, &mut errors, &mut inner, &mut summary);
            }
            _ => errors.add(
                "source",
                "Kubernetes service must be a new AKS cluster or an existing one.",
            ),
        }
        if let Some(ssl) = self.checked_ssl(now, &mut errors, &mut summary) {
            inner.insert("sslConfiguration".into(), ssl);
        }
        errors.into_result()?;
        let (Some(purpose), Some(region)) = (purpose, region) else {
            unreachable!("missing parts are errors above");
        };
        inner.insert("clusterPurpose".into(), json!(purpose.to_arm()));
        summary.insert(2, ("Region".to_string(), region.clone()));
        let mut properties = json!({
            "computeType": "AKS",
            "computeLocation": region,
            "properties": Value::Object(inner),
        });
        if let Some(id) = resource_id {
            properties["resourceId"] = json!(id);
        }
        Ok(Plan {
            name: self.name.clone(),
            kind: ComputeKind::Inference,
            body: json!({ "location": region, "properties": properties }),
            summary,
            warnings: Vec::new(),
        })
    }

    fn check_new(
        &self,
        offer: &Offer,
        location: &str,
        purpose: Option<ClusterPurpose>,
        errors: &mut FieldErrors,
        inner: &mut Map<String, Value>,
        summary: &mut Vec<(String, String)>,
    ) {
        if !same_region(&self.region, location) && !self.region.is_empty() {
            errors.add(
                "region",
                format!("A new AKS cluster is created in the workspace's region ({location}), whose VM sizes are listed here; choose it, or attach an existing cluster of another region."),
            );
        }
        let size = match offer.size(self.vm_size.trim()) {
            Some(size) => Some(size),
            None if self.vm_size.trim().is_empty() => {
                errors.add("vm_size", "Choose a virtual machine size.");
                None
            }
            None => {
                errors.add(
                    "vm_size",
                    format!(
                        "'{}' is not a VM size offered in this region.",
                        crate::domain::scale::shorten(&self.vm_size)
                    ),
                );
                None
            }
        };
        let nodes = errors.check("nodes", parse_node_count(&self.nodes));
        if let (Some(size), Some(nodes), Some(purpose)) = (size, nodes, purpose)
            && let Err(rule) = check_capacity(purpose, nodes, size.v_cpus)
        {
            errors.add("nodes", rule);
        }
        let mut network_words = "Azure's default network (kubenet)".to_string();
        let mut vnet = None;
        match self.network.as_str() {
            "" | "default" => {}
            "advanced" => match offer.subnet(self.subnet.trim()) {
                None => errors.add(
                    "subnet",
                    "Choose a subnet of the subscription's networks in the workspace's region.",
                ),
                Some((network, subnet)) => {
                    let ranges: Vec<ipnet::Ipv4Net> = network
                        .address_prefixes
                        .iter()
                        .filter_map(|p| p.parse().ok())
                        .collect();
                    match AksNetwork::check(
                        &self.service_cidr,
                        &self.dns_service_ip,
                        &self.docker_bridge_cidr,
                        &ranges,
                    ) {
                        Err(problems) => errors.extend(problems.iter().cloned()),
                        Ok(checked) => {
                            inner.insert(
                                "aksNetworkingConfiguration".into(),
                                json!({
                                    "subnetId": subnet.id,
                                    "serviceCidr": checked.service_cidr.to_string(),
                                    "dnsServiceIP": checked.dns_service_ip.to_string(),
                                    "dockerBridgeCidr": checked.docker_bridge_cidr.to_string(),
                                }),
                            );
                            network_words = format!(
                                "subnet {} of {}; services {}, DNS {}, Docker bridge {}",
                                subnet.name,
                                network.name,
                                checked.service_cidr,
                                checked.dns_service_ip,
                                checked.docker_bridge_cidr
                            );
                        }
                    }
                    vnet = Some(network);
                }
            },
            _ => errors.add("network", "Network must be the default or advanced."),
        }
        let load_balancer = match self.load_balancer.as_str() {
            "" | "public" => "Public IP address".to_string(),
            "internal" => match vnet {
                None => {
                    errors.add(
                        "load_balancer",
                        "An internal load balancer needs the advanced network: choose a subnet first.",
                    );
                    String::new()
                }
                Some(network) => {
                    let found = network
                        .subnets
                        .iter()
                        .find(|s| s.name.eq_ignore_ascii_case(&self.lb_subnet));
                    match found {
                        None => {
                            errors.add(
                                "lb_subnet",
                                format!(
                                    "Choose a subnet of {} for the internal load balancer.",
                                    network.name
                                ),
                            );
                            String::new()
                        }
                        Some(subnet) => {
                            inner.insert("loadBalancerType".into(), json!("InternalLoadBalancer"));
                            inner.insert("loadBalancerSubnet".into(), json!(subnet.name));
                            format!("Internal, in subnet {}", subnet.name)
                        }
                    }
                }
            },
            _ => {
                errors.add("load_balancer", "Load balancer must be public or internal.");
                String::new()
            }
        };
        if !inner.contains_key("loadBalancerType") {
            inner.insert("loadBalancerType".into(), json!("PublicIp"));
        }
        if let (Some(size), Some(nodes)) = (size, nodes) {
            inner.insert("agentCount".into(), json!(nodes));
            inner.insert("agentVmSize".into(), json!(size.name));
            summary.push((
                "Kubernetes service".to_string(),
                "A new AKS cluster".to_string(),
            ));
            summary.push(("Virtual machine".to_string(), describe_size(size)));
            summary.push((
                "Nodes".to_string(),
                format!(
                    "{}; {}",
                    describe_capacity(nodes, size.v_cpus),
                    purpose.map_or("", ClusterPurpose::label)
                ),
            ));
        }
        summary.push(("Network".to_string(), network_words));
        summary.push(("Load balancer".to_string(), load_balancer));
    }

    fn check_existing(
        &self,
        offer: &Offer,
        purpose: Option<ClusterPurpose>,
        errors: &mut FieldErrors,
        inner: &mut Map<String, Value>,
        summary: &mut Vec<(String, String)>,
    ) -> Option<String> {
        let Some(cluster) = self.chosen_cluster(offer) else {
            errors.add(
                "existing_cluster",
                "Choose one of the subscription's AKS clusters.",
            );
            return None;
        };
        if !same_region(&cluster.location, &self.region) {
            errors.add(
                "existing_cluster",
                format!(
                    "{} is in {}, not in the region chosen ({}).",
                    cluster.name, cluster.location, self.region
                ),
            );
        }
        let per_node = cluster_vcpus_per_node(offer, cluster);
        if let (Some(purpose), Some(per_node)) = (purpose, per_node)
            && let Err(rule) = check_capacity(purpose, cluster.node_count, per_node)
        {
            errors.add("purpose", format!("{}: {rule}", cluster.name));
        }
        inner.remove("agentCount");
        summary.push((
            "Kubernetes service".to_string(),
            format!(
                "The existing AKS cluster {} (resource group {})",
                cluster.name,
                cluster.resource_group().unwrap_or("?")
            ),
        ));
        summary.push((
            "Nodes".to_string(),
            match per_node {
                Some(per_node) => format!(
                    "{}; {}",
                    describe_capacity(cluster.node_count, per_node),
                    purpose.map_or("", ClusterPurpose::label)
                ),
                None => format!("{} nodes", cluster.node_count),
            },
        ));
        Some(cluster.id.clone())
    }

    fn checked_ssl(
        &self,
        now: OffsetDateTime,
        errors: &mut FieldErrors,
        summary: &mut Vec<(String, String)>,
    ) -> Option<Value> {
        let (words, body) = match self.ssl.as_str() {
            "" | "off" => ("Off (HTTP only)".to_string(), json!({"status": "Disabled"})),
            "custom" => {
                let certificate = match SslCertificate::check(&self.ssl_cert, &self.ssl_key, now) {
                    Ok(certificate) => Some(certificate),
                    Err(problems) => {
                        errors.extend(problems.iter().cloned());
                        None
                    }
                };
                if let Err(rule) = check_cname(&self.ssl_cname, certificate.as_ref()) {
                    errors.add("ssl_cname", rule);
                }
                let certificate = certificate?;
                (
                    format!(
                        "Your certificate {}, at {}",
                        certificate.describe(),
                        self.ssl_cname
                    ),
                    json!({
                        "status": "Enabled",
                        "cert": self.ssl_cert.trim(),
                        "key": self.ssl_key.trim(),
                        "cname": self.ssl_cname,
                    }),
                )
            }
            "microsoft" => {
                errors.check(
                    "ssl_leaf_label",
                    check_leaf_domain_label(&self.ssl_leaf_label),
                )?;
                (
                    format!(
                        "A Microsoft certificate for {}….{}.cloudapp.azure.com",
                        self.ssl_leaf_label, self.region
                    ),
                    json!({
                        "status": "Enabled",
                        "leafDomainLabel": self.ssl_leaf_label,
                        "overwriteExistingDomain": false,
                    }),
                )
            }
            _ => {
                errors.add("ssl", "SSL must be off, your certificate or Microsoft's.");
                return None;
            }
        };
        summary.push(("SSL".to_string(), words));
        Some(body)
    }
}

/// vCPUs per node of an AKS cluster, from its first pool's size (the system pool).
fn cluster_vcpus_per_node(offer: &Offer, cluster: &ManagedCluster) -> Option<i64> {
    cluster
        .vm_size
        .as_deref()
        .and_then(|size| offer.size(size))
        .map(|size| size.v_cpus)
}
