//! Compute Studio: a self-hosted dashboard for the compute of an Azure Machine Learning workspace.

pub mod azure;
pub mod domain;
pub mod emulator;
pub mod store;
pub mod sync;
