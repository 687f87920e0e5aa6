//! Generated workspaces of any size, for benchmarks and for demos at scale.

use serde_json::{Value, json};

use super::EmulatorConfig;
use super::demo::DEMO_USERS;

/// `count` settled compute instances named `bench00000`, `bench00001`, … with demo owners,
/// as `Emulator::insert_raw` takes them (quota is not checked for generated computes).
pub fn generated_instances(config: &EmulatorConfig, count: usize) -> Vec<Value> {
    (0..count).map(|i| generated_instance(config, i)).collect()
}

fn generated_instance(config: &EmulatorConfig, i: usize) -> Value {
    let name = format!("bench{i:05}");
    let owner = &DEMO_USERS[i % DEMO_USERS.len()];
    let sizes = [
        "Standard_DS11_v2",
        "Standard_DS3_v2",
        "Standard_E4ds_v4",
        "Standard_F4s_v2",
    ];
    let state = if i.is_multiple_of(3) {
        "Stopped"
    } else {
        "Running"
    };
    let created = format!(
        "2026-{:02}-{:02}T{:02}:{:02}:00.0000000+00:00",
        1 + i % 11,
        1 + i % 28,
        i % 24,
        i % 60
    );
    json!({
        "id": format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}/computes/{name}",
            config.subscription_id, config.resource_group, config.workspace
        ),
        "name": name,
        "type": "Microsoft.MachineLearningServices/workspaces/computes",
        "location": config.location,
        "properties": {
            "computeType": "ComputeInstance",
            "computeLocation": config.location,
            "provisioningState": "Succeeded",
            "createdOn": created,
            "modifiedOn": created,
            "isAttachedCompute": false,
            "properties": {
                "vmSize": sizes[i % sizes.len()],
                "state": state,
                "applicationSharingPolicy": "Personal",
                "computeInstanceAuthorizationType": "personal",
                "personalComputeInstanceSettings": {"assignedUser": {"objectId": owner.object_id, "tenantId": owner.tenant_id}},
                "createdBy": {"userName": owner.email, "userId": owner.object_id, "userOrgId": owner.tenant_id},
                "sshSettings": {"sshPublicAccess": "Disabled", "adminUserName": "azureuser", "sshPort": 22},
                "connectivityEndpoints": {"privateIpAddress": format!("10.0.{}.{}", i / 250 % 250, i % 250 + 4)},
                "lastOperation": {"operationName": "Create", "operationTime": created, "operationStatus": "Succeeded", "operationTrigger": "User"}
            }
        }
    })
}
