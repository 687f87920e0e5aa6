//! The managed identity a compute cluster runs jobs as: none, its own (system-assigned), or
//! identities that exist on their own (user-assigned, given by their resource ids).

use serde_json::{Map, Value, json};

use super::arm_ids::parse_user_assigned_identity_id;
use super::field::FieldErrors;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedIdentity {
    None,
    SystemAssigned,
    UserAssigned(Vec<String>),
}

/// At most this many identities per compute (Azure's per-resource limit is far higher; a
/// cluster with more is a mistake in the form).
pub const MAX_USER_ASSIGNED: usize = 10;

impl ManagedIdentity {
    /// `kind` is `none`, `system` or `user`; `ids` has one resource id per line.
    pub fn from_form(kind: &str, ids: &str) -> Result<ManagedIdentity, FieldErrors> {
        let mut errors = FieldErrors::new();
        let identity = match kind.trim() {
            "" | "none" => ManagedIdentity::None,
            "system" => ManagedIdentity::SystemAssigned,
            "user" => {
                let lines: Vec<&str> = ids
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                if lines.is_empty() {
                    errors.add(
                        "identity_ids",
                        "Give the resource id of at least one user-assigned identity.",
                    );
                } else if lines.len() > MAX_USER_ASSIGNED {
                    errors.add(
                        "identity_ids",
                        format!("At most {MAX_USER_ASSIGNED} user-assigned identities."),
                    );
                }
                let mut checked = Vec::new();
                for (n, line) in lines.iter().enumerate().take(MAX_USER_ASSIGNED) {
                    match parse_user_assigned_identity_id(line) {
                        Ok(_)
                            if checked
                                .iter()
                                .any(|c: &String| c.eq_ignore_ascii_case(line)) =>
                        {
                            errors.add(
                                "identity_ids",
                                format!("Line {}: the identity is listed twice.", n + 1),
                            );
                        }
                        Ok(_) => checked.push(line.to_string()),
                        Err(e) => errors.add("identity_ids", format!("Line {}: {e}", n + 1)),
                    }
                }
                ManagedIdentity::UserAssigned(checked)
            }
            other => {
                errors.add(
                    "identity_type",
                    format!("Managed identity must be none, system-assigned or user-assigned, not '{}'.", super::scale::shorten(other)),
                );
                ManagedIdentity::None
            }
        };
        errors.into_result()?;
        Ok(identity)
    }

    /// The envelope's `identity`, or nothing for none.
    pub fn to_arm(&self) -> Option<Value> {
        match self {
            ManagedIdentity::None => None,
            ManagedIdentity::SystemAssigned => Some(json!({ "type": "SystemAssigned" })),
            ManagedIdentity::UserAssigned(ids) => {
                let map: Map<String, Value> =
                    ids.iter().map(|id| (id.clone(), json!({}))).collect();
                Some(json!({ "type": "UserAssigned", "userAssignedIdentities": map }))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ManagedIdentity::None => "no managed identity".into(),
            ManagedIdentity::SystemAssigned => "a system-assigned managed identity".into(),
            ManagedIdentity::UserAssigned(ids) => format!(
                "the user-assigned identit{} {}",
                if ids.len() == 1 { "y" } else { "ies" },
                ids.iter()
                    .map(|id| id.rsplit('/').next().unwrap_or(id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Checks an envelope's `identity` (what the emulator receives) and returns the user-assigned ids.
pub fn check_arm_identity(value: &Value) -> Result<Vec<String>, String> {
    let kind = value["type"].as_str().unwrap_or("");
    let normalized: String = kind
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let wants_user = match normalized.as_str() {
        "none" => false,
        "systemassigned" => false,
        "userassigned" | "systemassigned,userassigned" => true,
        _ => {
            return Err(format!(
                "identity.type '{kind}' is not one of None, SystemAssigned, UserAssigned, 'SystemAssigned,UserAssigned'."
            ));
        }
    };
    let ids: Vec<String> = match &value["userAssignedIdentities"] {
        Value::Null => Vec::new(),
        Value::Object(map) => map.keys().cloned().collect(),
        _ => {
            return Err(
                "identity.userAssignedIdentities must be an object keyed by identity resource ids."
                    .into(),
            );
        }
    };
    if wants_user && ids.is_empty() {
        return Err("identity.userAssignedIdentities must list at least one identity when the type is UserAssigned.".into());
    }
    if !wants_user && !ids.is_empty() {
        return Err(format!(
            "identity.userAssignedIdentities is only allowed with a UserAssigned type, not '{kind}'."
        ));
    }
    for id in &ids {
        parse_user_assigned_identity_id(id).map_err(|e| format!("'{id}': {e}"))?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UAI: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/trainer";

    #[test]
    fn identities_from_the_form() {
        assert_eq!(
            ManagedIdentity::from_form("none", "ignored"),
            Ok(ManagedIdentity::None)
        );
        assert_eq!(
            ManagedIdentity::from_form("system", ""),
            Ok(ManagedIdentity::SystemAssigned)
        );
        assert_eq!(
            ManagedIdentity::from_form("user", &format!("\n {UAI} \n")),
            Ok(ManagedIdentity::UserAssigned(vec![UAI.into()]))
        );
        let field = |kind: &str, ids: &str| {
            ManagedIdentity::from_form(kind, ids)
                .unwrap_err()
                .iter()
                .next()
                .unwrap()
                .field
                .clone()
        };
        assert_eq!(field("user", ""), "identity_ids");
        assert_eq!(field("user", "/subscriptions/x"), "identity_ids");
        assert_eq!(field("user", &format!("{UAI}\n{UAI}")), "identity_ids");
        assert_eq!(field("both", ""), "identity_type");
    }

    #[test]
    fn azure_shape() {
        let user = ManagedIdentity::UserAssigned(vec![UAI.into()])
            .to_arm()
            .unwrap();
        assert_eq!(check_arm_identity(&user), Ok(vec![UAI.to_string()]));
        assert_eq!(
            check_arm_identity(&json!({"type": "SystemAssigned"})),
            Ok(vec![])
        );
        assert_eq!(check_arm_identity(&json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {UAI: {}}})).map(|v| v.len()), Ok(1));
        assert!(check_arm_identity(&json!({"type": "UserAssigned"})).is_err());
        assert!(check_arm_identity(&json!({"type": "Magic"})).is_err());
        assert!(
            check_arm_identity(
                &json!({"type": "UserAssigned", "userAssignedIdentities": {"nope": {}}})
            )
            .is_err()
        );
        assert!(
            check_arm_identity(&json!({"type": "None", "userAssignedIdentities": {UAI: {}}}))
                .is_err()
        );
    }
}
