//! The emulator's Entra sign-in endpoints, over real HTTP, as an OpenID Connect client uses them.

use base64::Engine;
use serde_json::Value;

use crate::helpers::{browser, empty_config, location, spawn_emulator, urlencode};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn challenge(verifier: &str) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

struct Flow {
    emulator: compute_studio::emulator::RunningEmulator,
    client: reqwest::Client,
    authority: String,
}

impl Flow {
    async fn new() -> Flow {
        let emulator = spawn_emulator(empty_config()).await;
        let authority = format!(
            "{}/{}",
            emulator.base_url,
            emulator.emulator.config().tenant_id
        );
        Flow {
            emulator,
            client: browser(),
            authority,
        }
    }

    fn authorize_url(&self, extra: &str) -> String {
        format!(
            "{}/oauth2/v2.0/authorize?client_id=app&response_type=code&redirect_uri={}&scope=openid%20profile&state=s1&nonce=n1&code_challenge={}&code_challenge_method=S256{extra}",
            self.authority,
            urlencode("http://127.0.0.1:9/auth/callback"),
            challenge(VERIFIER)
        )
    }

    /// A code for the member Alan, through the picker's POST.
    async fn code(&self) -> String {
        let page = self
            .client
            .get(self.authorize_url(""))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for user in compute_studio::emulator::demo::DEMO_USERS {
            assert!(page.contains(user.name), "the picker offers {}", user.name);
        }
        let form: Vec<(String, String)> = page
            .split("<input type=\"hidden\" name=\"")
            .skip(1)
            .map(|rest| {
                let name = rest.split('"').next().unwrap().to_string();
                let value = rest
                    .split("value=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .replace("&amp;", "&");
                (name, value)
            })
            .chain([(
                "user_object_id".to_string(),
                compute_studio::emulator::demo::DEMO_USERS[2]
                    .object_id
                    .to_string(),
            )])
            .collect();
        let chosen = self
            .client
            .post(format!("{}/oauth2/v2.0/authorize", self.authority))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(chosen.status(), 302);
        let back = location(&chosen);
        assert!(
            back.starts_with("http://127.0.0.1:9/auth/callback?code="),
            "{back}"
        );
        assert!(back.ends_with("&state=s1"), "{back}");
        back.split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string()
    }

    async fn redeem(&self, code: &str, verifier: &str, redirect: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/oauth2/v2.0/token", self.authority))
            .basic_auth("app", Some("secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code_verifier", verifier),
                ("redirect_uri", redirect),
            ])
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

#[tokio::test]
async fn discovery_and_keys_describe_the_authority() {
    let flow = Flow::new().await;
    let config: Value = flow
        .client
        .get(format!(
            "{}/v2.0/.well-known/openid-configuration",
            flow.authority
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["issuer"], format!("{}/v2.0", flow.authority));
    assert_eq!(
        config["authorization_endpoint"],
        format!("{}/oauth2/v2.0/authorize", flow.authority)
    );
    let keys: Value = flow
        .client
        .get(config["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys["keys"][0]["kty"], "RSA");
    assert_eq!(keys["keys"][0]["alg"], "RS256");

    let wrong = flow
        .client
        .get(format!(
            "{}/other-tenant/v2.0/.well-known/openid-configuration",
            flow.emulator.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("AADSTS90002"));
}

#[tokio::test]
async fn a_code_is_redeemed_once_with_the_right_verifier() {
    let flow = Flow::new().await;
    let redirect = "http://127.0.0.1:9/auth/callback";

    let code = flow.code().await;
    let (status, wrong) = flow
        .redeem(
            &code,
            "another-verifier-that-is-long-enough-1234567",
            redirect,
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        wrong["error_description"]
            .as_str()
            .unwrap()
            .contains("AADSTS501481")
    );

    let code = flow.code().await;
    let (status, wrong) = flow
        .redeem(&code, VERIFIER, "http://127.0.0.1:9/elsewhere")
        .await;
    assert_eq!(
        (status, wrong["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let code = flow.code().await;
    let (status, tokens) = flow.redeem(&code, VERIFIER, redirect).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["id_token"].as_str().unwrap().split('.').count() == 3);
    let (status, again) = flow.redeem(&code, VERIFIER, redirect).await;
    assert_eq!(status, 400);
    assert!(
        again["error_description"]
            .as_str()
            .unwrap()
            .contains("AADSTS54005")
    );
}

#[tokio::test]
async fn bad_authorize_requests_are_refused_as_entra_does() {
    let flow = Flow::new().await;
    let no_client = flow
        .client
        .get(format!(
            "{}/oauth2/v2.0/authorize?response_type=code",
            flow.authority
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(no_client.status(), 400, "an error page, never a redirect");

    let token_flow = flow
        .client
        .get(
            flow.authorize_url("")
                .replace("response_type=code", "response_type=token"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(token_flow.status(), 302);
    assert!(location(&token_flow).contains("error=unsupported_response_type"));

    let silent = flow
        .client
        .get(flow.authorize_url("&prompt=none&login_hint=nobody%40example.com"))
        .send()
        .await
        .unwrap();
    assert!(location(&silent).contains("error=login_required"));
}
