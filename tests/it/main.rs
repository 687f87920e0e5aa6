//! Integration tests: the real server on an ephemeral port, real HTTP, a real SQLite file, and
//! the emulator over real HTTP. One binary, so the crate is linked once.

mod actions;
mod activity;
mod applications;
mod arm_client;
mod attach;
mod bad_forms;
mod bulk;
mod compute_page;
mod crash;
mod create;
mod details;
mod emulator_signin;
mod faults;
mod helpers;
mod id_tokens;
mod inference;
mod live;
mod poller;
mod resync;
mod roles;
mod sign_in;
mod startup;
