//! Azure Resource Manager: the typed client of the Azure ML compute API and its wire models, and
//! the few lists of other providers the create forms need (virtual networks, user-assigned
//! identities, AKS clusters).
//! Knows nothing of the web, the cache or the emulator.

pub mod client;
pub mod error;
pub mod lro;
pub mod models;
pub mod parse;
pub mod retry;
pub mod token;

pub use client::{
    Accepted, ArmClient, CONTAINER_SERVICE_API_VERSION, ComputeListing,
    MANAGED_IDENTITY_API_VERSION, NETWORK_API_VERSION, PowerAction, UnderlyingResourceAction,
    WorkspaceRef,
};
pub use error::ArmError;
pub use lro::{LroHandle, LroStatus, PollKind};
pub use models::{ManagedCluster, Subnet, UserAssignedIdentity, VirtualNetwork};
