//! Compute Studio: a self-hosted dashboard for the compute of an Azure Machine Learning workspace.

pub mod azure;
pub mod config;
pub mod domain;
pub mod emulator;
pub mod error;
pub mod startup;
pub mod store;
pub mod sync;
pub mod web;
