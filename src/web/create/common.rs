//! What both create forms share: the name, the VM size against the region's sizes and the
//! quota, the subnet, and the plan a valid form becomes.

use serde_json::Value;

use super::options::Offer;
use crate::azure::models::VmSize;
use crate::domain::compute::ComputeKind;
use crate::domain::field::FieldErrors;
use crate::domain::names::{NameError, check_studio_rule};
use crate::error::AppError;
use crate::web::forms::FormFields;
use crate::web::sealed::Sealer;

/// A valid form, ready to send: the ARM body and what it means in words.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub kind: ComputeKind,
    /// The PUT body, secrets included: sent to Azure, never shown.
    pub body: Value,
    /// (what, words) lines for the review step.
    pub summary: Vec<(String, String)>,
    /// Things that are allowed but worth a second look (a cluster that cannot reach its maximum).
    pub warnings: Vec<String>,
}

/// Fields whose values Azure never returns and the review never shows (`key` and `cert` are an
/// inference cluster's SSL key and certificate).
const SECRET_FIELDS: [&str; 6] = [
    "adminUserPassword",
    "password",
    "privateKeyData",
    "databricksAccessToken",
    "key",
    "cert",
];

impl Plan {
    /// The body as the review step shows it: secrets replaced by a note.
    pub fn body_for_display(&self) -> String {
        let mut shown = self.body.clone();
        hide_secrets(&mut shown);
        serde_json::to_string_pretty(&shown).unwrap_or_default()
    }
}

fn hide_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if SECRET_FIELDS.contains(&key.as_str()) && inner.is_string() {
                    *inner = Value::String("(hidden: sent to Azure only)".into());
                } else {
                    hide_secrets(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(hide_secrets),
        _ => {}
    }
}

/// The studio's name rule, then uniqueness in this workspace's cache. (Azure also refuses a
/// name taken in another workspace of the region; that answer arrives on submit, on this field.)
pub fn check_name(errors: &mut FieldErrors, name: &str, taken: &dyn Fn(&str) -> bool) {
    check_name_by(errors, name, taken, check_studio_rule);
}

/// The same with another naming rule (inference clusters have their own).
pub fn check_name_by(
    errors: &mut FieldErrors,
    name: &str,
    taken: &dyn Fn(&str) -> bool,
    rule: fn(&str) -> Result<(), NameError>,
) {
    match rule(name) {
        Err(e) => errors.add("name", e.to_string()),
        Ok(()) if taken(name) => errors.add(
            "name",
            format!("A compute named '{name}' already exists in this workspace; names are unique regardless of case."),
        ),
        Ok(()) => {}
    }
}

/// A secret field of a form: typed now, or typed before and carried sealed in `{field}_sealed`
/// (see `web::sealed`). Never written into a page.
pub struct Secret {
    pub field: &'static str,
    pub purpose: &'static str,
}

impl Secret {
    pub const fn new(field: &'static str, purpose: &'static str) -> Self {
        Secret { field, purpose }
    }

    /// The hidden field that carries it sealed.
    pub fn sealed_field(&self) -> String {
        format!("{}_sealed", self.field)
    }

    /// What was typed, else what was sealed before, else "".
    pub fn read(&self, fields: &FormFields, sealer: &Sealer) -> Result<String, AppError> {
        let typed = fields.one(self.field)?;
        if !typed.is_empty() {
            return Ok(typed);
        }
        Ok(sealer
            .open(self.purpose, &fields.one(&self.sealed_field())?)
            .unwrap_or_default())
    }
}

/// `cpu` or `gpu`: the studio asks it first, and it cannot change after creation.
pub fn check_vm_type(errors: &mut FieldErrors, vm_type: &str) -> bool {
    match vm_type {
        "cpu" => false,
        "gpu" => true,
        other => {
            errors.add(
                "vm_type",
                format!(
                    "Virtual machine type must be CPU or GPU, not '{}'.",
                    crate::domain::scale::shorten(other)
                ),
            );
            false
        }
    }
}

/// The chosen size: offered in the region, of the chosen type, and, when `cores` is given,
/// within the quota left.
pub fn check_size<'a>(
    errors: &mut FieldErrors,
    offer: &'a Offer,
    name: &str,
    wants_gpu: bool,
    cores: Option<i64>,
) -> Option<&'a VmSize> {
    if name.trim().is_empty() {
        errors.add("vm_size", "Choose a virtual machine size.");
        return None;
    }
    let Some(size) = offer.size(name.trim()) else {
        if offer.sizes.is_empty() {
            errors.add("vm_size", "The region's VM sizes could not be loaded from Azure, so the size cannot be checked; try again in a moment.");
        } else {
            errors.add(
                "vm_size",
                format!(
                    "'{}' is not a VM size offered in this region.",
                    crate::domain::scale::shorten(name)
                ),
            );
        }
        return None;
    };
    if (size.gpus > 0) != wants_gpu {
        errors.add(
            "vm_size",
            format!(
                "{} is a {} size; choose a {} size or change the type.",
                size.name,
                if size.gpus > 0 { "GPU" } else { "CPU" },
                if wants_gpu { "GPU" } else { "CPU" }
            ),
        );
    }
    if let Some(cores) = cores
        && let Err(short) = offer.headroom.check(&size.family, cores)
    {
        errors.add(
            "vm_size",
            format!("Not enough quota for {}: {}", size.name, short.message()),
        );
    }
    Some(size)
}

/// A subnet offered in the region, or none. Without a subnet a compute needs its public IP.
pub fn check_subnet(
    errors: &mut FieldErrors,
    offer: &Offer,
    subnet: &str,
    public_ip: bool,
) -> Option<String> {
    let subnet = subnet.trim();
    if subnet.is_empty() {
        if !public_ip {
            errors.add("public_ip", "Without a virtual network the compute needs a public IP address; choose a subnet to turn it off.");
        }
        return None;
    }
    if let Err(e) = crate::domain::arm_ids::parse_subnet_id(subnet) {
        errors.add("subnet", e);
        return None;
    }
    match offer.subnet(subnet) {
        Some((_, s)) => Some(s.id.clone()),
        None if offer.problems.is_empty() => {
            errors.add(
                "subnet",
                "That subnet is not one of the subscription's networks in the workspace's region.",
            );
            None
        }
        // Azure did not list the networks: let Azure judge the id.
        None => Some(subnet.to_string()),
    }
}

/// "4 vCPUs, 14 GB, standardDSv2Family" for a size.
pub fn describe_size(size: &VmSize) -> String {
    let gpus = match size.gpus {
        0 => String::new(),
        1 => ", 1 GPU".into(),
        n => format!(", {n} GPUs"),
    };
    format!(
        "{} ({} vCPUs, {} GB RAM{gpus}, {})",
        size.name, size.v_cpus, size.memory_gb, size.family
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_hidden_from_the_review() {
        let plan = Plan {
            name: "c".into(),
            kind: ComputeKind::Cluster,
            body: json!({"properties": {"properties": {"userAccountCredentials": {"adminUserName": "azureuser", "adminUserPassword": "S3cret!pass99"}}}}),
            summary: vec![],
            warnings: vec![],
        };
        let shown = plan.body_for_display();
        assert!(!shown.contains("S3cret"));
        assert!(shown.contains("azureuser"));
    }
}
