//! A message for the next page a person sees ("Creating ci-ada…"), kept in their session
//! across the redirect that follows a form.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const KEY: &str = "notice";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notice {
    /// `good` or `bad`: the colour of the message.
    pub tone: String,
    pub title: String,
    pub message: String,
}

impl Notice {
    pub fn good(title: impl Into<String>, message: impl Into<String>) -> Self {
        Notice {
            tone: "good".into(),
            title: title.into(),
            message: message.into(),
        }
    }
}

pub async fn put(session: &Session, notice: Notice) {
    if let Err(e) = session.insert(KEY, notice).await {
        tracing::warn!(error = %e, "could not keep a notice for the next page");
    }
}

/// The waiting notice, once. Looks before removing: a removal always writes the session.
pub async fn take(session: &Session) -> Option<Notice> {
    let notice = session.get::<Notice>(KEY).await.ok().flatten()?;
    let _ = session.remove::<Notice>(KEY).await;
    Some(notice)
}
