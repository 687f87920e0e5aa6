//! From Azure's resource to the cache's record: which columns the list shows, derived once.

use serde_json::Value;

use crate::azure::models::ComputeResource;
use crate::domain::compute::{ComputeKind, display_state};
use crate::store::computes::ComputeRecord;

/// `None` for a resource without a name (nothing could address it).
pub fn record_from_resource(resource: &ComputeResource) -> Option<ComputeRecord> {
    let name = resource.name.clone().filter(|n| !n.is_empty())?;
    let compute_type = resource.compute_type().to_string();
    let kind = ComputeKind::from_compute_type(&compute_type);
    let state = display_state(
        resource.inner_str("state"),
        resource.inner_str("allocationState"),
        resource.provisioning_state(),
    );
    let owner = owner_of(resource);
    Some(ComputeRecord {
        arm_id: resource.id.clone().unwrap_or_default(),
        kind: kind.as_str().to_string(),
        compute_type: if compute_type.is_empty() {
            "Unknown".into()
        } else {
            compute_type
        },
        state,
        provisioning_state: resource.provisioning_state().map(str::to_string),
        vm_size: ["vmSize", "agentVmSize", "virtualMachineSize"]
            .into_iter()
            .find_map(|field| resource.inner_str(field))
            .map(str::to_string),
        owner_object_id: owner.object_id,
        owner_tenant_id: owner.tenant_id,
        owner_name: owner.name,
        created_by_name: created_by_name(resource),
        created_on: resource
            .properties
            .as_ref()
            .and_then(|p| p.created_on.clone())
            .or_else(|| {
                resource
                    .system_data
                    .as_ref()
                    .and_then(|s| s.created_at.clone())
            }),
        location: resource
            .properties
            .as_ref()
            .and_then(|p| p.compute_location.clone())
            .or_else(|| resource.location.clone()),
        problem: problem_of(resource),
        resource_json: serde_json::to_string(resource).unwrap_or_else(|_| "{}".into()),
        name,
    })
}

/// Azure's first words about what went wrong: a provisioning error, else an instance error.
fn problem_of(resource: &ComputeResource) -> Option<String> {
    let provisioning = resource
        .properties
        .as_ref()
        .and_then(|p| p.provisioning_errors.as_ref())
        .and_then(|errors| errors.first())
        .map(|e| e.error.message.clone());
    let instance = resource
        .inner("errors")
        .and_then(Value::as_array)
        .and_then(|errors| errors.first())
        .and_then(|e| e.get("error").unwrap_or(e).get("message"))
        .and_then(Value::as_str)
        .map(str::to_string);
    provisioning.or(instance).filter(|m| !m.trim().is_empty())
}

#[derive(Default)]
struct Owner {
    object_id: Option<String>,
    tenant_id: Option<String>,
    name: Option<String>,
}

/// An instance's owner is its assigned user, else its creator; other kinds have a creator only.
fn owner_of(resource: &ComputeResource) -> Owner {
    let text = |v: Option<&Value>, field: &str| {
        v.and_then(|v| v.get(field))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let assigned = resource
        .inner("personalComputeInstanceSettings")
        .and_then(|s| s.get("assignedUser"));
    let created_by = resource.inner("createdBy");
    let creator_id = text(created_by, "userId");
    if let Some(object_id) = text(assigned, "objectId") {
        // The creator's name is the owner's name only when the creator is the owner.
        let name = (creator_id.as_deref() == Some(object_id.as_str()))
            .then(|| text(created_by, "userName"))
            .flatten();
        return Owner {
            tenant_id: text(assigned, "tenantId"),
            object_id: Some(object_id),
            name,
        };
    }
    if created_by.is_some() {
        return Owner {
            object_id: creator_id,
            tenant_id: text(created_by, "userOrgId"),
            name: text(created_by, "userName"),
        };
    }
    Owner {
        name: created_by_name(resource),
        ..Owner::default()
    }
}

fn created_by_name(resource: &ComputeResource) -> Option<String> {
    resource
        .inner("createdBy")
        .and_then(|c| c.get("userName"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            resource
                .system_data
                .as_ref()
                .and_then(|s| s.created_by.clone())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(value: Value) -> ComputeResource {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn an_instance_is_owned_by_its_assigned_user() {
        let r = resource(json!({
            "name": "ada-box", "id": "/x/computes/ada-box", "location": "westeurope",
            "properties": {"computeType": "ComputeInstance", "provisioningState": "Succeeded",
              "properties": {"vmSize": "Standard_DS3_v2", "state": "Stopped",
                "personalComputeInstanceSettings": {"assignedUser": {"objectId": "o1", "tenantId": "t1"}},
                "createdBy": {"userName": "admin@contoso.com", "userId": "o9", "userOrgId": "t1"}}}
        }));
        let record = record_from_resource(&r).unwrap();
        assert_eq!(record.kind, "instance");
        assert_eq!(record.state, "Stopped");
        assert_eq!(record.vm_size.as_deref(), Some("Standard_DS3_v2"));
        assert_eq!(record.owner_object_id.as_deref(), Some("o1"));
        assert_eq!(record.owner_name, None, "the creator is not the owner");
        assert_eq!(record.created_by_name.as_deref(), Some("admin@contoso.com"));
    }

    #[test]
    fn unknown_kinds_and_fields_are_kept() {
        let r = resource(json!({
            "name": "future", "etag": "abc",
            "properties": {"computeType": "QuantumBox", "provisioningState": "Succeeded", "qubits": 7}
        }));
        let record = record_from_resource(&r).unwrap();
        assert_eq!(record.kind, "other");
        assert_eq!(record.compute_type, "QuantumBox");
        assert!(record.resource_json.contains("\"etag\":\"abc\""));
        assert!(record.resource_json.contains("\"qubits\":7"));
    }

    #[test]
    fn a_cluster_shows_its_allocation_state() {
        let r = resource(json!({
            "name": "cpu-cluster",
            "properties": {"computeType": "AmlCompute", "provisioningState": "Succeeded",
              "properties": {"vmSize": "Standard_DS3_v2", "allocationState": "Resizing"}}
        }));
        assert_eq!(record_from_resource(&r).unwrap().state, "Resizing");
    }
}
