//! The address ranges of an inference cluster's network: the Kubernetes service range, the DNS
//! service address inside it and the Docker bridge, each checked against the others and against
//! the virtual network the nodes join.
//!
//! The rules are AKS's (Azure CNI): every range a valid IPv4 CIDR; the service range and the
//! Docker bridge overlapping neither each other nor the virtual network; the service range no
//! larger than /12 and clear of the ranges AKS reserves; the DNS address inside the service
//! range, but not its first usable address (Kubernetes takes that one for its API service).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::field::FieldErrors;

/// The largest service range AKS takes (a /12 holds a million addresses).
pub const WIDEST_SERVICE_PREFIX: u8 = 12;

/// Ranges AKS keeps for itself: link-local, two of its own, and the documentation range.
const RESERVED_RANGES: [&str; 4] = [
    "169.254.0.0/16",
    "172.30.0.0/16",
    "172.31.0.0/16",
    "192.0.2.0/24",
];

/// What the studio fills in; the same as Azure's defaults.
pub const DEFAULT_SERVICE_CIDR: &str = "10.0.0.0/16";
pub const DEFAULT_DNS_SERVICE_IP: &str = "10.0.0.10";
pub const DEFAULT_DOCKER_BRIDGE_CIDR: &str = "172.17.0.1/16";

/// A range as typed: `10.0.0.0/16`. `label` names the field in the message.
///
/// With `exact`, the address must be the range's first one (`10.0.0.5/16` is refused with the
/// range meant); the Docker bridge is written as the bridge's own address and its mask
/// (`172.17.0.1/16`), so it is read without `exact`.
pub fn parse_cidr(label: &str, text: &str, exact: bool) -> Result<Ipv4Net, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!(
            "{label} is required, as a range such as 10.0.0.0/16."
        ));
    }
    let Some((address, prefix)) = text.split_once('/') else {
        return Err(format!(
            "{label} must be a range in CIDR notation, an IPv4 address and a prefix length such as 10.0.0.0/16."
        ));
    };
    let address = parse_ipv4(label, address)?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= 32)
        .ok_or_else(|| format!("{label} must end with a prefix length from /0 to /32."))?;
    let net =
        Ipv4Net::new(address, prefix).map_err(|_| format!("{label} is not a valid range."))?;
    if exact && net.network() != address {
        return Err(format!(
            "{label} must start at the first address of its range: {} rather than {text}.",
            net.trunc()
        ));
    }
    Ok(net)
}

/// An IPv4 address as typed: four numbers from 0 to 255.
pub fn parse_ipv4(label: &str, text: &str) -> Result<Ipv4Addr, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{label} is required."));
    }
    text.parse::<Ipv4Addr>()
        .map_err(|_| format!("{label} must be an IPv4 address such as 10.0.0.10."))
}

/// Whether two ranges share any address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The checked network settings of an inference cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AksNetwork {
    pub service_cidr: Ipv4Net,
    pub dns_service_ip: Ipv4Addr,
    /// As typed: the bridge's own address with its mask.
    pub docker_bridge_cidr: Ipv4Net,
}

impl AksNetwork {
    /// Checks the three fields (`service_cidr`, `dns_service_ip`, `docker_bridge_cidr`) against
    /// each other and against `vnet`, the address ranges of the virtual network the nodes join
    /// (its address space, or the subnet's range when that is all that is known).
    pub fn check(
        service_cidr: &str,
        dns_service_ip: &str,
        docker_bridge_cidr: &str,
        vnet: &[Ipv4Net],
    ) -> Result<AksNetwork, FieldErrors> {
        let mut errors = FieldErrors::new();
        let service = errors.check(
            "service_cidr",
            parse_cidr("Kubernetes service address range", service_cidr, true),
        );
        let dns = errors.check(
            "dns_service_ip",
            parse_ipv4("Kubernetes DNS service IP address", dns_service_ip),
        );
        let bridge = errors.check(
            "docker_bridge_cidr",
            parse_cidr("Docker bridge address", docker_bridge_cidr, false),
        );
        if let Some(service) = service {
            if let Err(e) = check_service_range(&service, vnet) {
                errors.add("service_cidr", e);
            }
            if let Some(dns) = dns
                && let Err(e) = check_dns_ip(&service, dns)
            {
                errors.add("dns_service_ip", e);
            }
        }
        if let Some(bridge) = bridge {
            let bridge_range = bridge.trunc();
            if let Some(service) = service
                && overlaps(&service, &bridge_range)
            {
                errors.add(
                    "docker_bridge_cidr",
                    format!(
                        "The Docker bridge range {bridge_range} overlaps the Kubernetes service address range {service}; choose ranges that share no address."
                    ),
                );
            } else if let Some(net) = vnet.iter().find(|n| overlaps(n, &bridge_range)) {
                errors.add(
                    "docker_bridge_cidr",
                    format!(
                        "The Docker bridge range {bridge_range} overlaps the virtual network's range {net}; choose one outside it (the default is {DEFAULT_DOCKER_BRIDGE_CIDR})."
                    ),
                );
            }
        }
        errors.into_result()?;
        let (Some(service_cidr), Some(dns_service_ip), Some(docker_bridge_cidr)) =
            (service, dns, bridge)
        else {
            unreachable!("a missing part is an error above");
        };
        Ok(AksNetwork {
            service_cidr,
            dns_service_ip,
            docker_bridge_cidr,
        })
    }
}

fn check_service_range(service: &Ipv4Net, vnet: &[Ipv4Net]) -> Result<(), String> {
    if service.prefix_len() < WIDEST_SERVICE_PREFIX {
        return Err(format!(
            "The Kubernetes service address range {service} is too large: AKS takes at most a /{WIDEST_SERVICE_PREFIX}."
        ));
    }
    if let Some(net) = vnet.iter().find(|n| overlaps(n, service)) {
        return Err(format!(
            "The Kubernetes service address range {service} overlaps the virtual network's range {net}; it must be a range no network element uses, such as 10.0.0.0/16 outside it."
        ));
    }
    for reserved in RESERVED_RANGES {
        let reserved: Ipv4Net = reserved.parse().expect("a valid constant");
        if overlaps(&reserved, service) {
            return Err(format!(
                "The Kubernetes service address range {service} overlaps {reserved}, which AKS reserves; choose another range."
            ));
        }
    }
    Ok(())
}

fn check_dns_ip(service: &Ipv4Net, dns: Ipv4Addr) -> Result<(), String> {
    if !service.contains(&dns) {
        return Err(format!(
            "The DNS service IP address {dns} must be inside the Kubernetes service address range {service}."
        ));
    }
    let first_usable = u32::from(service.network()).saturating_add(1);
    if dns == service.network() || dns == service.broadcast() || u32::from(dns) == first_usable {
        return Err(format!(
            "The DNS service IP address {dns} cannot be the range's first address, its first usable one (Kubernetes takes it) or its last; use one such as {}.",
            Ipv4Addr::from(u32::from(service.network()).saturating_add(10))
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<Ipv4Net> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn check(
        service: &str,
        dns: &str,
        bridge: &str,
        vnet: &[&str],
    ) -> Result<AksNetwork, FieldErrors> {
        AksNetwork::check(service, dns, bridge, &nets(vnet))
    }

    #[test]
    fn azures_defaults_fit_a_network_elsewhere() {
        let network = check(
            DEFAULT_SERVICE_CIDR,
            DEFAULT_DNS_SERVICE_IP,
            DEFAULT_DOCKER_BRIDGE_CIDR,
            &["10.1.0.0/16"],
        )
        .unwrap();
        assert_eq!(network.service_cidr.to_string(), "10.0.0.0/16");
        assert_eq!(network.docker_bridge_cidr.to_string(), "172.17.0.1/16");
    }

    #[test]
    fn ranges_must_be_written_as_ranges() {
        assert!(
            parse_cidr("R", "10.0.0.0", true)
                .unwrap_err()
                .contains("CIDR")
        );
        assert!(
            parse_cidr("R", "10.0.0.0/33", true)
                .unwrap_err()
                .contains("/32")
        );
        assert!(
            parse_cidr("R", "10.0.0/16", true)
                .unwrap_err()
                .contains("IPv4")
        );
        assert!(parse_cidr("R", "", true).unwrap_err().contains("required"));
        assert_eq!(
            parse_cidr("R", "10.0.0.5/16", true).unwrap_err(),
            "R must start at the first address of its range: 10.0.0.0/16 rather than 10.0.0.5/16."
        );
        assert!(parse_cidr("R", "172.17.0.1/16", false).is_ok());
        assert!(parse_ipv4("D", "10.0.0.256").is_err());
    }

    /// Each overlap, with ranges just touching on either side of it.
    #[test]
    fn overlaps_are_refused_and_neighbours_are_not() {
        let vnet = ["10.1.0.0/16"];
        // The service range against the network: 10.1.0.0/16 overlaps, 10.2.0.0/16 touches.
        let errors = check("10.1.0.0/16", "10.1.0.10", "172.17.0.1/16", &vnet).unwrap_err();
        assert!(
            errors
                .for_field("service_cidr")
                .unwrap()
                .contains("overlaps the virtual network")
        );
        assert!(check("10.2.0.0/16", "10.2.0.10", "172.17.0.1/16", &vnet).is_ok());
        assert!(check("10.0.0.0/16", "10.0.0.10", "172.17.0.1/16", &vnet).is_ok());
        // A wider service range containing the network overlaps too.
        let errors = check("10.0.0.0/12", "10.0.0.10", "172.17.0.1/16", &vnet).unwrap_err();
        assert!(errors.for_field("service_cidr").is_some());
        // The bridge against the service range and against the network.
        let errors = check("172.16.0.0/12", "172.16.0.10", "172.17.0.1/16", &vnet).unwrap_err();
        assert!(
            errors
                .for_field("docker_bridge_cidr")
                .unwrap()
                .contains("overlaps the Kubernetes service"),
            "{errors:?}"
        );
        let errors = check("10.0.0.0/16", "10.0.0.10", "10.1.255.1/24", &vnet).unwrap_err();
        assert!(
            errors
                .for_field("docker_bridge_cidr")
                .unwrap()
                .contains("virtual network")
        );
        assert!(check("10.0.0.0/16", "10.0.0.10", "10.2.0.1/24", &vnet).is_ok());
    }

    #[test]
    fn the_dns_address_lies_inside_the_service_range_past_its_first_addresses() {
        let ok = |dns: &str| check("10.0.0.0/16", dns, "172.17.0.1/16", &[]).is_ok();
        assert!(ok("10.0.0.10"));
        assert!(ok("10.0.0.2"));
        assert!(ok("10.0.255.254"));
        for refused in [
            "10.0.0.0",
            "10.0.0.1",
            "10.0.255.255",
            "10.1.0.10",
            "192.168.0.10",
        ] {
            assert!(!ok(refused), "{refused}");
        }
        let errors = check("10.0.0.0/16", "10.1.0.10", "172.17.0.1/16", &[]).unwrap_err();
        assert_eq!(
            errors.for_field("dns_service_ip"),
            Some(
                "The DNS service IP address 10.1.0.10 must be inside the Kubernetes service address range 10.0.0.0/16."
            )
        );
    }

    #[test]
    fn the_service_range_is_at_most_a_slash_twelve_and_clear_of_reserved_ranges() {
        assert!(check("10.0.0.0/12", "10.0.0.10", "172.17.0.1/16", &[]).is_ok());
        let errors = check("10.0.0.0/11", "10.0.0.10", "172.17.0.1/16", &[]).unwrap_err();
        assert!(
            errors
                .for_field("service_cidr")
                .unwrap()
                .contains("too large")
        );
        let errors = check("172.30.0.0/16", "172.30.0.10", "172.17.0.1/16", &[]).unwrap_err();
        assert!(
            errors
                .for_field("service_cidr")
                .unwrap()
                .contains("AKS reserves")
        );
    }

    #[test]
    fn every_broken_field_is_named_at_once() {
        let errors = check("nonsense", "", "172.17.0.1", &[]).unwrap_err();
        assert_eq!(errors.len(), 3);
        for field in ["service_cidr", "dns_service_ip", "docker_bridge_cidr"] {
            assert!(errors.for_field(field).is_some(), "{field}");
        }
    }
}
