//! Wire models of the Azure ML compute REST API (see ../shared/arm-compute-api.md).
//!
//! Everything Azure may omit is an `Option`, every enum Azure declares extensible is a `String`,
//! and the kind-specific `properties.properties` object is kept as raw JSON so that compute
//! types and fields this version does not know survive a round trip through the cache.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
