//! The people of the demo tenant. The sign-in emulator (a later task) offers them as accounts, and
//! the demo seed makes them the owners of its compute instances.

/// The tenant every demo user belongs to; `EmulatorConfig::demo()` uses it.
pub const DEMO_TENANT_ID: &str = "5d8f3c1e-9a7b-4c2d-8e6f-0a1b2c3d4e5f";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoUser {
    pub object_id: &'static str,
    pub tenant_id: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    /// The app role of the user: "reader" | "member" | "contributor" | "admin".
    pub role: &'static str,
}

pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        object_id: "4f1c2a9e-7b6d-4e0a-9c3b-1a2b3c4d5e01",
        tenant_id: DEMO_TENANT_ID,
        name: "Ada Lovelace",
        email: "ada.lovelace@contoso-ml.example",
        role: "admin",
    },
    DemoUser {
        object_id: "8a2d6b4f-1c3e-4f5a-8b7c-2b3c4d5e6f02",
        tenant_id: DEMO_TENANT_ID,
        name: "Grace Hopper",
        email: "grace.hopper@contoso-ml.example",
        role: "contributor",
    },
    DemoUser {
        object_id: "c3e5a7b9-2d4f-4a6c-9e8d-3c4d5e6f7a03",
        tenant_id: DEMO_TENANT_ID,
        name: "Alan Turing",
        email: "alan.turing@contoso-ml.example",
        role: "member",
    },
    DemoUser {
        object_id: "e7f9b1d3-3a5c-4b7e-a1f2-4d5e6f7a8b04",
        tenant_id: DEMO_TENANT_ID,
        name: "Katherine Johnson",
        email: "katherine.johnson@contoso-ml.example",
        role: "member",
    },
    DemoUser {
        object_id: "1b3d5f7a-4c6e-4d8a-b2c4-5e6f7a8b9c05",
        tenant_id: DEMO_TENANT_ID,
        name: "Edsger Dijkstra",
        email: "edsger.dijkstra@contoso-ml.example",
        role: "reader",
    },
];

/// The Entra app role value (the id_token `roles` claim) of a dashboard role.
pub fn app_role(role: &str) -> &'static str {
    match role {
        "admin" => "ComputeStudio.Admin",
        "contributor" => "ComputeStudio.Contributor",
        "member" => "ComputeStudio.Member",
        _ => "ComputeStudio.Reader",
    }
}

/// The demo user with this object id, if any.
pub fn find_user(object_id: &str) -> Option<&'static DemoUser> {
    DEMO_USERS
        .iter()
        .find(|u| u.object_id.eq_ignore_ascii_case(object_id))
}
