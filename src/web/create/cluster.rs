//! The compute cluster form: its fields as typed, and the rules that turn them into a plan.

use serde_json::{Map, Value, json};

use super::common::{Plan, check_name, check_size, check_subnet, check_vm_type, describe_size};
use super::options::Offer;
use crate::domain::accounts::{check_admin_password, check_admin_user_name};
use crate::domain::compute::ComputeKind;
use crate::domain::field::FieldErrors;
use crate::domain::identity::ManagedIdentity;
use crate::domain::scale::ScaleSettings;
use crate::domain::ssh::SshPublicKey;
use crate::error::AppError;
use crate::web::forms::FormFields;
use crate::web::sealed::Sealer;

pub const FIELDS: &[&str] = &[
    "kind",
    "form_token",
    "step",
    "name",
    "vm_type",
    "vm_priority",
    "vm_size",
    "min_nodes",
    "max_nodes",
    "idle_seconds",
    "admin_auth",
    "admin_user",
    "admin_ssh_key",
    "admin_password",
    "admin_password_sealed",
    "subnet",
    "public_ip",
    "identity_type",
    "identity_ids",
];

/// The purpose the administrator password is sealed for between steps.
pub const PASSWORD_PURPOSE: &str = "cluster.admin_password";
pub const ADMIN_PASSWORD: super::common::Secret =
    super::common::Secret::new("admin_password", PASSWORD_PURPOSE);

#[derive(Debug, Clone, Default)]
pub struct ClusterForm {
    pub name: String,
    pub vm_type: String,
    /// `dedicated` or `low`.
    pub vm_priority: String,
    pub vm_size: String,
    pub min_nodes: String,
    pub max_nodes: String,
    pub idle_seconds: String,
    /// `none`, `ssh` or `password`.
    pub admin_auth: String,
    pub admin_user: String,
    pub admin_ssh_key: String,
    /// Never shown again: kept between steps only sealed (see `web::sealed`).
    pub admin_password: String,
    pub subnet: String,
    pub public_ip: bool,
    pub identity_type: String,
    pub identity_ids: String,
}

impl ClusterForm {
    pub fn blank() -> Self {
        ClusterForm {
            vm_type: "cpu".into(),
            vm_priority: "dedicated".into(),
            min_nodes: "0".into(),
            max_nodes: "4".into(),
            idle_seconds: crate::domain::scale::DEFAULT_IDLE_SECONDS.to_string(),
            admin_auth: "none".into(),
            admin_user: "azureuser".into(),
            public_ip: true,
            identity_type: "none".into(),
            ..ClusterForm::default()
        }
    }

    pub fn read(fields: &FormFields, sealer: &Sealer) -> Result<Self, AppError> {
        fields.only_known(FIELDS, &[])?;
        let typed = fields.one("admin_password")?;
        let admin_password = if typed.is_empty() {
            sealer
                .open(PASSWORD_PURPOSE, &fields.one("admin_password_sealed")?)
                .unwrap_or_default()
        } else {
            typed
        };
        Ok(ClusterForm {
            name: fields.one("name")?.trim().to_string(),
            vm_type: fields.one("vm_type")?,
            vm_priority: fields.one("vm_priority")?,
            vm_size: fields.one("vm_size")?,
            min_nodes: fields.one("min_nodes")?,
            max_nodes: fields.one("max_nodes")?,
            idle_seconds: fields.one("idle_seconds")?,
            admin_auth: fields.one("admin_auth")?,
            admin_user: fields.one("admin_user")?.trim().to_string(),
            admin_ssh_key: fields.one("admin_ssh_key")?,
            admin_password,
            subnet: fields.one("subnet")?,
            public_ip: fields.checkbox("public_ip")?,
            identity_type: fields.one("identity_type")?,
            identity_ids: fields.one("identity_ids")?,
        })
    }

    pub fn validate(
        &self,
        offer: &Offer,
        location: &str,
        name_taken: &dyn Fn(&str) -> bool,
    ) -> Result<Plan, FieldErrors> {
        let mut errors = FieldErrors::new();
        check_name(&mut errors, &self.name, name_taken);
        let wants_gpu = check_vm_type(&mut errors, &self.vm_type);
        let low_priority = match self.vm_priority.as_str() {
            "dedicated" => false,
            "low" => true,
            _ => {
                errors.add("vm_priority", "Priority must be Dedicated or Low priority.");
                false
            }
        };
        let size = check_size(&mut errors, offer, &self.vm_size, wants_gpu, None);
        if let Some(size) = size
            && low_priority
            && !size.low_priority_capable
        {
            errors.add(
                "vm_size",
                format!(
                    "{} is not offered at low priority in this region.",
                    size.name
                ),
            );
        }
        let scale =
            match ScaleSettings::from_form(&self.min_nodes, &self.max_nodes, &self.idle_seconds) {
                Ok(scale) => Some(scale),
                Err(problems) => {
                    errors.extend(problems.iter().cloned());
                    None
                }
            };
        // Low-priority cores come from their own quota; dedicated nodes that are always on
        // must fit now.
        let mut warnings = Vec::new();
        if let (Some(size), Some(scale)) = (size, scale)
            && !low_priority
            && errors.for_field("vm_size").is_none()
        {
            let at_least = size.v_cpus.saturating_mul(i64::from(scale.min_nodes));
            if let Err(short) = offer.headroom.check(&size.family, at_least) {
                errors.add(
                    "min_nodes",
                    format!(
                        "The minimum nodes need {at_least} vCPUs: {}",
                        short.message()
                    ),
                );
            } else if let Some(left) = offer.headroom.remaining(&size.family) {
                let reachable = left / size.v_cpus.max(1);
                if reachable < i64::from(scale.max_nodes) {
                    warnings.push(format!(
                        "The quota left for {} allows {reachable} nodes of {}; the cluster will not grow beyond that until the quota is raised.",
                        size.family, size.name
                    ));
                }
            }
        }
        let credentials = self.checked_credentials(&mut errors);
        let subnet = check_subnet(&mut errors, offer, &self.subnet, self.public_ip);
        let identity = match ManagedIdentity::from_form(&self.identity_type, &self.identity_ids) {
            Ok(identity) => Some(identity),
            Err(problems) => {
                errors.extend(problems.iter().cloned());
                None
            }
        };
        if let Some(ManagedIdentity::UserAssigned(ids)) = &identity
            && offer.problems.is_empty()
        {
            for id in ids {
                if !offer
                    .identities
                    .iter()
                    .any(|i| i.id.eq_ignore_ascii_case(id))
                {
                    errors.add(
                        "identity_ids",
                        format!(
                            "No user-assigned identity '{}' in this subscription.",
                            id.rsplit('/').next().unwrap_or(id)
                        ),
                    );
                }
            }
        }
        errors.into_result()?;
        let (Some(size), Some(scale), Some(identity)) = (size, scale, identity) else {
            unreachable!("missing parts are errors above");
        };

        let mut inner = Map::new();
        inner.insert("osType".into(), json!("Linux"));
        inner.insert("vmSize".into(), json!(size.name));
        inner.insert(
            "vmPriority".into(),
            json!(if low_priority {
                "LowPriority"
            } else {
                "Dedicated"
            }),
        );
        inner.insert("scaleSettings".into(), scale.to_arm());
        inner.insert("enableNodePublicIp".into(), json!(self.public_ip));
        inner.insert(
            "remoteLoginPortPublicAccess".into(),
            json!(if credentials.is_some() {
                "Enabled"
            } else {
                "Disabled"
            }),
        );
        if let Some(credentials) = &credentials {
            inner.insert("userAccountCredentials".into(), credentials.clone());
        }
        if let Some(subnet) = &subnet {
            inner.insert("subnet".into(), json!({ "id": subnet }));
        }
        let mut body = json!({
            "location": location,
            "properties": { "computeType": "AmlCompute", "properties": Value::Object(inner) },
        });
        if let Some(identity_body) = identity.to_arm() {
            body["identity"] = identity_body;
        }

        let summary = vec![
            ("Name".to_string(), self.name.clone()),
            ("Kind".to_string(), "Compute cluster".to_string()),
            ("Virtual machine".to_string(), describe_size(size)),
            (
                "Priority".to_string(),
                if low_priority {
                    "Low priority: cheaper, but Azure may take nodes back when it needs them (jobs are pre-empted)".to_string()
                } else {
                    "Dedicated".to_string()
                },
            ),
            (
                "Nodes".to_string(),
                format!(
                    "from {} to {}; idle nodes are released after {} seconds",
                    scale.min_nodes, scale.max_nodes, scale.idle_seconds
                ),
            ),
            (
                "Administrator account".to_string(),
                match self.admin_auth.as_str() {
                    "ssh" => format!("{} with an SSH key", self.admin_user),
                    "password" => format!("{} with a password", self.admin_user),
                    _ => "none (no SSH to the nodes)".to_string(),
                },
            ),
            (
                "Network".to_string(),
                match &subnet {
                    Some(id) => format!("subnet {}", id.rsplit('/').next().unwrap_or(id)),
                    None => "Azure's default network".to_string(),
                },
            ),
            ("Managed identity".to_string(), identity.describe()),
        ];
        Ok(Plan {
            name: self.name.clone(),
            kind: ComputeKind::Cluster,
            body,
            summary,
            warnings,
        })
    }

    fn checked_credentials(&self, errors: &mut FieldErrors) -> Option<Value> {
        let auth = self.admin_auth.as_str();
        if auth == "none" || auth.is_empty() {
            return None;
        }
        errors.check("admin_user", check_admin_user_name(&self.admin_user));
        match auth {
            "ssh" => {
                let key =
                    errors.check("admin_ssh_key", SshPublicKey::parse(&self.admin_ssh_key))?;
                Some(
                    json!({ "adminUserName": self.admin_user, "adminUserSshPublicKey": key.to_openssh() }),
                )
            }
            "password" => {
                errors.check("admin_password", check_admin_password(&self.admin_password))?;
                Some(
                    json!({ "adminUserName": self.admin_user, "adminUserPassword": self.admin_password }),
                )
            }
            _ => {
                errors.add(
                    "admin_auth",
                    "Administrator account must be none, SSH key or password.",
                );
                None
            }
        }
    }
}
