//! The VM sizes of the emulated region, as `GET …/locations/{loc}/vmSizes` lists them.

use serde_json::json;

use crate::azure::models::VmSize;

/// Realistic sizes of a West Europe subscription (prices are Linux pay-as-you-go, USD per hour).
pub fn vm_size_catalogue() -> Vec<VmSize> {
    vec![
        size("Standard_DS1_v2", "standardDSv2Family", 1, 3.5, 0, 0.073),
        size("Standard_DS11_v2", "standardDSv2Family", 2, 14.0, 0, 0.185),
        size("Standard_DS3_v2", "standardDSv2Family", 4, 14.0, 0, 0.293),
        size("Standard_DS12_v2", "standardDSv2Family", 4, 28.0, 0, 0.371),
        size("Standard_D13_v2", "standardDv2Family", 8, 56.0, 0, 0.741),
        size("Standard_D4s_v3", "standardDSv3Family", 4, 16.0, 0, 0.23),
        size("Standard_E4ds_v4", "standardEDSv4Family", 4, 32.0, 0, 0.288),
        size("Standard_F4s_v2", "standardFSv2Family", 4, 8.0, 0, 0.169),
        size("Standard_NC6s_v3", "standardNCSv3Family", 6, 112.0, 1, 3.06),
        size(
            "Standard_NC24ads_A100_v4",
            "standardNCADSA100v4Family",
            24,
            220.0,
            1,
            3.673,
        ),
        size(
            "Standard_ND96asr_v4",
            "standardNDASv4_A100Family",
            96,
            900.0,
            8,
            27.197,
        ),
    ]
}

/// A made-up size for a configured failing size that is not a real one (`Standard_FAIL_v1`).
pub fn synthetic_size(name: &str) -> VmSize {
    size(name, &synthetic_family(name), 2, 8.0, 0, 0.1)
}

/// `Standard_FAIL_v1` → `standardFAILv1Family`, following Azure's naming of families.
fn synthetic_family(name: &str) -> String {
    let stem: String = name
        .trim_start_matches("Standard_")
        .chars()
        .filter(|c| *c != '_')
        .collect();
    format!("standard{stem}Family")
}

/// A human label of a family for quota messages: `standardNCSv3Family` → `Standard NCSv3 Family`.
pub fn family_label(family: &str) -> String {
    let stem = family
        .strip_prefix("standard")
        .and_then(|s| s.strip_suffix("Family"))
        .unwrap_or(family);
    format!("Standard {stem} Family")
}

fn size(name: &str, family: &str, vcpus: i64, memory_gb: f64, gpus: i64, price: f64) -> VmSize {
    VmSize {
        name: name.to_string(),
        family: family.to_string(),
        v_cpus: vcpus,
        gpus,
        os_vhd_size_mb: Some(1_047_552),
        max_resource_volume_mb: Some(vcpus * 7168),
        memory_gb,
        low_priority_capable: true,
        premium_io: true,
        supported_compute_types: vec!["AmlCompute".to_string(), "ComputeInstance".to_string()],
        estimated_vm_prices: Some(json!({
            "billingCurrency": "USD",
            "unitOfMeasure": "OneHour",
            "values": [
                { "retailPrice": price, "osType": "Linux", "vmTier": "Standard" },
                { "retailPrice": (price * 0.2 * 1000.0).round() / 1000.0, "osType": "Linux", "vmTier": "LowPriority" }
            ]
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_names_follow_azure() {
        assert_eq!(synthetic_family("Standard_FAIL_v1"), "standardFAILv1Family");
        assert_eq!(family_label("standardNCSv3Family"), "Standard NCSv3 Family");
    }
}
