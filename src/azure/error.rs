//! What can go wrong talking to Azure, in a form a person can read.

use super::models::ErrorDetail;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ArmError {
    /// Azure answered with an error body: its status, code and message, as Azure said them.
    #[error("Azure refused the request ({status} {code}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        target: Option<String>,
    },
    /// A long-running operation ended in failure.
    #[error("the operation failed ({code}): {message}")]
    OperationFailed { code: String, message: String },
    /// Azure could not be reached, or the connection broke.
    #[error("Azure could not be reached: {0}")]
    Transport(String),
    /// Azure's answer was not what the API promises (not JSON, truncated, wrong shape).
    #[error("Azure's answer to {context} could not be read: {detail}")]
    Decode { context: String, detail: String },
    /// No access token could be obtained for Azure Resource Manager.
    #[error("no access token for Azure Resource Manager: {0}")]
    Token(String),
    /// Retries ran out of attempts or time.
    #[error("Azure kept answering {last_status} after {attempts} attempts; giving up")]
    RetriesExhausted { attempts: u32, last_status: String },
}

impl ArmError {
    pub fn from_detail(status: u16, detail: ErrorDetail) -> Self {
        ArmError::Api {
            status,
            code: if detail.code.is_empty() {
                "Unknown".into()
            } else {
                detail.code
            },
            message: detail.message,
            target: detail.target,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The error code to record with an operation (Azure's own code where there is one).
    pub fn code(&self) -> String {
        match self {
            ArmError::Api { code, .. } | ArmError::OperationFailed { code, .. } => code.clone(),
            ArmError::Transport(_) => "ConnectionFailed".into(),
            ArmError::Decode { .. } => "InvalidResponse".into(),
            ArmError::Token(_) => "TokenUnavailable".into(),
            ArmError::RetriesExhausted { .. } => "RetriesExhausted".into(),
        }
    }

    /// The message shown to a person: Azure's own words where it gave some.
    pub fn user_message(&self) -> String {
        match self {
            ArmError::Api { message, .. } | ArmError::OperationFailed { message, .. }
                if !message.is_empty() =>
            {
                message.clone()
            }
            other => other.to_string(),
        }
    }
}
