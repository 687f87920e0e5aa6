//! Access tokens: issued by the token endpoint, checked on every ARM request, and the identity
//! they carry (who created a compute).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::util::{base64url_decode, base64url_encode, now_utc, rfc3339};

/// The object id of the dashboard's own service principal in the demo tenant.
pub const SERVICE_PRINCIPAL_OBJECT_ID: &str = "0c5e7a9b-6d8f-4a1c-b3e5-7f9a1b3c5d07";
/// The display name of that service principal.
pub const SERVICE_PRINCIPAL_NAME: &str = "compute-studio";

/// Who is calling: a person (user token) or an application (client credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub object_id: String,
    pub tenant_id: String,
    /// UPN or e-mail of a user, display name of an application.
    pub user_name: String,
    pub is_application: bool,
}

impl Identity {
    pub fn service_principal(tenant_id: &str) -> Self {
        Identity {
            object_id: SERVICE_PRINCIPAL_OBJECT_ID.to_string(),
            tenant_id: tenant_id.to_string(),
            user_name: SERVICE_PRINCIPAL_NAME.to_string(),
            is_application: true,
        }
    }

    /// `systemData.createdByType`.
    pub fn principal_type(&self) -> &'static str {
        if self.is_application {
            "Application"
        } else {
            "User"
        }
    }

    /// Reads `oid`, `tid` and a name from the claims of a JWT, without verifying its signature
    /// (the emulator issued it, or a test forged it on purpose).
    pub fn from_jwt(token: &str) -> Option<Self> {
        let mut parts = token.split('.');
        let (_header, payload) = (parts.next()?, parts.next()?);
        let claims: Value = serde_json::from_slice(&base64url_decode(payload)?).ok()?;
        let claim = |name: &str| claims.get(name).and_then(Value::as_str);
        let user_name = ["upn", "preferred_username", "unique_name", "email", "name"]
            .iter()
            .find_map(|c| claim(c))
            .unwrap_or(SERVICE_PRINCIPAL_NAME);
        Some(Identity {
            object_id: claim("oid")?.to_string(),
            tenant_id: claim("tid")?.to_string(),
            user_name: user_name.to_string(),
            is_application: claim("idtyp") == Some("app"),
        })
    }
}

/// Why a bearer token was refused; each maps to one of ARM's 401 codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenProblem {
    Missing,
    BadFormat,
    Unknown,
    Expired { expired_at: OffsetDateTime },
}

struct IssuedToken {
    expires: Instant,
    expires_at: OffsetDateTime,
}

/// The tokens the token endpoint has issued and when they expire.
#[derive(Default)]
pub struct TokenStore {
    tokens: HashMap<String, IssuedToken>,
}

impl TokenStore {
    /// Issues a JWT-shaped token carrying `identity` (the signature part is random: nothing
    /// verifies it, the store remembers which tokens are genuine).
    pub fn issue(&mut self, identity: &Identity, lifetime: Duration) -> String {
        let now = now_utc();
        let expires_at = now + lifetime;
        let header = json!({ "typ": "JWT", "alg": "RS256", "kid": "emulator" });
        let mut claims = json!({
            "aud": "https://management.azure.com/",
            "iss": format!("https://sts.windows.net/{}/", identity.tenant_id),
            "iat": now.unix_timestamp(),
            "nbf": now.unix_timestamp(),
            "exp": expires_at.unix_timestamp(),
            "oid": identity.object_id,
            "tid": identity.tenant_id,
            "uti": uuid::Uuid::new_v4().simple().to_string(),
            "ver": "1.0",
        });
        if identity.is_application {
            claims["idtyp"] = json!("app");
            claims["app_displayname"] = json!(identity.user_name);
        } else {
            claims["upn"] = json!(identity.user_name);
            claims["scp"] = json!("user_impersonation");
        }
        let signature: [u8; 32] = rand::random();
        let token = format!(
            "{}.{}.{}",
            base64url_encode(header.to_string().as_bytes()),
            base64url_encode(claims.to_string().as_bytes()),
            base64url_encode(&signature)
        );
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                expires: Instant::now() + lifetime,
                expires_at,
            },
        );
        token
    }

    /// Checks an `Authorization` header value.
    pub fn check(&self, header: Option<&str>) -> Result<String, TokenProblem> {
        let header = header.ok_or(TokenProblem::Missing)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(TokenProblem::BadFormat)?;
        let issued = self.tokens.get(token).ok_or(TokenProblem::Unknown)?;
        if Instant::now() >= issued.expires {
            return Err(TokenProblem::Expired {
                expired_at: issued.expires_at,
            });
        }
        Ok(token.to_string())
    }

    /// Forgets expired tokens so a long-running demo does not grow without bound.
    pub fn purge_expired(&mut self) {
        let now = Instant::now();
        self.tokens.retain(|_, t| t.expires > now);
    }
}

/// The ARM message of a token problem, with its code.
pub fn describe(problem: &TokenProblem) -> (&'static str, String) {
    match problem {
        TokenProblem::Missing => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_string(),
        ),
        TokenProblem::BadFormat => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is provided in an invalid format."
                .to_string(),
        ),
        TokenProblem::Unknown => (
            "InvalidAuthenticationToken",
            "The access token is invalid.".to_string(),
        ),
        TokenProblem::Expired { expired_at } => (
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                rfc3339(*expired_at),
                rfc3339(now_utc())
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_carry_identity_and_expire() {
        let mut store = TokenStore::default();
        let sp = Identity::service_principal("tid-1");
        let token = store.issue(&sp, Duration::from_secs(60));
        assert_eq!(Identity::from_jwt(&token), Some(sp));
        assert!(store.check(Some(&format!("Bearer {token}"))).is_ok());
        assert_eq!(store.check(None), Err(TokenProblem::Missing));
        assert_eq!(store.check(Some("Basic x")), Err(TokenProblem::BadFormat));
        assert_eq!(store.check(Some("Bearer nope")), Err(TokenProblem::Unknown));
        let short = store.issue(&Identity::service_principal("t"), Duration::ZERO);
        assert!(matches!(
            store.check(Some(&format!("Bearer {short}"))),
            Err(TokenProblem::Expired { .. })
        ));
    }
}
