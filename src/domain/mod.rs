//! Pure rules of the product: no I/O, no HTTP, no database.
//!
//! Every rule lives here once and is called from the web forms, the handlers, the sync tasks
//! and the emulator alike.

pub mod accounts;
pub mod applications;
pub mod arm_ids;
pub mod attach;
pub mod certificates;
pub mod compute;
pub mod durations;
pub mod field;
pub mod identity;
pub mod idle_shutdown;
pub mod inference;
pub mod names;
pub mod network_ranges;
pub mod quota;
pub mod roles;
pub mod scale;
pub mod schedules;
pub mod setup_scripts;
pub mod ssh;
pub mod ssh_private_key;
pub mod transitions;

#[cfg(test)]
pub(crate) mod proptests;
