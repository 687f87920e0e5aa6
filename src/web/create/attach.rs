//! The attach forms: a remote virtual machine or an HDInsight cluster (reached over SSH with a
//! password or a private key), a Databricks workspace (with an access token), a Data Lake
//! Analytics account. Every secret goes to Azure and nowhere else.

use serde_json::{Value, json};

use super::common::{Plan, Secret, check_name};
use crate::domain::attach::{
    check_access_token, check_address, check_data_lake_account, check_databricks_workspace,
    check_resource_group, check_secret, check_user_name, data_lake_analytics_id,
    databricks_workspace_id, parse_ssh_port,
};
use crate::domain::compute::ComputeKind;
use crate::domain::field::FieldErrors;
use crate::domain::ssh_private_key::{KeyField, SshPrivateKey};
use crate::error::AppError;
use crate::web::forms::FormFields;
use crate::web::sealed::Sealer;

pub const FIELDS: &[&str] = &[
    "kind",
    "form_token",
    "step",
    "attach_type",
    "name",
    "address",
    "ssh_port",
    "user",
    "auth",
    "password",
    "password_sealed",
    "private_key",
    "private_key_sealed",
    "passphrase",
    "passphrase_sealed",
    "workspace_name",
    "resource_group",
    "access_token",
    "access_token_sealed",
    "account_name",
];

pub const PASSWORD: Secret = Secret::new("password", "attach.password");
pub const PRIVATE_KEY: Secret = Secret::new("private_key", "attach.private_key");
pub const PASSPHRASE: Secret = Secret::new("passphrase", "attach.passphrase");
pub const ACCESS_TOKEN: Secret = Secret::new("access_token", "attach.access_token");
pub const SECRETS: [Secret; 4] = [PASSWORD, PRIVATE_KEY, PASSPHRASE, ACCESS_TOKEN];

/// What can be attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachType {
    VirtualMachine,
    Databricks,
    DataLakeAnalytics,
    HdInsight,
}

impl AttachType {
    pub const ALL: [AttachType; 4] = [
        AttachType::VirtualMachine,
        AttachType::Databricks,
        AttachType::DataLakeAnalytics,
        AttachType::HdInsight,
    ];

    pub fn parse(value: Option<&str>) -> Result<AttachType, AppError> {
        match value.map(str::trim) {
            None | Some("") | Some("vm") => Ok(AttachType::VirtualMachine),
            Some("databricks") => Ok(AttachType::Databricks),
            Some("adla") => Ok(AttachType::DataLakeAnalytics),
            Some("hdinsight") => Ok(AttachType::HdInsight),
            Some(other) => Err(AppError::BadRequest(format!(
                "'type' must be vm, databricks, adla or hdinsight, not '{}'.",
                crate::domain::scale::shorten(other)
            ))),
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            AttachType::VirtualMachine => "vm",
            AttachType::Databricks => "databricks",
            AttachType::DataLakeAnalytics => "adla",
            AttachType::HdInsight => "hdinsight",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AttachType::VirtualMachine => "Remote virtual machine",
            AttachType::Databricks => "Azure Databricks",
            AttachType::DataLakeAnalytics => "Azure Data Lake Analytics",
            AttachType::HdInsight => "Azure HDInsight",
        }
    }

    fn compute_type(self) -> &'static str {
        match self {
            AttachType::VirtualMachine => "VirtualMachine",
            AttachType::Databricks => "Databricks",
            AttachType::DataLakeAnalytics => "DataLakeAnalytics",
            AttachType::HdInsight => "HDInsight",
        }
    }

    /// Reached over SSH: a virtual machine or an HDInsight cluster.
    pub fn uses_ssh(self) -> bool {
        matches!(self, AttachType::VirtualMachine | AttachType::HdInsight)
    }
}

#[derive(Debug, Clone)]
pub struct AttachForm {
    pub attach_type: AttachType,
    pub name: String,
    pub address: String,
    pub ssh_port: String,
    pub user: String,
    /// `password` or `key`.
    pub auth: String,
    pub password: String,
    pub private_key: String,
    pub passphrase: String,
    pub workspace_name: String,
    pub resource_group: String,
    pub access_token: String,
    pub account_name: String,
}

impl AttachForm {
    pub fn blank(attach_type: AttachType) -> Self {
        AttachForm {
            attach_type,
            name: String::new(),
            address: String::new(),
            ssh_port: "22".into(),
            user: if attach_type == AttachType::HdInsight {
                "sshuser".into()
            } else {
                "azureuser".into()
            },
            auth: "key".into(),
            password: String::new(),
            private_key: String::new(),
            passphrase: String::new(),
            workspace_name: String::new(),
            resource_group: String::new(),
            access_token: String::new(),
            account_name: String::new(),
        }
    }

    pub fn read(fields: &FormFields, sealer: &Sealer) -> Result<Self, AppError> {
        fields.only_known(FIELDS, &[])?;
        Ok(AttachForm {
            attach_type: AttachType::parse(Some(&fields.one("attach_type")?))?,
            name: fields.one("name")?.trim().to_string(),
            address: fields.one("address")?.trim().to_string(),
            ssh_port: fields.one("ssh_port")?,
            user: fields.one("user")?.trim().to_string(),
            auth: fields.one("auth")?,
            password: PASSWORD.read(fields, sealer)?,
            private_key: PRIVATE_KEY.read(fields, sealer)?,
            passphrase: PASSPHRASE.read(fields, sealer)?,
            workspace_name: fields.one("workspace_name")?.trim().to_string(),
            resource_group: fields.one("resource_group")?.trim().to_string(),
            access_token: ACCESS_TOKEN.read(fields, sealer)?,
            account_name: fields.one("account_name")?.trim().to_string(),
        })
    }

    /// The value of a secret field of this form.
    pub fn secret(&self, secret: &Secret) -> &str {
        match secret.field {
            "password" => &self.password,
            "private_key" => &self.private_key,
            "passphrase" => &self.passphrase,
            _ => &self.access_token,
        }
    }

    /// The secrets this form's type uses, with their values (empty ones left out).
    pub fn secrets_in_use(&self) -> Vec<(&'static Secret, &str)> {
        SECRETS
            .iter()
            .filter(|s| self.uses(s))
            .map(|s| (s, self.secret(s)))
            .filter(|(_, value)| !value.is_empty())
            .collect()
    }

    fn uses(&self, secret: &Secret) -> bool {
        match secret.field {
            "access_token" => self.attach_type == AttachType::Databricks,
            "password" => self.attach_type.uses_ssh() && self.auth == "password",
            _ => self.attach_type.uses_ssh() && self.auth == "key",
        }
    }

    pub fn validate(
        &self,
        location: &str,
        subscription: &str,
        name_taken: &dyn Fn(&str) -> bool,
    ) -> Result<Plan, FieldErrors> {
        let mut errors = FieldErrors::new();
        check_name(&mut errors, &self.name, name_taken);
        let mut summary = vec![
            ("Name".to_string(), self.name.clone()),
            ("Kind".to_string(), "Attached compute".to_string()),
            ("Type".to_string(), self.type_words()),
        ];
        let mut properties = json!({ "computeType": self.attach_type.compute_type() });
        let inner = match self.attach_type {
            AttachType::VirtualMachine | AttachType::HdInsight => {
                self.checked_ssh(&mut errors, &mut summary)
            }
            AttachType::Databricks => {
                errors.check(
                    "workspace_name",
                    check_databricks_workspace(&self.workspace_name),
                );
                errors.check("resource_group", check_resource_group(&self.resource_group));
                errors.check("access_token", check_access_token(&self.access_token));
                properties["resourceId"] = json!(databricks_workspace_id(
                    subscription,
                    &self.resource_group,
                    &self.workspace_name
                ));
                summary.push((
                    "Databricks workspace".to_string(),
                    format!(
                        "{} in resource group {}",
                        self.workspace_name, self.resource_group
                    ),
                ));
                summary.push((
                    "Access token".to_string(),
                    "given (sent to Azure only; never stored or shown)".to_string(),
                ));
                Some(json!({ "databricksAccessToken": self.access_token }))
            }
            AttachType::DataLakeAnalytics => {
                errors.check("resource_group", check_resource_group(&self.resource_group));
                errors.check("account_name", check_data_lake_account(&self.account_name));
                properties["resourceId"] = json!(data_lake_analytics_id(
                    subscription,
                    &self.resource_group,
                    &self.account_name
                ));
                summary.push((
                    "Data Lake Analytics account".to_string(),
                    format!(
                        "{} in resource group {}",
                        self.account_name, self.resource_group
                    ),
                ));
                None
            }
        };
        errors.into_result()?;
        if let Some(inner) = inner {
            properties["properties"] = inner;
        }
        Ok(Plan {
            name: self.name.clone(),
            kind: ComputeKind::Attached,
            body: json!({ "location": location, "properties": properties }),
            summary,
            warnings: Vec::new(),
        })
    }

    fn type_words(&self) -> String {
        match self.attach_type {
            AttachType::VirtualMachine => {
                "Remote virtual machine (Azure ML supports Ubuntu only)".to_string()
            }
            other => other.label().to_string(),
        }
    }

    /// Address, port and an account: a password, or a private key and its passphrase (which
    /// Azure takes in the account's `password`).
    fn checked_ssh(
        &self,
        errors: &mut FieldErrors,
        summary: &mut Vec<(String, String)>,
    ) -> Option<Value> {
        let address = errors.check("address", check_address(&self.address));
        let port = errors.check("ssh_port", parse_ssh_port(&self.ssh_port));
        errors.check("user", check_user_name(&self.user));
        let account = match self.auth.as_str() {
            "password" => errors
                .check("password", check_secret("Password", &self.password))
                .map(|()| {
                    (
                        json!({ "username": self.user, "password": self.password }),
                        format!("{} with a password", self.user),
                    )
                }),
            "key" => match SshPrivateKey::parse(&self.private_key, &self.passphrase) {
                Ok(key) => {
                    let mut account =
                        json!({ "username": self.user, "privateKeyData": key.text() });
                    if !self.passphrase.is_empty() {
                        account["password"] = json!(self.passphrase);
                    }
                    if let Some(public) = key.public_openssh() {
                        account["publicKeyData"] = json!(public);
                    }
                    Some((account, format!("{} with an {}", self.user, key.describe())))
                }
                Err(problem) => {
                    let field = match problem.field() {
                        KeyField::PrivateKey => "private_key",
                        KeyField::Passphrase => "passphrase",
                    };
                    errors.add(field, problem.to_string());
                    None
                }
            },
            _ => {
                errors.add("auth", "Sign-in must be a password or an SSH private key.");
                None
            }
        };
        let (address, port, (account, words)) = (address?, port?, account?);
        summary.push(("Address".to_string(), format!("{address}, SSH port {port}")));
        summary.push(("Sign-in".to_string(), words));
        Some(json!({
            "address": address,
            "sshPort": port,
            "administratorAccount": account,
        }))
    }
}
