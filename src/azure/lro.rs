//! Long-running operations: how to follow one, stored with the operation so that a restarted
//! server can go on following it.

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::error::ArmError;
use super::retry::parse_retry_after;

/// Which kind of URL tells the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollKind {
    /// `Azure-AsyncOperation`: 200 with `{status}` until a terminal status.
    AsyncOperation,
    /// `Location`: 202 while running, 200/204 when done.
    Location,
    /// No operation URL: GET the resource until its provisioning state is terminal.
    Resource,
}

impl PollKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PollKind::AsyncOperation => "azure-async-operation",
            PollKind::Location => "location",
            PollKind::Resource => "resource",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            PollKind::AsyncOperation,
            PollKind::Location,
            PollKind::Resource,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }
}

/// How to follow one long-running operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LroHandle {
    pub kind: PollKind,
    pub url: String,
    pub retry_after: Option<Duration>,
}

/// What a poll found out.
#[derive(Debug, Clone)]
pub enum LroStatus {
    InProgress { retry_after: Option<Duration> },
    Succeeded,
    Failed(ArmError),
}

impl LroHandle {
    /// Azure-AsyncOperation is preferred: it carries the error of a failed operation.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let retry_after = parse_retry_after(headers.get("retry-after"));
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        if let Some(url) = header("azure-asyncoperation") {
            return Some(Self {
                kind: PollKind::AsyncOperation,
                url,
                retry_after,
            });
        }
        header("location").map(|url| Self {
            kind: PollKind::Location,
            url,
            retry_after,
        })
    }

    pub fn resource(url: String, retry_after: Option<Duration>) -> Self {
        Self {
            kind: PollKind::Resource,
            url,
            retry_after,
        }
    }
}
