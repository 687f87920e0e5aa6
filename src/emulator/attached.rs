//! Attached compute: a virtual machine or an HDInsight cluster reached over SSH, a Databricks
//! workspace, a Data Lake Analytics account. Azure ML checks what it is given, keeps the
//! secrets write-only and is done quickly: nothing is provisioned.

use serde_json::{Map, Value, json};

use super::error::ArmError;
use super::state::KindPlan;
use super::util::stable_guid;
use super::validation::{
    attached_resource_id, check_data_lake_analytics, check_databricks, check_ssh_reachable,
};

/// The attached kinds this module knows.
pub const ATTACHED_TYPES: [&str; 4] = [
    "VirtualMachine",
    "HDInsight",
    "Databricks",
    "DataLakeAnalytics",
];

/// Checks an attached kind's PUT and says what to store.
pub fn prepare(
    compute_type: &str,
    properties: &Map<String, Value>,
    inner: &Map<String, Value>,
) -> Result<KindPlan, ArmError> {
    let mut stored = inner.clone();
    let resource_id = match compute_type {
        "VirtualMachine" => {
            check_ssh_reachable(inner)?;
            fill_ssh_defaults(&mut stored);
            stored
                .entry("isNotebookInstanceCompute")
                .or_insert(json!(false));
            attached_resource_id(properties, "Microsoft.Compute", "virtualMachines", false)?
                .map(|_| id_text(properties))
        }
        "HDInsight" => {
            check_ssh_reachable(inner)?;
            fill_ssh_defaults(&mut stored);
            attached_resource_id(properties, "Microsoft.HDInsight", "clusters", false)?
                .map(|_| id_text(properties))
        }
        "Databricks" => {
            check_databricks(properties, inner)?;
            let number = u64::from_str_radix(&stable_guid(&id_text(properties))[..12], 16)
                .unwrap_or(0)
                % 10_000_000_000_000_000;
            stored.insert(
                "workspaceUrl".into(),
                json!(format!(
                    "adb-{number:016}.{}.azuredatabricks.net",
                    number % 20
                )),
            );
            Some(id_text(properties))
        }
        _ => {
            let id = check_data_lake_analytics(properties)?;
            stored
                .entry("dataLakeStoreAccountName")
                .or_insert(json!(format!("{}store", id.name())));
            Some(id_text(properties))
        }
    };
    Ok(KindPlan {
        inner: stored,
        resource_id,
        attached: true,
        location: None,
        new_cluster: None,
    })
}

fn id_text(properties: &Map<String, Value>) -> String {
    properties
        .get("resourceId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Port 22 when none was given.
fn fill_ssh_defaults(inner: &mut Map<String, Value>) {
    if inner.get("sshPort").is_none_or(Value::is_null) {
        inner.insert("sshPort".into(), json!(22));
    }
}
