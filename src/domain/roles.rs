//! Who may do what: the dashboard's roles and the one function that decides.
//!
//! | role        | sees        | acts on                                                  |
//! |-------------|-------------|----------------------------------------------------------|
//! | reader      | all compute | nothing                                                  |
//! | member      | all compute | creates instances for self; operates compute it owns     |
//! | contributor | all compute | any compute, any kind                                    |
//! | admin       | all compute | everything; creates on behalf; roles; audit log          |
//!
//! Whatever the role, only an instance's owner opens its applications (Jupyter, terminal, …).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Reader,
    Member,
    Contributor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Reader, Role::Member, Role::Contributor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Member => "member",
            Role::Contributor => "contributor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(value.trim()))
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Reader => "Reader",
            Role::Member => "Member",
            Role::Contributor => "Contributor",
            Role::Admin => "Admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Something a person may ask the dashboard to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See the compute list and details.
    ViewCompute,
    /// Ask for a resync with Azure now.
    RefreshCompute,
    /// Create a compute instance assigned to oneself.
    CreateOwnInstance,
    /// Create compute of any kind (clusters, inference, attached).
    CreateAnyCompute,
    /// Create an instance assigned to somebody else, or reassign one.
    CreateOnBehalf,
    /// Start, stop, restart, delete or rescale one compute.
    OperateCompute,
    /// Open Jupyter, JupyterLab, RStudio, the terminal or VS Code on an instance.
    OpenApplications,
    /// Set role overrides.
    ManageRoles,
    /// Read and export the audit log.
    ViewAudit,
}

/// How the person stands to the compute the permission is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// The person is the compute's owner (assigned user, else creator).
    Owner,
    /// Somebody else owns it (or nobody is recorded).
    NotOwner,
    /// The permission is not about one compute.
    NoCompute,
}

/// The answer, with the reason a refusal can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Refused(String),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed)
    }
}

/// The one place that decides who may do what.
pub fn decide(role: Role, permission: Permission, ownership: Ownership) -> Decision {
    use Permission::*;
    let allowed = match permission {
        ViewCompute | RefreshCompute => true,
        CreateOwnInstance => role >= Role::Member,
        CreateAnyCompute => role >= Role::Contributor,
        CreateOnBehalf | ManageRoles | ViewAudit => role == Role::Admin,
        OperateCompute => match role {
            Role::Reader => false,
            Role::Member => ownership == Ownership::Owner,
            Role::Contributor | Role::Admin => true,
        },
        // An instance is one person's workstation: the role never opens somebody else's.
        OpenApplications => ownership == Ownership::Owner,
    };
    if allowed {
        return Decision::Allowed;
    }
    Decision::Refused(refusal(role, permission))
}

fn refusal(role: Role, permission: Permission) -> String {
    use Permission::*;
    let what = match permission {
        ViewCompute | RefreshCompute => "view compute",
        CreateOwnInstance => "create compute instances",
        CreateAnyCompute => "create clusters and other kinds of compute",
        CreateOnBehalf => "create or reassign compute on behalf of other people",
        OperateCompute if role == Role::Member => {
            return "Members may only start, stop, restart or delete compute they own.".into();
        }
        OperateCompute => "start, stop, restart or delete compute",
        OpenApplications => {
            return "Only the instance's owner may open its applications.".into();
        }
        ManageRoles => "manage roles",
        ViewAudit => "read the audit log",
    };
    format!("Your role ({role}) may not {what}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ownership::*;
    use Permission::*;

    #[test]
    fn the_role_table() {
        // (permission, ownership, [reader, member, contributor, admin])
        let table = [
            (ViewCompute, NoCompute, [true, true, true, true]),
            (RefreshCompute, NoCompute, [true, true, true, true]),
            (CreateOwnInstance, NoCompute, [false, true, true, true]),
            (CreateAnyCompute, NoCompute, [false, false, true, true]),
            (CreateOnBehalf, NoCompute, [false, false, false, true]),
            (OperateCompute, Owner, [false, true, true, true]),
            (OperateCompute, NotOwner, [false, false, true, true]),
            (OpenApplications, Owner, [true, true, true, true]),
            (OpenApplications, NotOwner, [false, false, false, false]),
            (ManageRoles, NoCompute, [false, false, false, true]),
            (ViewAudit, NoCompute, [false, false, false, true]),
        ];
        for (permission, ownership, expected) in table {
            for (role, allowed) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(
                    decide(role, permission, ownership).is_allowed(),
                    allowed,
                    "{role:?} {permission:?} {ownership:?}"
                );
            }
        }
    }

    #[test]
    fn refusals_say_why() {
        let Decision::Refused(why) = decide(Role::Member, OperateCompute, NotOwner) else {
            panic!("refused")
        };
        assert!(why.contains("compute they own"));
        assert_eq!(Role::parse(" Admin "), Some(Role::Admin));
        assert_eq!(Role::parse("owner"), None);
    }
}
