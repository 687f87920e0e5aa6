//! Pure rules of the product: no I/O, no HTTP, no database.
//!
//! Every rule lives here once and is called from the web forms, the handlers, the sync tasks
//! and the emulator alike.

pub mod compute;
pub mod names;
pub mod roles;
