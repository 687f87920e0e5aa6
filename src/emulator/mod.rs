//! A stand-alone fake of the Azure ML compute REST API and of the Entra token endpoint.
