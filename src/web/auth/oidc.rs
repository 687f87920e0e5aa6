//! Sign-in with Microsoft Entra ID (or the emulator's copy of it): OAuth 2.0 authorization code
//! flow with PKCE (S256), state and nonce, and a validated id_token.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, RwLock};

use super::http::OAuthHttp;

/// Where and as whom the dashboard signs people in.
#[derive(Clone)]
pub struct SignInSettings {
    /// `https://login.microsoftonline.com` (or a sovereign cloud's, or the emulator's base URL).
    pub authority: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// Absolute URL of `/auth/callback`.
    pub redirect_url: String,
    /// Where browsers reach the authority, when that differs from where the server does (the
    /// demo mounts the emulator's sign-in pages under the dashboard's own address).
    pub browser_authority: Option<String>,
}

impl std::fmt::Debug for SignInSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInSettings")
            .field("authority", &self.authority)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_url", &self.redirect_url)
            .finish()
    }
}

/// Why a sign-in failed; the message is shown to the person (never with a token in it).
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the sign-in service could not be reached or answered unexpectedly: {0}")]
    Provider(String),
    #[error("the sign-in service refused: {0}")]
    Refused(String),
    #[error("the identity token is not valid: {0}")]
    InvalidToken(String),
}

/// The id_token's field in the token response (plain oauth2 drops it otherwise).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default)]
    pub id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type EntraTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
type EntraClient = oauth2::Client<
    BasicErrorResponse,
    EntraTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The OpenID configuration of the authority (the parts we use).
#[derive(Debug, Clone, Deserialize)]
struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// The claims of an Entra v2.0 id_token that the dashboard uses.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub oid: String,
    pub tid: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub nonce: Option<String>,
}

/// What the browser's round trip must bring back, kept in the session meanwhile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Local path to return to afterwards.
    pub next: String,
}

/// The sign-in client: discovery, the authorize URL, code exchange and id_token validation.
pub struct SignIn {
    settings: SignInSettings,
    http: OAuthHttp,
    metadata: OnceCell<ProviderMetadata>,
    keys: RwLock<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// The JWKS is fetched again for an unknown key id, but not more often than this, so that
/// forged tokens with made-up key ids cannot make us hammer the authority.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Clock difference tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 120;

impl SignIn {
    pub fn new(settings: SignInSettings, http: reqwest::Client) -> Self {
        Self {
            settings,
            http: OAuthHttp(http),
            metadata: OnceCell::new(),
            keys: RwLock::new(KeyCache::default()),
        }
    }

    pub fn settings(&self) -> &SignInSettings {
        &self.settings
    }

    /// The URL to send the browser to, and what to remember until it comes back.
    pub async fn begin(&self, next: String) -> Result<(String, PendingSignIn), SignInError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = CsrfToken::new_random().secret().clone();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(["openid", "profile", "email"].map(|s| Scope::new(s.into())))
            .add_extra_param("nonce", &nonce)
            .add_extra_param("response_mode", "query")
            .set_pkce_challenge(challenge)
            .url();
        Ok((
            url.to_string(),
            PendingSignIn {
                state: state.secret().clone(),
                nonce,
                pkce_verifier: verifier.secret().clone(),
                next,
            },
        ))
    }

    /// Exchange the code for tokens and validate the id_token against what was sent.
    pub async fn finish(
        &self,
        code: &str,
        pending: &PendingSignIn,
    ) -> Result<IdClaims, SignInError> {
        let client = self.client().await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(describe_token_error)?;
        let id_token = response.extra_fields().id_token.clone().ok_or_else(|| {
            SignInError::Refused(
                "the answer carried no id_token (is the openid scope granted?)".into(),
            )
        })?;
        // The access token is not needed: the dashboard calls Azure as itself.
        let _ = response.access_token();
        self.validate_id_token(&id_token, &pending.nonce).await
    }

    /// Signature (against the authority's keys), issuer, audience, expiry and nonce.
    pub async fn validate_id_token(
        &self,
        token: &str,
        expected_nonce: &str,
    ) -> Result<IdClaims, SignInError> {
        let metadata = self.metadata().await?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| SignInError::InvalidToken(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(SignInError::InvalidToken(format!(
                "unexpected algorithm {:?}",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| SignInError::InvalidToken("the token names no key (kid)".into()))?;
        let key = self.key(&kid, &metadata.jwks_uri).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_issuer(&[&metadata.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
            .map_err(|e| SignInError::InvalidToken(e.to_string()))?
            .claims;
        if claims.nonce.as_deref() != Some(expected_nonce) {
            return Err(SignInError::InvalidToken(
                "the nonce does not match this sign-in".into(),
            ));
        }
        Ok(claims)
    }

    async fn key(&self, kid: &str, jwks_uri: &str) -> Result<DecodingKey, SignInError> {
        if let Some(key) = self.keys.read().await.keys.get(kid) {
            return Ok(key.clone());
        }
        let mut cache = self.keys.write().await;
        let recently = cache
            .fetched_at
            .is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL);
        if !cache.keys.contains_key(kid) && !recently {
            cache.keys = self.fetch_keys(jwks_uri).await?;
            cache.fetched_at = Some(Instant::now());
        }
        cache.keys.get(kid).cloned().ok_or_else(|| {
            SignInError::InvalidToken(format!(
                "no signing key '{kid}' is published by the authority"
            ))
        })
    }

    async fn fetch_keys(
        &self,
        jwks_uri: &str,
    ) -> Result<HashMap<String, DecodingKey>, SignInError> {
        let set: JwkSet = self.get_json(jwks_uri).await?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect())
    }

    async fn metadata(&self) -> Result<&ProviderMetadata, SignInError> {
        // Fetched on first use and kept; a failure is retried on the next sign-in.
        self.metadata
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/{}/v2.0/.well-known/openid-configuration",
                    self.settings.authority.trim_end_matches('/'),
                    self.settings.tenant_id
                );
                self.get_json::<ProviderMetadata>(&url).await
            })
            .await
    }

    async fn client(&self) -> Result<EntraClient, SignInError> {
        let metadata = self.metadata().await?;
        let bad = |e: url::ParseError| SignInError::Provider(e.to_string());
        let authorize = match &self.settings.browser_authority {
            Some(browser) => metadata.authorization_endpoint.replacen(
                self.settings.authority.trim_end_matches('/'),
                browser.trim_end_matches('/'),
                1,
            ),
            None => metadata.authorization_endpoint.clone(),
        };
        Ok(
            oauth2::Client::new(ClientId::new(self.settings.client_id.clone()))
                .set_client_secret(ClientSecret::new(self.settings.client_secret.clone()))
                .set_auth_uri(AuthUrl::new(authorize).map_err(bad)?)
                .set_token_uri(TokenUrl::new(metadata.token_endpoint.clone()).map_err(bad)?)
                .set_redirect_uri(
                    RedirectUrl::new(self.settings.redirect_url.clone()).map_err(bad)?,
                ),
        )
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, SignInError> {
        let response = self
            .http
            .0
            .get(url)
            .send()
            .await
            .map_err(|e| SignInError::Provider(e.to_string()))?;
        if !response.status().is_success() {
            return Err(SignInError::Provider(format!(
                "{url} answered {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| SignInError::Provider(format!("{url}: {e}")))
    }
}

fn describe_token_error<E: std::error::Error>(
    error: oauth2::RequestTokenError<E, BasicErrorResponse>,
) -> SignInError {
    match error {
        oauth2::RequestTokenError::ServerResponse(response) => SignInError::Refused(format!(
            "{}{}",
            response.error(),
            response
                .error_description()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )),
        other => SignInError::Provider(other.to_string()),
    }
}
