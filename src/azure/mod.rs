//! Azure Resource Manager: the typed client of the Azure ML compute API and its wire models.

pub mod models;
