//! The rules the kind-specific `properties.properties` of a compute's PUT or PATCH must follow,
//! answered the way Azure answers a broken rule.
//!
//! Every rule here is the domain's: the same function the create forms call for their inline
//! check and the submit handler calls again. This module only finds the field in Azure's JSON
//! and wraps the domain's words in a 400 whose message starts with the field's path:
//!
//! ```text
//! {"error":{"code":"ValidationError",
//!           "message":"properties.properties.sshSettings.adminPublicKey: SSH public key …",
//!           "target":"properties.properties.sshSettings.adminPublicKey"}}
//! ```
//!
//! Subnets and identities are checked where the emulator knows what exists (`network`,
//! `managed_identities`); their formats are the domain's too.

use std::borrow::Cow;
use std::fmt::Display;

use serde_json::{Map, Value};

use super::error::ArmError;
use crate::domain::accounts::{check_admin_password, check_admin_user_name};
use crate::domain::arm_ids::{ResourceId, parse_guid};
use crate::domain::attach::{
    check_access_token, check_address, check_data_lake_account, check_secret, check_user_name,
    parse_ssh_port,
};
use crate::domain::certificates::{SslCertificate, check_cname};
use crate::domain::field::FieldErrors;
use crate::domain::idle_shutdown::check_iso;
use crate::domain::inference::check_leaf_domain_label;
use crate::domain::network_ranges::AksNetwork;
use crate::domain::scale::{DEFAULT_IDLE_SECONDS, ScaleSettings};
use crate::domain::schedules::validate_arm_schedules;
use crate::domain::setup_scripts::check_arm_script;
use crate::domain::ssh::SshPublicKey;
use crate::domain::ssh_private_key::{KeyField, SshPrivateKey};

/// Where the kind-specific object sits in a compute's body.
const INNER: &str = "properties.properties";

/// Where a create or PUT-as-update sends a cluster's scale settings.
pub const SCALE_SETTINGS_PATH: &str = "properties.properties.scaleSettings";

/// A cluster created without scale settings may grow to four nodes and shrinks to none, as
/// the emulator has always done it.
pub const DEFAULT_CLUSTER_SCALE: ScaleSettings = ScaleSettings {
    min_nodes: 0,
    max_nodes: 4,
    idle_seconds: DEFAULT_IDLE_SECONDS,
};

/// The rules of a compute instance's creation.
pub fn check_new_instance(inner: &Map<String, Value>) -> Result<(), ArmError> {
    check_ssh_settings(inner)?;
    check_assigned_user(inner)?;
    check_setup_scripts(inner)?;
    check_instance_update(inner)
}

/// The rules of what a PUT on an existing instance may change: schedules and idle shutdown.
pub fn check_instance_update(inner: &Map<String, Value>) -> Result<(), ArmError> {
    check_schedules(inner)?;
    check_idle_shutdown(inner)
}

/// The rules of a cluster's creation; its scale settings, the default ones when none were sent.
pub fn check_new_cluster(inner: &Map<String, Value>) -> Result<ScaleSettings, ArmError> {
    check_user_account(inner)?;
    match present(inner, "scaleSettings") {
        None => Ok(DEFAULT_CLUSTER_SCALE),
        Some(settings) => scale_settings(settings, SCALE_SETTINGS_PATH),
    }
}

/// A cluster's scale settings, sent at `path` (a PATCH may send them one level up).
pub fn scale_settings(value: &Value, path: &str) -> Result<ScaleSettings, ArmError> {
    ScaleSettings::from_arm(value).map_err(|rule| invalid(path, rule))
}

/// Whether an instance's `sshSettings` open SSH to the world (Azure's enums ignore case).
pub fn ssh_public_access_enabled(inner: &Map<String, Value>) -> bool {
    present(inner, "sshSettings")
        .and_then(|ssh| ssh.get("sshPublicAccess"))
        .and_then(Value::as_str)
        .is_some_and(|access| access.eq_ignore_ascii_case("Enabled"))
}

// ----- instances ---------------------------------------------------------------------------------

/// With public access on, the administrator's key is required and must be one Azure takes.
fn check_ssh_settings(inner: &Map<String, Value>) -> Result<(), ArmError> {
    if !ssh_public_access_enabled(inner) {
        return Ok(());
    }
    let key = inner
        .get("sshSettings")
        .and_then(|ssh| ssh.get("adminPublicKey"));
    check_ssh_key(key, &format!("{INNER}.sshSettings.adminPublicKey"))
}

/// The user a personal instance is assigned to is named by two Entra GUIDs.
fn check_assigned_user(inner: &Map<String, Value>) -> Result<(), ArmError> {
    let Some(settings) = present(inner, "personalComputeInstanceSettings") else {
        return Ok(());
    };
    let user = settings.get("assignedUser");
    for (field, label) in [
        ("objectId", "The assigned user's object id"),
        ("tenantId", "The assigned user's tenant id"),
    ] {
        let value = user.and_then(|u| u.get(field));
        parse_guid(label, &text_of(value)).map_err(|rule| {
            invalid(
                &format!("{INNER}.personalComputeInstanceSettings.assignedUser.{field}"),
                rule,
            )
        })?;
    }
    Ok(())
}

fn check_setup_scripts(inner: &Map<String, Value>) -> Result<(), ArmError> {
    let Some(scripts) = present(inner, "setupScripts").and_then(|s| s.get("scripts")) else {
        return Ok(());
    };
    for name in ["creationScript", "startupScript"] {
        if let Some(script) = scripts.get(name).filter(|s| !s.is_null()) {
            check_arm_script(script)
                .map_err(|rule| invalid(&format!("{INNER}.setupScripts.scripts.{name}"), rule))?;
        }
    }
    Ok(())
}

fn check_schedules(inner: &Map<String, Value>) -> Result<(), ArmError> {
    let Some(schedules) = present(inner, "schedules") else {
        return Ok(());
    };
    validate_arm_schedules(schedules)
        .map(drop)
        .map_err(|rule| invalid(&format!("{INNER}.schedules"), rule))
}

fn check_idle_shutdown(inner: &Map<String, Value>) -> Result<(), ArmError> {
    let Some(idle) = present(inner, "idleTimeBeforeShutdown") else {
        return Ok(());
    };
    check_iso(&text_of(Some(idle)))
        .map(drop)
        .map_err(|rule| invalid(&format!("{INNER}.idleTimeBeforeShutdown"), rule))
}

// ----- clusters ----------------------------------------------------------------------------------

/// The nodes' administrator: a name Azure allows, and optionally a password and an SSH key
/// that pass Azure's rules. The domain's password messages never repeat the password.
fn check_user_account(inner: &Map<String, Value>) -> Result<(), ArmError> {
    let Some(credentials) = present(inner, "userAccountCredentials") else {
        return Ok(());
    };
    let path = format!("{INNER}.userAccountCredentials");
    check_admin_user_name(&text_of(credentials.get("adminUserName")))
        .map_err(|rule| invalid(&format!("{path}.adminUserName"), rule))?;
    if let Some(password) = given_credential(credentials, "adminUserPassword") {
        check_admin_password(&text_of(Some(password)))
            .map_err(|rule| invalid(&format!("{path}.adminUserPassword"), rule))?;
    }
    if let Some(key) = given_credential(credentials, "adminUserSshPublicKey") {
        check_ssh_key(Some(key), &format!("{path}.adminUserSshPublicKey"))?;
    }
    Ok(())
}

/// An optional credential that was given: an empty string or null is one that was not.
fn given_credential<'a>(credentials: &'a Value, field: &str) -> Option<&'a Value> {
    credentials
        .get(field)
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
}

// ----- inference clusters (AKS) -------------------------------------------------------------------

/// Where an AKS compute's SSL settings sit.
const SSL_PATH: &str = "properties.properties.sslConfiguration";
const NETWORKING_PATH: &str = "properties.properties.aksNetworkingConfiguration";

/// `sslConfiguration`: off, your own certificate and key (valid now, matching, for the CNAME),
/// or a Microsoft certificate for a leaf domain label.
pub fn check_ssl_configuration(
    inner: &Map<String, Value>,
    now: time::OffsetDateTime,
) -> Result<(), ArmError> {
    let Some(ssl) = present(inner, "sslConfiguration") else {
        return Ok(());
    };
    let status = text_of(ssl.get("status")).to_ascii_lowercase();
    let leaf = text_of(ssl.get("leafDomainLabel"));
    match status.as_str() {
        "" | "disabled" => Ok(()),
        "auto" => check_leaf_domain_label(&leaf)
            .map_err(|rule| invalid(&format!("{SSL_PATH}.leafDomainLabel"), rule)),
        "enabled" if !leaf.is_empty() => check_leaf_domain_label(&leaf)
            .map_err(|rule| invalid(&format!("{SSL_PATH}.leafDomainLabel"), rule)),
        "enabled" => {
            let certificate =
                SslCertificate::check(&text_of(ssl.get("cert")), &text_of(ssl.get("key")), now)
                    .map_err(|errors| {
                        first_error(
                            &errors,
                            &[("ssl_cert", "cert"), ("ssl_key", "key")],
                            SSL_PATH,
                        )
                    })?;
            check_cname(&text_of(ssl.get("cname")), Some(&certificate))
                .map_err(|rule| invalid(&format!("{SSL_PATH}.cname"), rule))
        }
        _ => Err(invalid(
            &format!("{SSL_PATH}.status"),
            "status must be Disabled, Enabled or Auto.",
        )),
    }
}

/// The address ranges of `aksNetworkingConfiguration`, against the ranges of the network its
/// subnet is in (checked by the caller, who knows the networks).
pub fn check_aks_ranges(networking: &Value, vnet: &[ipnet::Ipv4Net]) -> Result<(), ArmError> {
    AksNetwork::check(
        &text_of(networking.get("serviceCidr")),
        &text_of(networking.get("dnsServiceIP")),
        &text_of(networking.get("dockerBridgeCidr")),
        vnet,
    )
    .map(drop)
    .map_err(|errors| {
        first_error(
            &errors,
            &[
                ("service_cidr", "serviceCidr"),
                ("dns_service_ip", "dnsServiceIP"),
                ("docker_bridge_cidr", "dockerBridgeCidr"),
            ],
            NETWORKING_PATH,
        )
    })
}

/// The first of the domain's field errors, at its place in Azure's JSON.
fn first_error(errors: &FieldErrors, paths: &[(&str, &str)], parent: &str) -> ArmError {
    let first = errors.iter().next();
    let member = first
        .and_then(|e| paths.iter().find(|(field, _)| *field == e.field))
        .map_or("", |(_, member)| *member);
    invalid(
        &format!("{parent}.{member}"),
        first.map_or("is invalid.", |e| e.message.as_str()),
    )
}

// ----- attached compute ----------------------------------------------------------------------------

/// A virtual machine or an HDInsight cluster: where it is, and an account to log in with: a
/// password, or a private key (with its passphrase in `password` when it has one).
pub fn check_ssh_reachable(inner: &Map<String, Value>) -> Result<(), ArmError> {
    check_address(&text_of(inner.get("address")))
        .map_err(|rule| invalid(&format!("{INNER}.address"), rule))?;
    let port = match inner.get("sshPort") {
        None | Some(Value::Null) => "22".into(),
        Some(port) => text_of(Some(port)),
    };
    parse_ssh_port(&port).map_err(|rule| invalid(&format!("{INNER}.sshPort"), rule))?;
    let path = format!("{INNER}.administratorAccount");
    let account = present(inner, "administratorAccount").ok_or_else(|| {
        invalid(
            &path,
            "An administrator account (username, and a password or a private key) is required.",
        )
    })?;
    check_user_name(&text_of(account.get("username")))
        .map_err(|rule| invalid(&format!("{path}.username"), rule))?;
    let password = given_credential(account, "password").map(|p| text_of(Some(p)));
    match given_credential(account, "privateKeyData") {
        Some(key) => SshPrivateKey::parse(&text_of(Some(key)), password.as_deref().unwrap_or(""))
            .map(drop)
            .map_err(|problem| {
                let member = match problem.field() {
                    KeyField::PrivateKey => "privateKeyData",
                    KeyField::Passphrase => "password",
                };
                invalid(&format!("{path}.{member}"), problem)
            }),
        None => check_secret("Password", password.as_deref().unwrap_or(""))
            .map_err(|rule| invalid(&format!("{path}.password"), rule)),
    }
}

/// A Databricks workspace: its resource id and an access token.
pub fn check_databricks(
    properties: &Map<String, Value>,
    inner: &Map<String, Value>,
) -> Result<ResourceId, ArmError> {
    let id = attached_resource_id(properties, "Microsoft.Databricks", "workspaces", true)?
        .ok_or_else(|| invalid("properties.resourceId", "resourceId is required."))?;
    check_access_token(&text_of(inner.get("databricksAccessToken")))
        .map_err(|rule| invalid(&format!("{INNER}.databricksAccessToken"), rule))?;
    Ok(id)
}

/// A Data Lake Analytics account: its resource id.
pub fn check_data_lake_analytics(properties: &Map<String, Value>) -> Result<ResourceId, ArmError> {
    let id = attached_resource_id(properties, "Microsoft.DataLakeAnalytics", "accounts", true)?
        .ok_or_else(|| invalid("properties.resourceId", "resourceId is required."))?;
    check_data_lake_account(id.name()).map_err(|rule| invalid("properties.resourceId", rule))?;
    Ok(id)
}

/// `properties.resourceId` of an attached kind: an id of `namespace/type` when given.
pub fn attached_resource_id(
    properties: &Map<String, Value>,
    namespace: &str,
    resource_type: &str,
    required: bool,
) -> Result<Option<ResourceId>, ArmError> {
    let text = text_of(properties.get("resourceId"));
    if text.is_empty() {
        return if required {
            Err(invalid(
                "properties.resourceId",
                format!(
                    "resourceId is required: the id of the {namespace}/{resource_type} resource to attach."
                ),
            ))
        } else {
            Ok(None)
        };
    }
    let id = ResourceId::parse(&text).map_err(|rule| invalid("properties.resourceId", rule))?;
    if !id.is_of_type(namespace, &[resource_type]) {
        return Err(invalid(
            "properties.resourceId",
            format!("resourceId must be the id of a {namespace}/{resource_type} resource."),
        ));
    }
    Ok(Some(id))
}

// ----- shared ------------------------------------------------------------------------------------

/// Azure refuses keys that are not one OpenSSH line; the domain says why in words a person can
/// act on, and never repeats the pasted text (it may be a private key).
fn check_ssh_key(key: Option<&Value>, path: &str) -> Result<(), ArmError> {
    SshPublicKey::parse(&text_of(key))
        .map(drop)
        .map_err(|problem| invalid(path, problem))
}

/// A field that breaks a rule: 400 `ValidationError`, the field's path, then the rule's words.
fn invalid(path: &str, rule: impl Display) -> ArmError {
    ArmError::bad_request("ValidationError", format!("{path}: {rule}")).with_target(path)
}

/// A member that was sent with a value (`null` is the same as not sending it, in ARM).
pub fn present<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

/// The text a domain rule reads from a JSON value: a string as it is, a missing or null value as
/// empty, and anything else as its JSON text — which no rule takes, so the domain's message says
/// what was expected instead.
pub fn text_of(value: Option<&Value>) -> Cow<'_, str> {
    match value {
        None | Some(Value::Null) => Cow::Borrowed(""),
        Some(Value::String(text)) => Cow::Borrowed(text),
        Some(other) => Cow::Owned(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inner(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn messages_start_with_the_path_and_targets_name_it() {
        let error = check_new_instance(&inner(json!({"idleTimeBeforeShutdown": "PT5M"})))
            .expect_err("too short");
        assert_eq!(error.code, "ValidationError");
        assert_eq!(
            error.target.as_deref(),
            Some("properties.properties.idleTimeBeforeShutdown")
        );
        assert!(
            error
                .message
                .starts_with("properties.properties.idleTimeBeforeShutdown: "),
            "{}",
            error.message
        );
    }

    #[test]
    fn values_of_the_wrong_json_type_are_refused_with_the_domains_words() {
        let error = check_new_instance(&inner(json!({"idleTimeBeforeShutdown": 60})))
            .expect_err("a number");
        assert!(error.message.contains("'60'"), "{}", error.message);
        let error = check_new_instance(&inner(json!({
            "personalComputeInstanceSettings": {"assignedUser": {"objectId": 7, "tenantId": null}}
        })))
        .expect_err("not GUIDs");
        assert!(error.message.contains("objectId: "), "{}", error.message);
    }

    #[test]
    fn null_means_not_sent() {
        let nothing = inner(json!({
            "sshSettings": null, "personalComputeInstanceSettings": null, "setupScripts": null,
            "schedules": null, "idleTimeBeforeShutdown": null,
        }));
        assert_eq!(check_new_instance(&nothing), Ok(()));
        let cluster = inner(json!({"scaleSettings": null, "userAccountCredentials": null}));
        assert_eq!(check_new_cluster(&cluster), Ok(DEFAULT_CLUSTER_SCALE));
    }

    #[test]
    fn ssh_keys_are_only_required_with_public_access() {
        let closed = inner(json!({"sshSettings": {"sshPublicAccess": "Disabled"}}));
        assert_eq!(check_new_instance(&closed), Ok(()));
        let open = inner(json!({"sshSettings": {"sshPublicAccess": "enabled"}}));
        let error = check_new_instance(&open).expect_err("no key");
        assert_eq!(
            error.target.as_deref(),
            Some("properties.properties.sshSettings.adminPublicKey")
        );
    }

    #[test]
    fn empty_optional_credentials_are_not_given() {
        let cluster = inner(json!({"userAccountCredentials": {
            "adminUserName": "azureuser", "adminUserPassword": "", "adminUserSshPublicKey": null
        }}));
        assert_eq!(check_new_cluster(&cluster), Ok(DEFAULT_CLUSTER_SCALE));
    }
}
