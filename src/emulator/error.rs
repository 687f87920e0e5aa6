//! ARM's error envelope as the emulator answers it: `{"error":{"code","message","target"}}`.

use axum::http::StatusCode;
use serde_json::{Value, json};

/// One refused request: the HTTP status and ARM's `code`, `message` and, when one field is at
/// fault, its path as `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub target: Option<String>,
}

impl ArmError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ArmError {
            status,
            code: code.to_string(),
            message: message.into(),
            target: None,
        }
    }

    /// Names the field at fault, e.g. `properties.properties.subnet.id`.
    pub fn with_target(mut self, path: impl Into<String>) -> Self {
        self.target = Some(path.into());
        self
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", message)
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(target) = &self.target {
            error["target"] = json!(target);
        }
        json!({ "error": error })
    }
}
