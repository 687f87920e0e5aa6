//! id_token validation: signature against the authority's JWKS, issuer, audience, expiry and
//! nonce. Tokens are made with the emulator's signing helpers, so only one thing is wrong in each.

use compute_studio::emulator::demo::DEMO_USERS;
use compute_studio::emulator::signin::testing::{forge_id_token, sign_id_token};
use compute_studio::web::auth::{SignIn, SignInSettings};
use serde_json::{Value, json};

use crate::helpers::{empty_config, spawn_emulator};

const CLIENT_ID: &str = "compute-studio-tests";
const NONCE: &str = "n-0S6_WzA2Mj";

async fn sign_in_client() -> (compute_studio::emulator::RunningEmulator, SignIn) {
    let emulator = spawn_emulator(empty_config()).await;
    let settings = SignInSettings {
        authority: emulator.base_url.clone(),
        tenant_id: emulator.emulator.config().tenant_id.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: "not-used-here".into(),
        redirect_url: "http://127.0.0.1:1/auth/callback".into(),
        browser_authority: None,
    };
    (emulator, SignIn::new(settings, reqwest::Client::new()))
}

fn claims(emulator: &compute_studio::emulator::RunningEmulator) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let user = &DEMO_USERS[2];
    json!({
        "aud": CLIENT_ID,
        "iss": format!("{}/{}/v2.0", emulator.base_url, emulator.emulator.config().tenant_id),
        "iat": now, "nbf": now, "exp": now + 3600,
        "oid": user.object_id, "tid": user.tenant_id, "name": user.name,
        "preferred_username": user.email, "roles": ["ComputeStudio.Member"], "nonce": NONCE,
    })
}

#[tokio::test]
async fn a_well_formed_token_is_accepted() {
    let (emulator, sign_in) = sign_in_client().await;
    let token = sign_id_token(&claims(&emulator));
    let claims = sign_in
        .validate_id_token(&token, NONCE)
        .await
        .expect("valid");
    assert_eq!(claims.oid, DEMO_USERS[2].object_id);
    assert_eq!(claims.roles, ["ComputeStudio.Member"]);
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let (emulator, sign_in) = sign_in_client().await;
    let good = claims(&emulator);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    let cases = [
        (
            "a signature from another key",
            forge_id_token(&good, None),
            "InvalidSignature",
        ),
        (
            "another audience",
            sign_id_token(&with("aud", json!("someone-else"))),
            "InvalidAudience",
        ),
        (
            "another issuer",
            sign_id_token(&with("iss", json!("https://login.example/other/v2.0"))),
            "InvalidIssuer",
        ),
        (
            "an expired token",
            sign_id_token(&with("exp", json!(now - 3600))),
            "ExpiredSignature",
        ),
        (
            "a wrong nonce",
            sign_id_token(&with("nonce", json!("another-sign-in"))),
            "nonce",
        ),
        (
            "an unknown key id",
            forge_id_token(&good, Some("no-such-kid")),
            "no signing key",
        ),
    ];
    for (what, token, expected) in cases {
        let error = sign_in
            .validate_id_token(&token, NONCE)
            .await
            .expect_err(what)
            .to_string();
        assert!(error.contains(expected), "{what}: {error}");
    }
    let error = sign_in
        .validate_id_token("not.a.jwt", NONCE)
        .await
        .expect_err("garbage");
    assert!(error.to_string().contains("not valid"));
}
