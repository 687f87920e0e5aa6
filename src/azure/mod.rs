//! Azure Resource Manager: the typed client of the Azure ML compute API and its wire models.
//! Knows nothing of the web, the cache or the emulator.

pub mod client;
pub mod error;
pub mod lro;
pub mod models;
pub mod retry;
pub mod token;

pub use client::{
    Accepted, ArmClient, ComputeListing, PowerAction, UnderlyingResourceAction, WorkspaceRef,
};
pub use error::ArmError;
pub use lro::{LroHandle, LroStatus, PollKind};
