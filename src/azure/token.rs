//! Access tokens for Azure Resource Manager.
//!
//! In Azure mode they come from azure_identity (client secret, managed identity, workload
//! identity or the developer's Azure CLI); in demo mode from the emulator's client-credentials
//! endpoint. Either way they are cached until shortly before they expire, because the Azure CLI
//! credential spawns `az` on every call and ARM calls are frequent.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use super::error::ArmError;

/// A bearer token and when it stops working. `Debug` never shows the secret.
#[derive(Clone)]
pub struct AccessToken {
    pub secret: String,
    pub expires_on: OffsetDateTime,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

#[async_trait]
pub trait TokenSource: Send + Sync {
    /// A token for ARM; implementations may go to the network every time.
    async fn fetch(&self) -> Result<AccessToken, ArmError>;
}

/// Wraps any source and hands out the same token until it is close to expiry.
pub struct CachedTokenSource {
    inner: Arc<dyn TokenSource>,
    refresh_margin: Duration,
    cached: Mutex<Option<(AccessToken, OffsetDateTime)>>,
}

impl CachedTokenSource {
    pub fn new(inner: Arc<dyn TokenSource>) -> Self {
        Self {
            inner,
            refresh_margin: Duration::from_secs(300),
            cached: Mutex::new(None),
        }
    }

    /// A token valid for at least the refresh margin (or a new one).
    pub async fn token(&self) -> Result<AccessToken, ArmError> {
        // Holding the lock across the fetch means concurrent callers wait for one fetch
        // instead of each asking the identity provider.
        let mut cached = self.cached.lock().await;
        if let Some((token, fetched_at)) = cached.as_ref()
            && self.still_fresh(token, *fetched_at)
        {
            return Ok(token.clone());
        }
        let token = self.inner.fetch().await?;
        *cached = Some((token.clone(), OffsetDateTime::now_utc()));
        Ok(token)
    }

    /// Forget the cached token (after ARM said it is no longer valid).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    fn still_fresh(&self, token: &AccessToken, fetched_at: OffsetDateTime) -> bool {
        let now = OffsetDateTime::now_utc();
        // Renew five minutes early, or half-way through the lifetime of a short-lived token.
        let margin = time::Duration::try_from(self.refresh_margin)
            .unwrap_or_default()
            .min((token.expires_on - fetched_at) / 2);
        token.expires_on - now > margin
    }
}

/// Tokens from an azure_identity credential, for ARM's `.default` scope.
pub struct AzureIdentitySource {
    credential: Arc<dyn TokenCredential>,
    scope: String,
}

impl AzureIdentitySource {
    pub fn new(credential: Arc<dyn TokenCredential>, arm_endpoint: &str) -> Self {
        Self {
            credential,
            scope: format!("{}/.default", arm_endpoint.trim_end_matches('/')),
        }
    }
}

#[async_trait]
impl TokenSource for AzureIdentitySource {
    async fn fetch(&self) -> Result<AccessToken, ArmError> {
        let token = self
            .credential
            .get_token(&[self.scope.as_str()], None)
            .await
            .map_err(|e| ArmError::Token(e.to_string()))?;
        Ok(AccessToken {
            secret: token.token.secret().to_string(),
            expires_on: token.expires_on,
        })
    }
}

/// OAuth 2.0 client credentials against an Entra-compatible token endpoint. Used with the
/// built-in emulator, whose endpoint speaks the same protocol as Entra's.
pub struct ClientCredentialsSource {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: String,
    scope: String,
}

impl ClientCredentialsSource {
    pub fn new(
        http: reqwest::Client,
        authority: &str,
        tenant_id: &str,
        client_id: &str,
        client_secret: &str,
        arm_endpoint: &str,
    ) -> Self {
        Self {
            http,
            token_url: format!(
                "{}/{tenant_id}/oauth2/v2.0/token",
                authority.trim_end_matches('/')
            ),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scope: format!("{}/.default", arm_endpoint.trim_end_matches('/')),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: i64,
}

#[derive(Deserialize)]
struct TokenErrorResponse {
    error: String,
    #[serde(default)]
    error_description: String,
}

#[async_trait]
impl TokenSource for ClientCredentialsSource {
    async fn fetch(&self) -> Result<AccessToken, ArmError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
            ("scope", self.scope.as_str()),
        ];
        let response = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| ArmError::Token(format!("token endpoint unreachable: {e}")))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ArmError::Token(e.to_string()))?;
        if !status.is_success() {
            let why = serde_json::from_slice::<TokenErrorResponse>(&body)
                .map(|e| format!("{}: {}", e.error, e.error_description))
                .unwrap_or_else(|_| format!("HTTP {status}"));
            return Err(ArmError::Token(why));
        }
        let token: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| ArmError::Token(format!("unreadable token response: {e}")))?;
        Ok(AccessToken {
            secret: token.access_token,
            expires_on: OffsetDateTime::now_utc() + time::Duration::seconds(token.expires_in),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Hands out numbered tokens living `lifetime`, counting the fetches.
    struct CountingSource {
        fetches: AtomicUsize,
        lifetime: time::Duration,
    }

    #[async_trait]
    impl TokenSource for CountingSource {
        async fn fetch(&self) -> Result<AccessToken, ArmError> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst);
            Ok(AccessToken {
                secret: format!("token-{n}"),
                expires_on: OffsetDateTime::now_utc() + self.lifetime,
            })
        }
    }

    fn cached(lifetime: time::Duration) -> (Arc<CountingSource>, CachedTokenSource) {
        let source = Arc::new(CountingSource {
            fetches: AtomicUsize::new(0),
            lifetime,
        });
        (source.clone(), CachedTokenSource::new(source))
    }

    #[tokio::test]
    async fn a_token_is_reused_until_shortly_before_it_expires() {
        let (source, tokens) = cached(time::Duration::hours(1));
        for _ in 0..5 {
            assert_eq!(tokens.token().await.unwrap().secret, "token-0");
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_short_lived_token_is_renewed_half_way() {
        let (source, tokens) = cached(time::Duration::milliseconds(200));
        tokens.token().await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(tokens.token().await.unwrap().secret, "token-1");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_invalidated_token_is_fetched_again() {
        let (_, tokens) = cached(time::Duration::hours(1));
        tokens.token().await.unwrap();
        tokens.invalidate().await;
        assert_eq!(tokens.token().await.unwrap().secret, "token-1");
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let token = AccessToken {
            secret: "s3cret".into(),
            expires_on: OffsetDateTime::now_utc(),
        };
        assert!(!format!("{token:?}").contains("s3cret"));
    }
}
