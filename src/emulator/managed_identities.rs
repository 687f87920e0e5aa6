//! Managed identities: the subscription's user-assigned identities
//! (Microsoft.ManagedIdentity, seeded from the configuration) and the `identity` envelope of a
//! compute, checked and completed the way ARM does it.

use serde_json::{Map, Value, json};

use super::config::EmulatorConfig;
use super::error::ArmError;
use super::util::stable_guid;
use crate::domain::arm_ids::parse_user_assigned_identity_id;
use crate::domain::identity::check_arm_identity;

pub const USER_ASSIGNED_IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// A user-assigned identity of the emulated subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAssignedIdentitySeed {
    pub resource_group: String,
    pub name: String,
    pub location: String,
    /// The object id of its service principal.
    pub principal_id: String,
    /// The application (client) id of its service principal.
    pub client_id: String,
}

impl UserAssignedIdentitySeed {
    /// An identity whose principal and client ids are derived from its name (stable across runs).
    pub fn new(resource_group: &str, name: &str, location: &str) -> Self {
        UserAssignedIdentitySeed {
            resource_group: resource_group.to_string(),
            name: name.to_string(),
            location: location.to_string(),
            principal_id: stable_guid(&format!("{resource_group}/{name}#principal")),
            client_id: stable_guid(&format!("{resource_group}/{name}#client")),
        }
    }

    pub fn id(&self, subscription_id: &str) -> String {
        format!(
            "/subscriptions/{subscription_id}/resourceGroups/{}/providers/{USER_ASSIGNED_IDENTITY_TYPE}/{}",
            self.resource_group, self.name
        )
    }
}

/// Two identities in the workspace's region: one for computes to reach storage, one that only
/// reads data, in a resource group of its own.
pub fn default_user_assigned_identities(
    workspace_rg: &str,
    location: &str,
) -> Vec<UserAssignedIdentitySeed> {
    vec![
        UserAssignedIdentitySeed::new(workspace_rg, "ml-compute-identity", location),
        UserAssignedIdentitySeed::new("identities-rg", "data-reader-identity", location),
    ]
}

/// Every user-assigned identity as `GET …/userAssignedIdentities` lists it.
pub fn list(config: &EmulatorConfig) -> Vec<Value> {
    config
        .user_assigned_identities
        .iter()
        .map(|identity| {
            json!({
                "id": identity.id(&config.subscription_id),
                "name": identity.name,
                "type": USER_ASSIGNED_IDENTITY_TYPE,
                "location": identity.location,
                "tags": {},
                "properties": {
                    "tenantId": config.tenant_id,
                    "principalId": identity.principal_id,
                    "clientId": identity.client_id,
                },
            })
        })
        .collect()
}

/// `identity.type` of ARM's `ManagedServiceIdentity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdentityType {
    None,
    SystemAssigned,
    UserAssigned,
    SystemAndUserAssigned,
}

impl IdentityType {
    const ALL: [IdentityType; 4] = [
        IdentityType::None,
        IdentityType::SystemAssigned,
        IdentityType::UserAssigned,
        IdentityType::SystemAndUserAssigned,
    ];

    /// Case-insensitive, and blind to the space people put after the comma.
    fn parse(text: &str) -> Option<Self> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(&compact))
    }

    fn as_str(self) -> &'static str {
        match self {
            IdentityType::None => "None",
            IdentityType::SystemAssigned => "SystemAssigned",
            IdentityType::UserAssigned => "UserAssigned",
            IdentityType::SystemAndUserAssigned => "SystemAssigned,UserAssigned",
        }
    }

    fn has_system(self) -> bool {
        matches!(
            self,
            IdentityType::SystemAssigned | IdentityType::SystemAndUserAssigned
        )
    }

    fn has_user(self) -> bool {
        matches!(
            self,
            IdentityType::UserAssigned | IdentityType::SystemAndUserAssigned
        )
    }
}

/// Checks the `identity` a PUT sent and returns it as Azure stores it: the type in its canonical
/// spelling, a system-assigned principal (kept from `previous` if it had one already, as Azure
/// keeps it across updates) and, for each user-assigned identity, its `principalId`/`clientId`.
///
/// The format rules are the domain's (`check_arm_identity`, shared with the create form); what
/// only Azure can know, that the identities exist, is checked here against the seeded ones.
pub fn resolve_compute_identity(
    sent: &Value,
    previous: Option<&Value>,
    config: &EmulatorConfig,
) -> Result<Value, ArmError> {
    let user_assigned = checked_format(sent)?;
    let kind = identity_type(sent)?;
    let mut identity = json!({ "type": kind.as_str() });
    if kind.has_system() {
        let kept = previous
            .filter(|p| {
                p["type"]
                    .as_str()
                    .and_then(IdentityType::parse)
                    .is_some_and(IdentityType::has_system)
            })
            .and_then(|p| p["principalId"].as_str())
            .map(str::to_string);
        identity["principalId"] = json!(kept.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()));
        identity["tenantId"] = json!(config.tenant_id);
    }
    if kind.has_user() {
        let mut resolved = Map::new();
        for key in user_assigned {
            let seed = find_identity(config, &key)?;
            resolved.insert(
                seed.id(&config.subscription_id),
                json!({ "principalId": seed.principal_id, "clientId": seed.client_id }),
            );
        }
        identity["userAssignedIdentities"] = Value::Object(resolved);
    }
    Ok(identity)
}

/// The domain's rules on the envelope's `identity`; the user-assigned ids it lists.
/// Azure answers an unknown type with its own code, everything else as a bad request.
fn checked_format(sent: &Value) -> Result<Vec<String>, ArmError> {
    check_user_assigned_is_a_map(sent)?;
    check_arm_identity(sent).map_err(|rule| {
        let code = if known_type(sent).is_some() {
            "BadRequest"
        } else {
            "InvalidIdentityType"
        };
        ArmError::bad_request(code, format!("identity: {rule}")).with_target("identity")
    })
}

/// `userAssignedIdentities` is a map keyed by ids: a list or a string is a malformed body
/// (the domain reads only maps, so it would not notice one sent alongside SystemAssigned).
fn check_user_assigned_is_a_map(sent: &Value) -> Result<(), ArmError> {
    match sent.get("userAssignedIdentities") {
        None | Some(Value::Null) | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(ArmError::bad_request(
            "BadRequest",
            "identity.userAssignedIdentities: must be an object whose keys are ARM ids of user-assigned identities.",
        )
        .with_target("identity.userAssignedIdentities")),
    }
}

fn known_type(sent: &Value) -> Option<IdentityType> {
    sent.get("type")
        .and_then(Value::as_str)
        .and_then(IdentityType::parse)
}

/// The type in the spelling Azure stores; `checked_format` has refused unknown types already.
fn identity_type(sent: &Value) -> Result<IdentityType, ArmError> {
    known_type(sent).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidIdentityType",
            "identity: identity.type must be None, SystemAssigned, UserAssigned or 'SystemAssigned,UserAssigned'.",
        )
        .with_target("identity")
    })
}

fn find_identity<'a>(
    config: &'a EmulatorConfig,
    key: &str,
) -> Result<&'a UserAssignedIdentitySeed, ArmError> {
    let id = parse_user_assigned_identity_id(key).map_err(|rule| {
        ArmError::bad_request("BadRequest", format!("identity: '{key}': {rule}"))
            .with_target("identity")
    })?;
    config
        .user_assigned_identities
        .iter()
        .find(|seed| {
            id.is_in(&config.subscription_id, &seed.resource_group)
                && id
                    .name_at(0)
                    .is_some_and(|n| seed.name.eq_ignore_ascii_case(n))
        })
        .ok_or_else(|| {
            ArmError::bad_request(
                "FailedIdentityOperation",
                format!(
                    "The user-assigned identity '{key}' was not found. It must exist in subscription '{}' before it can be assigned.",
                    config.subscription_id
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_identity_id(config: &EmulatorConfig) -> String {
        config.user_assigned_identities[0].id(&config.subscription_id)
    }

    #[test]
    fn types_are_case_insensitive_and_canonicalised() {
        let config = EmulatorConfig::for_tests();
        for (sent, canonical) in [
            ("none", "None"),
            ("systemassigned", "SystemAssigned"),
            (
                "SystemAssigned, UserAssigned",
                "SystemAssigned,UserAssigned",
            ),
        ] {
            let mut identity = json!({ "type": sent });
            if sent.contains("User") {
                identity["userAssignedIdentities"] = json!({ first_identity_id(&config): {} });
            }
            let resolved = resolve_compute_identity(&identity, None, &config).expect(sent);
            assert_eq!(resolved["type"], canonical);
        }
        let error = resolve_compute_identity(&json!({ "type": "Magic" }), None, &config)
            .expect_err("unknown type");
        assert_eq!(error.code, "InvalidIdentityType");
        assert!(error.message.contains("'Magic'"), "{}", error.message);
    }

    #[test]
    fn user_assigned_identities_are_resolved_or_refused() {
        let config = EmulatorConfig::for_tests();
        let seed = &config.user_assigned_identities[0];
        let id = first_identity_id(&config);
        let sent =
            json!({ "type": "UserAssigned", "userAssignedIdentities": { id.to_lowercase(): {} } });
        let resolved = resolve_compute_identity(&sent, None, &config).unwrap();
        assert_eq!(
            resolved["userAssignedIdentities"][&id],
            json!({ "principalId": seed.principal_id, "clientId": seed.client_id })
        );
        assert!(resolved.get("principalId").is_none());

        let unknown = id.replace(&seed.name, "ghost");
        for (identity, code) in [
            (json!({ "type": "UserAssigned" }), "BadRequest"),
            (
                json!({ "type": "UserAssigned", "userAssignedIdentities": {} }),
                "BadRequest",
            ),
            (
                json!({ "type": "SystemAssigned", "userAssignedIdentities": { &id: {} } }),
                "BadRequest",
            ),
            (
                json!({ "type": "UserAssigned", "userAssignedIdentities": { "ghost": {} } }),
                "BadRequest",
            ),
            (
                json!({ "type": "UserAssigned", "userAssignedIdentities": { &unknown: {} } }),
                "FailedIdentityOperation",
            ),
        ] {
            let error = resolve_compute_identity(&identity, None, &config).expect_err("refused");
            assert_eq!(error.code, code, "{identity}");
        }
    }

    #[test]
    fn a_system_assigned_principal_survives_an_update() {
        let config = EmulatorConfig::for_tests();
        let sent = json!({ "type": "SystemAssigned" });
        let first = resolve_compute_identity(&sent, None, &config).unwrap();
        assert_eq!(first["tenantId"], config.tenant_id);
        let again = resolve_compute_identity(&sent, Some(&first), &config).unwrap();
        assert_eq!(again["principalId"], first["principalId"]);
    }
}
