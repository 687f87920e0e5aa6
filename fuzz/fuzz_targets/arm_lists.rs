//! The lists the create forms are built from (VM sizes, usages, virtual networks, identities,
//! AKS clusters), parsed and then used as the forms use them: quota, capacity, grouping.
#![no_main]

use compute_studio::azure::parse;
use compute_studio::domain::inference::{ClusterPurpose, check_capacity, describe_capacity};
use compute_studio::domain::quota::{Headroom, UsageLine};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let sizes = parse::vm_sizes(data).unwrap_or_default();
    let headroom = match parse::usages_page(data) {
        Ok(page) => Headroom::new(page.value.into_iter().map(|u| UsageLine {
            name: u.name.value,
            current: u.current_value,
            limit: u.limit,
        })),
        Err(_) => Headroom::default(),
    };
    for size in &sizes {
        if let Err(short) = headroom.check(&size.family, size.v_cpus) {
            let _ = short.message();
        }
        let _ = headroom.remaining(&size.family);
    }
    if let Ok(page) = parse::virtual_networks_page(data) {
        for network in &page.value {
            let _ = network.resource_group();
        }
    }
    if let Ok(page) = parse::identities_page(data) {
        for identity in &page.value {
            let _ = identity.resource_group();
        }
    }
    if let Ok(page) = parse::managed_clusters_page(data) {
        for cluster in &page.value {
            let _ = cluster.resource_group();
            // What the inference form says of an existing cluster, with each size offered.
            for vcpus in sizes.iter().map(|s| s.v_cpus).chain([0, 4]) {
                let _ = check_capacity(ClusterPurpose::Production, cluster.node_count, vcpus);
                let _ = describe_capacity(cluster.node_count, vcpus);
            }
        }
    }
});
