//! Integration tests of the ARM emulator, over real HTTP, the way the dashboard talks to Azure.

use std::time::Duration;

use compute_studio::emulator::demo::DEMO_USERS;
use compute_studio::emulator::{
    Emulator, EmulatorConfig, Fault, RunningEmulator, SPEC_EXAMPLE_SUBNET_IDS, Seed,
};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

const API: &str = "2025-06-01";
const NETWORK_API: &str = "2024-05-01";
const IDENTITY_API: &str = "2023-01-31";
const AKS_API: &str = "2024-09-01";

/// The three lists of other providers: path under the subscription, api-version, items seeded
/// by `EmulatorConfig::for_tests()`.
const PROVIDER_LISTS: [(&str, &str, usize); 3] = [
    (
        "/providers/Microsoft.Network/virtualNetworks",
        NETWORK_API,
        4,
    ),
    (
        "/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
        IDENTITY_API,
        2,
    ),
    (
        "/providers/Microsoft.ContainerService/managedClusters",
        AKS_API,
        3,
    ),
];

struct Env {
    running: RunningEmulator,
    client: Client,
    token: String,
}

impl Env {
    async fn start() -> Env {
        Env::start_with(EmulatorConfig::for_tests()).await
    }

    async fn start_with(config: EmulatorConfig) -> Env {
        let running = Emulator::spawn(config, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("emulator binds");
        let client = Client::new();
        let token = fetch_token(&client, &running).await;
        Env {
            running,
            client,
            token,
        }
    }

    fn emulator(&self) -> &Emulator {
        &self.running.emulator
    }

    fn workspace_url(&self, rest: &str) -> String {
        let c = self.emulator().config();
        format!(
            "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}{rest}",
            self.running.base_url, c.subscription_id, c.resource_group, c.workspace
        )
    }

    fn location_url(&self, rest: &str) -> String {
        let c = self.emulator().config();
        format!(
            "{}/subscriptions/{}/providers/Microsoft.MachineLearningServices/locations/{}{rest}",
            self.running.base_url, c.subscription_id, c.location
        )
    }

    /// `{base}/subscriptions/{sub}{rest}?api-version={api}`.
    fn subscription_url(&self, rest: &str, api: &str) -> String {
        let c = self.emulator().config();
        format!(
            "{}/subscriptions/{}{rest}?api-version={api}",
            self.running.base_url, c.subscription_id
        )
    }

    /// Every item of a paged list, following `nextLink`, and how many pages it took.
    async fn list_all(&self, first: &str) -> (Vec<Value>, usize) {
        let mut url = first.to_string();
        let (mut items, mut pages) = (Vec::new(), 0);
        loop {
            let (status, body) = json_of(self.get(&url).await).await;
            assert_eq!(status, StatusCode::OK, "{url}: {body}");
            pages += 1;
            items.extend(body["value"].as_array().expect("a value array").clone());
            match body.get("nextLink").and_then(Value::as_str) {
                Some(next) => url = next.to_string(),
                None => return (items, pages),
            }
        }
    }

    /// The ARM id of a seeded subnet.
    fn subnet_id(&self, vnet: &str, subnet: &str) -> String {
        let c = self.emulator().config();
        let seed = c
            .virtual_networks
            .iter()
            .find(|v| v.name == vnet)
            .expect("a seeded network");
        seed.subnet_id(&c.subscription_id, subnet)
    }

    /// The ARM id of the first seeded user-assigned identity.
    fn identity_id(&self) -> String {
        let c = self.emulator().config();
        c.user_assigned_identities[0].id(&c.subscription_id)
    }

    fn compute_url(&self, name: &str, rest: &str) -> String {
        format!(
            "{}?api-version={API}",
            self.workspace_url(&format!("/computes/{name}{rest}"))
        )
    }

    async fn send(&self, method: Method, url: &str, body: Option<Value>) -> Response {
        let mut request = self.client.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    async fn get(&self, url: &str) -> Response {
        self.send(Method::GET, url, None).await
    }

    async fn get_compute(&self, name: &str) -> (StatusCode, Value) {
        json_of(self.get(&self.compute_url(name, "")).await).await
    }

    async fn put_compute(&self, name: &str, body: Value) -> Response {
        self.send(Method::PUT, &self.compute_url(name, ""), Some(body))
            .await
    }

    /// Creates an instance and waits until its creation has finished.
    async fn create_instance(&self, name: &str, vm_size: &str) -> Value {
        let response = self.put_compute(name, instance_body(vm_size)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {name}");
        self.wait(&response).await
    }

    /// Polls the Azure-AsyncOperation URL of a response until the operation is terminal.
    async fn wait(&self, response: &Response) -> Value {
        let url = header(response, "azure-asyncoperation").expect("Azure-AsyncOperation");
        for _ in 0..200 {
            let (status, body) = json_of(self.get(&url).await).await;
            assert_eq!(status, StatusCode::OK);
            if body["status"] != "InProgress" {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("operation did not finish");
    }

    async fn action(&self, name: &str, action: &str) -> Response {
        self.send(
            Method::POST,
            &self.compute_url(name, &format!("/{action}")),
            None,
        )
        .await
    }

    async fn state(&self, name: &str) -> String {
        let (_, body) = self.get_compute(name).await;
        body["properties"]["properties"]["state"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

async fn fetch_token(client: &Client, running: &RunningEmulator) -> String {
    let tenant = &running.emulator.config().tenant_id;
    let response = client
        .post(format!("{}/{tenant}/oauth2/v2.0/token", running.base_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "app-id"),
            ("client_secret", "secret"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn instance_body(vm_size: &str) -> Value {
    json!({
        "location": "westeurope",
        "properties": {
            "computeType": "ComputeInstance",
            "properties": { "vmSize": vm_size }
        }
    })
}

fn cluster_body(vm_size: &str, min: i64, max: i64) -> Value {
    json!({
        "location": "westeurope",
        "properties": {
            "computeType": "AmlCompute",
            "properties": {
                "vmSize": vm_size,
                "scaleSettings": { "minNodeCount": min, "maxNodeCount": max }
            }
        }
    })
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

// ----- token endpoint and request checks ------------------------------------------------------

#[tokio::test]
async fn token_endpoint_checks_tenant_grant_and_client() {
    let env = Env::start().await;
    let tenant = env.emulator().config().tenant_id.clone();
    let post = |tenant: String, form: Vec<(&'static str, &'static str)>| {
        let client = env.client.clone();
        let url = format!("{}/{tenant}/oauth2/v2.0/token", env.running.base_url);
        async move { json_of(client.post(url).form(&form).send().await.unwrap()).await }
    };
    let good = vec![
        ("grant_type", "client_credentials"),
        ("client_id", "app"),
        ("client_secret", "s"),
        ("scope", "https://management.azure.com/.default"),
    ];
    let (status, body) = post(tenant.clone(), good.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].as_str().unwrap().len() > 20);

    let (status, body) = post("11111111-2222-3333-4444-555555555555".into(), good.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS90002: Tenant")
    );

    let mut bad_grant = good.clone();
    bad_grant[0] = ("grant_type", "password");
    let (status, body) = post(tenant.clone(), bad_grant).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");

    let no_secret: Vec<_> = good
        .iter()
        .filter(|(k, _)| *k != "client_secret")
        .cloned()
        .collect();
    let (status, body) = post(tenant, no_secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn arm_requires_a_valid_token() {
    let env = Env::start().await;
    let url = format!("{}?api-version={API}", env.workspace_url("/computes"));
    let response = env.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        header(&response, "www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    let (_, body) = json_of(response).await;
    assert_eq!(error_code(&body), "AuthenticationFailed");

    let response = env
        .client
        .get(&url)
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "InvalidAuthenticationToken");

    let (status, _) = json_of(env.get(&url).await).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let mut config = EmulatorConfig::for_tests();
    config.token_lifetime = Duration::from_millis(1);
    let env = Env::start_with(config).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let url = format!("{}?api-version={API}", env.workspace_url("/computes"));
    let (status, body) = json_of(env.get(&url).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "ExpiredAuthenticationToken");
}

#[tokio::test]
async fn api_version_is_required_and_checked() {
    let env = Env::start().await;
    let base = env.workspace_url("/computes");
    let (status, body) = json_of(env.get(&base).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "MissingApiVersionParameter");
    for bad in ["banana", "2019-01-01", "2025-02-30"] {
        let (status, body) = json_of(env.get(&format!("{base}?api-version={bad}")).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(&body), "InvalidApiVersionParameter");
        assert!(body["error"]["message"].as_str().unwrap().contains(bad));
    }
    let (status, _) = json_of(
        env.get(&format!("{base}?api-version=2025-07-01-preview"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn arm_headers_and_wrong_scopes() {
    let env = Env::start().await;
    let url = format!("{}?api-version={API}", env.workspace_url("/computes"));
    let response = env
        .client
        .get(&url)
        .bearer_auth(&env.token)
        .header("x-ms-client-request-id", "my-correlation")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "x-ms-correlation-request-id").unwrap(),
        "my-correlation"
    );
    assert!(header(&response, "x-ms-request-id").is_some());
    assert!(header(&response, "x-ms-ratelimit-remaining-subscription-reads").is_some());
    assert_eq!(
        header(&response, "content-type").unwrap(),
        "application/json; charset=utf-8"
    );

    let c = env.emulator().config().clone();
    let base = &env.running.base_url;
    let cases = [
        (
            format!(
                "{base}/subscriptions/99999999-0000-0000-0000-000000000000/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}/computes?api-version={API}",
                c.resource_group, c.workspace
            ),
            "SubscriptionNotFound",
        ),
        (
            format!(
                "{base}/subscriptions/{}/resourceGroups/other-rg/providers/Microsoft.MachineLearningServices/workspaces/{}/computes?api-version={API}",
                c.subscription_id, c.workspace
            ),
            "ResourceGroupNotFound",
        ),
        (
            format!(
                "{base}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/other-ws/computes?api-version={API}",
                c.subscription_id, c.resource_group
            ),
            "ResourceNotFound",
        ),
    ];
    for (url, code) in cases {
        let (status, body) = json_of(env.get(&url).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{code}");
        assert_eq!(error_code(&body), code);
    }
    // Path literals are case-insensitive in ARM.
    let lower = format!(
        "{base}/subscriptions/{}/resourcegroups/{}/providers/microsoft.machinelearningservices/workspaces/{}/computes?api-version={API}",
        c.subscription_id,
        c.resource_group.to_uppercase(),
        c.workspace
    );
    let (status, _) = json_of(env.get(&lower).await).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = env.get_compute("no-such-box").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "ResourceNotFound");
}

// ----- list, create, lifecycle --------------------------------------------------------------

#[tokio::test]
async fn list_is_paged_with_next_links() {
    let mut config = EmulatorConfig::for_tests();
    config.page_size = 2;
    let env = Env::start_with(config).await;
    for i in 0..5 {
        env.emulator().insert_raw(json!({
            "name": format!("raw-box-{}", (b'a' + i) as char),
            "properties": { "computeType": "ComputeInstance", "provisioningState": "Succeeded" }
        }));
    }
    let mut url = format!("{}?api-version={API}", env.workspace_url("/computes"));
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = json_of(env.get(&url).await).await;
        assert_eq!(status, StatusCode::OK);
        pages += 1;
        for item in body["value"].as_array().unwrap() {
            names.push(item["name"].as_str().unwrap().to_string());
        }
        match body.get("nextLink").and_then(Value::as_str) {
            Some(next) => {
                assert!(next.starts_with(&env.running.base_url));
                assert!(next.contains("api-version=2025-06-01"));
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        names,
        [
            "raw-box-a",
            "raw-box-b",
            "raw-box-c",
            "raw-box-d",
            "raw-box-e"
        ]
    );
}

#[tokio::test]
async fn create_instance_goes_from_creating_to_running() {
    let env = Env::start().await;
    let response = env
        .put_compute("Ada-Box", instance_body("Standard_DS3_v2"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let async_url = header(&response, "azure-asyncoperation").unwrap();
    assert!(async_url.contains("/computeOperationsStatus/"));
    assert!(async_url.contains("api-version=2025-06-01"));
    assert!(header(&response, "retry-after").is_some());
    let (_, created) = json_of(response).await;
    assert_eq!(created["name"], "Ada-Box");
    assert_eq!(
        created["type"],
        "Microsoft.MachineLearningServices/workspaces/computes"
    );
    assert_eq!(created["properties"]["provisioningState"], "Creating");

    // Names are case-insensitive in URLs; the original casing is echoed.
    let (status, body) = env.get_compute("ada-box").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "Ada-Box");
    assert_eq!(body["properties"]["properties"]["state"], "Creating");

    let (status, operation) = json_of(env.get(&async_url).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(operation["status"], "InProgress");
    let finished = env.wait_on(&async_url).await;
    assert_eq!(finished["status"], "Succeeded");
    assert!(finished["endTime"].is_string());

    let (_, body) = env.get_compute("ada-box").await;
    let inner = &body["properties"]["properties"];
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(inner["state"], "Running");
    assert_eq!(inner["lastOperation"]["operationName"], "Create");
    assert_eq!(inner["lastOperation"]["operationStatus"], "Succeeded");
    assert_eq!(inner["sshSettings"]["adminUserName"], "azureuser");
    assert_eq!(inner["sshSettings"]["sshPort"], 22);
    assert_eq!(inner["computeInstanceAuthorizationType"], "personal");
    assert_eq!(inner["createdBy"]["userName"], "compute-studio");
    assert!(
        inner["applications"][0]["endpointUri"]
            .as_str()
            .unwrap()
            .starts_with("https://ada-box.westeurope.instances.azureml.ms/")
    );
    assert!(
        inner["connectivityEndpoints"]["privateIpAddress"]
            .as_str()
            .unwrap()
            .starts_with("10.0.")
    );
    assert_eq!(body["systemData"]["createdByType"], "Application");
}

impl Env {
    async fn wait_on(&self, url: &str) -> Value {
        for _ in 0..200 {
            let (_, body) = json_of(self.get(url).await).await;
            if body["status"] != "InProgress" {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("operation did not finish");
    }
}

#[tokio::test]
async fn failing_size_ends_in_create_failed() {
    let env = Env::start().await;
    let response = env
        .put_compute("doomed-box", instance_body("Standard_FAIL_v1"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = env.wait(&response).await;
    assert_eq!(location["status"], "Failed");
    assert_eq!(location["error"]["code"], "AllocationFailed");
    let (_, body) = env.get_compute("doomed-box").await;
    assert_eq!(body["properties"]["provisioningState"], "Failed");
    assert_eq!(body["properties"]["properties"]["state"], "CreateFailed");
    assert_eq!(
        body["properties"]["provisioningErrors"][0]["error"]["code"],
        "AllocationFailed"
    );
    assert_eq!(
        body["properties"]["properties"]["lastOperation"]["operationStatus"],
        "CreateFailed"
    );
}

#[tokio::test]
async fn names_sizes_and_bodies_are_validated() {
    let env = Env::start().await;
    env.create_instance("dup-box", "Standard_DS11_v2").await;
    let (status, body) = json_of(
        env.put_compute("DUP-BOX", instance_body("Standard_DS11_v2"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "Conflict");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unique across all existing computes")
    );

    let (status, body) = json_of(
        env.put_compute("box-1", instance_body("Standard_DS11_v2"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "ValidationError");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Compute name 'box-1' is not available. Reason: Invalid. Message: "),
        "{message}"
    );
    assert!(message.contains("'-' followed only by digits"), "{message}");

    let (status, body) = json_of(
        env.put_compute("odd-box", instance_body("Standard_Imaginary_v9"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Standard_Imaginary_v9")
    );

    let (status, _) = json_of(env.put_compute("odd-box", json!({"properties": {}})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let response = env
        .client
        .put(env.compute_url("odd-box", ""))
        .bearer_auth(&env.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let ssh = json!({"properties": {"computeType": "ComputeInstance", "properties": {
        "vmSize": "Standard_DS11_v2", "sshSettings": {"sshPublicAccess": "Enabled"}}}});
    let (status, _) = json_of(env.put_compute("ssh-box", ssh).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for (min, max) in [(2, 1), (-1, 2), (0, 0)] {
        let (status, _) = json_of(
            env.put_compute("bad-cluster", cluster_body("Standard_DS3_v2", min, max))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{min}..{max}");
    }
}

#[tokio::test]
async fn quota_is_shared_by_instances_and_clusters() {
    let env = Env::start().await;
    // The A100 family has 24 vCPUs of quota; one NC24ads_A100_v4 uses it all.
    env.create_instance("gpu-box", "Standard_NC24ads_A100_v4")
        .await;
    let (status, body) = json_of(
        env.put_compute("gpu-box-two", instance_body("Standard_NC24ads_A100_v4"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "QuotaExceeded");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Standard NCADSA100v4 Family vCPU quota of 24"),
        "{message}"
    );
    assert!(message.contains("Current usage is 24"), "{message}");

    // A cluster needs room for at least one node even with minNodeCount 0.
    let (status, body) = json_of(
        env.put_compute(
            "gpu-cluster",
            cluster_body("Standard_NC24ads_A100_v4", 0, 2),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "QuotaExceeded");

    // A stopped instance keeps its quota.
    let response = env.action("gpu-box", "stop").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    env.wait(&response).await;
    assert_eq!(env.state("gpu-box").await, "Stopped");
    let (status, _) = json_of(
        env.put_compute(
            "gpu-cluster",
            cluster_body("Standard_NC24ads_A100_v4", 0, 2),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A failed instance does not.
    let (status, _) = json_of(
        env.put_compute("fail-box", instance_body("Standard_FAIL_v1"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let usages_url = format!("{}?api-version={API}", env.location_url("/usages"));
    let (status, body) = json_of(env.get(&usages_url).await).await;
    assert_eq!(status, StatusCode::OK);
    let usage = |name: &str| {
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"]["value"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("usage {name}"))
    };
    assert_eq!(usage("standardNCADSA100v4Family")["currentValue"], 24);
    assert_eq!(usage("standardNCADSA100v4Family")["limit"], 24);
    assert_eq!(
        usage("standardNCADSA100v4Family")["type"],
        "Microsoft.MachineLearningServices/vmFamily/usages"
    );
    assert_eq!(
        usage("TotalCores")["type"],
        "Microsoft.MachineLearningServices/totalCores/usages"
    );

    // Clusters count their nodes: a DS3_v2 cluster with min 2 nodes uses 8 vCPUs.
    let response = env
        .put_compute("cpu-cluster", cluster_body("Standard_DS3_v2", 2, 4))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    env.wait(&response).await;
    let (_, body) = json_of(env.get(&usages_url).await).await;
    let ds = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"]["value"] == "standardDSv2Family")
        .unwrap()
        .clone();
    assert_eq!(ds["currentValue"], 8);
    let total = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"]["value"] == "TotalCores")
        .unwrap()
        .clone();
    assert_eq!(total["currentValue"], 32);
}

#[tokio::test]
async fn power_actions_follow_the_state_machine() {
    let env = Env::start().await;
    env.create_instance("power-box", "Standard_DS11_v2").await;

    let (status, body) = json_of(env.action("power-box", "start").await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("only allowed when the instance power-box is in 'stopped' state"),
        "{message}"
    );
    assert!(message.contains("Running"), "{message}");

    let response = env.action("power-box", "stop").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = header(&response, "location").unwrap();
    assert!(header(&response, "retry-after").is_some());
    assert_eq!(env.state("power-box").await, "Stopping");
    let (status, _) = json_of(env.get(&location).await).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // A second stop while stopping is refused.
    assert_eq!(
        env.action("power-box", "stop").await.status(),
        StatusCode::CONFLICT
    );
    env.wait(&response).await;
    let (status, _) = json_of(env.get(&location).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(env.state("power-box").await, "Stopped");

    assert_eq!(
        env.action("power-box", "restart").await.status(),
        StatusCode::CONFLICT
    );
    let response = env.action("power-box", "start").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(env.state("power-box").await, "Starting");
    env.wait(&response).await;
    assert_eq!(env.state("power-box").await, "Running");

    let response = env.action("power-box", "restart").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(env.state("power-box").await, "Restarting");
    env.wait(&response).await;
    let (_, body) = env.get_compute("power-box").await;
    assert_eq!(body["properties"]["properties"]["state"], "Running");
    assert_eq!(
        body["properties"]["properties"]["lastOperation"]["operationName"],
        "Restart"
    );
    assert_eq!(
        body["properties"]["properties"]["lastOperation"]["operationTrigger"],
        "User"
    );

    // Power actions are for instances only.
    let response = env
        .put_compute("power-cluster", cluster_body("Standard_DS3_v2", 0, 2))
        .await;
    env.wait(&response).await;
    assert_eq!(
        env.action("power-cluster", "start").await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn delete_is_accepted_then_the_compute_is_gone() {
    let env = Env::start().await;
    env.create_instance("gone-box", "Standard_DS11_v2").await;
    let missing_action = env
        .send(Method::DELETE, &env.compute_url("gone-box", ""), None)
        .await;
    assert_eq!(missing_action.status(), StatusCode::BAD_REQUEST);

    let url = format!(
        "{}&underlyingResourceAction=Delete",
        env.compute_url("gone-box", "")
    );
    let response = env.send(Method::DELETE, &url, None).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = header(&response, "location").unwrap();
    assert!(location.contains("/computeOperationsResult/"));
    assert!(header(&response, "x-ms-ratelimit-remaining-subscription-deletes").is_some());
    let (_, body) = env.get_compute("gone-box").await;
    assert_eq!(body["properties"]["provisioningState"], "Deleting");
    env.wait(&response).await;
    let (status, _) = env.get_compute("gone-box").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json_of(env.get(&location).await).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        env.send(Method::DELETE, &url, None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        env.emulator().request_count("DELETE", "/computes/gone-box"),
        3
    );
}

#[tokio::test]
async fn patch_changes_cluster_scale_settings() {
    let env = Env::start().await;
    let response = env
        .put_compute("scale-cluster", cluster_body("Standard_DS3_v2", 0, 2))
        .await;
    env.wait(&response).await;
    let (_, body) = env.get_compute("scale-cluster").await;
    assert_eq!(
        body["properties"]["properties"]["allocationState"],
        "Steady"
    );
    assert_eq!(body["properties"]["properties"]["currentNodeCount"], 0);

    let patch = json!({"properties": {"properties": {"scaleSettings": {
        "maxNodeCount": 4, "minNodeCount": 2, "nodeIdleTimeBeforeScaleDown": "PT5M"}}}});
    let response = env
        .send(
            Method::PATCH,
            &env.compute_url("scale-cluster", ""),
            Some(patch),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "location").is_some());
    let waited = env.wait(&response).await;
    assert_eq!(waited["status"], "Succeeded");
    let (_, body) = env.get_compute("scale-cluster").await;
    let inner = &body["properties"]["properties"];
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(inner["allocationState"], "Steady");
    assert_eq!(inner["scaleSettings"]["maxNodeCount"], 4);
    assert_eq!(inner["currentNodeCount"], 2);
    assert_eq!(inner["targetNodeCount"], 2);
    assert_eq!(inner["nodeStateCounts"]["idleNodeCount"], 2);

    let (status, nodes) = json_of(env.action("scale-cluster", "listNodes").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(nodes["nodes"][1]["port"], 50001);

    let bad = json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 1, "minNodeCount": 3}}}});
    let response = env
        .send(
            Method::PATCH,
            &env.compute_url("scale-cluster", ""),
            Some(bad),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    env.create_instance("not-a-cluster", "Standard_DS11_v2")
        .await;
    let patch = json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 2}}}});
    let response = env
        .send(
            Method::PATCH,
            &env.compute_url("not-a-cluster", ""),
            Some(patch),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn put_on_an_existing_compute_updates_it() {
    let env = Env::start().await;
    env.create_instance("upd-box", "Standard_DS11_v2").await;
    let mut body = instance_body("Standard_DS11_v2");
    body["properties"]["description"] = json!("now with a description");
    let response = env.put_compute("upd-box", body).await;
    assert_eq!(response.status(), StatusCode::OK);
    env.wait(&response).await;
    let (_, got) = env.get_compute("upd-box").await;
    assert_eq!(got["properties"]["description"], "now with a description");
    assert_eq!(got["properties"]["properties"]["state"], "Running");

    let (status, body) = json_of(
        env.put_compute("upd-box", instance_body("Standard_DS3_v2"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "BadRequest");
}

// ----- region, faults, raw resources, spec examples ------------------------------------------

#[tokio::test]
async fn vm_sizes_list_the_catalogue() {
    let env = Env::start().await;
    let (status, body) = json_of(
        env.get(&format!(
            "{}?api-version={API}",
            env.location_url("/vmSizes")
        ))
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let sizes = body["value"].as_array().unwrap();
    let ds3 = sizes
        .iter()
        .find(|s| s["name"] == "Standard_DS3_v2")
        .unwrap();
    assert_eq!(ds3["family"], "standardDSv2Family");
    assert_eq!(ds3["vCPUs"], 4);
    assert!(sizes.iter().any(|s| s["name"] == "Standard_FAIL_v1"));
    assert!(
        sizes
            .iter()
            .any(|s| s["name"] == "Standard_NC24ads_A100_v4" && s["gpus"] == 1)
    );
}

#[tokio::test]
async fn throttling_fault_then_normal_service() {
    let env = Env::start().await;
    env.emulator().inject(Fault::Throttle {
        count: 2,
        retry_after_secs: 7,
    });
    let url = format!("{}?api-version={API}", env.workspace_url("/computes"));
    for _ in 0..2 {
        let response = env.get(&url).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&response, "retry-after").unwrap(), "7");
        let (_, body) = json_of(response).await;
        assert_eq!(error_code(&body), "TooManyRequests");
    }
    assert_eq!(env.get(&url).await.status(), StatusCode::OK);
    assert_eq!(env.emulator().request_count("GET", "/computes"), 3);
}

#[tokio::test]
async fn other_faults_mangle_responses() {
    let env = Env::start().await;
    let url = format!("{}?api-version={API}", env.workspace_url("/computes"));
    env.emulator().inject(Fault::ServerError {
        count: 1,
        status: 503,
    });
    env.emulator().inject(Fault::NotJson { count: 1 });
    env.emulator().inject(Fault::Truncated { count: 1 });
    env.emulator().inject(Fault::Latency {
        count: 1,
        delay: Duration::from_millis(50),
    });

    let (status, body) = json_of(env.get(&url).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&body), "ServiceUnavailable");

    let response = env.get(&url).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );

    let response = env.get(&url).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    let started = std::time::Instant::now();
    assert_eq!(env.get(&url).await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(50));
}

#[tokio::test]
async fn raw_computes_of_unknown_types_are_listed_as_is() {
    let env = Env::start().await;
    let raw = json!({
        "id": "/subscriptions/x/computes/quantum-box",
        "name": "quantum-box",
        "type": "Microsoft.MachineLearningServices/workspaces/computes",
        "location": "westeurope",
        "properties": { "computeType": "QuantumAnnealer", "provisioningState": "Succeeded",
                        "properties": { "qubits": 5000, "futureField": {"x": [1, 2]} } }
    });
    env.emulator().insert_raw(raw.clone());
    let (_, list) = json_of(
        env.get(&format!(
            "{}?api-version={API}",
            env.workspace_url("/computes")
        ))
        .await,
    )
    .await;
    assert_eq!(list["value"][0], raw);
    let (status, got) = env.get_compute("quantum-box").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, raw);
}

#[tokio::test]
async fn spec_examples_are_accepted() {
    // The examples name their subnet "test-subnet-resource-id": replay them as they are.
    let mut config = EmulatorConfig::for_tests();
    config.accept_placeholder_subnets = true;
    let env = Env::start_with(config).await;
    // EX1212 createOrUpdate/ComputeInstance.json (vmSize adjusted: STANDARD_NC6 is retired).
    let instance = json!({
        "location": "eastus",
        "properties": {
            "computeType": "ComputeInstance",
            "properties": {
                "vmSize": "STANDARD_DS3_V2",
                "subnet": { "id": "test-subnet-resource-id" },
                "applicationSharingPolicy": "Personal",
                "customServices": [{
                    "docker": { "privileged": true },
                    "environmentVariables": { "test_variable": { "type": "local", "value": "test_value" } },
                    "volumes": [{ "type": "bind", "readOnly": false, "source": "/home/azureuser/cloudfiles", "target": "/home/azureuser/cloudfiles" }],
                    "endpoints": [{ "name": "connect", "target": 8787, "published": 8787, "protocol": "http" }],
                    "image": { "type": "docker", "reference": "ghcr.io/azure/rocker-rstudio-ml-verse:latest" },
                    "name": "rstudio"
                }],
                "sshSettings": { "sshPublicAccess": "Disabled" },
                "computeInstanceAuthorizationType": "personal",
                "personalComputeInstanceSettings": {
                    "assignedUser": { "objectId": "00000000-0000-0000-0000-000000000000", "tenantId": "00000000-0000-0000-0000-000000000000" }
                }
            }
        }
    });
    let response = env.put_compute("compute123", instance).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(env.wait(&response).await["status"], "Succeeded");
    let (_, got) = env.get_compute("compute123").await;
    let inner = &got["properties"]["properties"];
    assert_eq!(inner["customServices"][0]["name"], "rstudio");
    assert_eq!(
        inner["personalComputeInstanceSettings"]["assignedUser"]["objectId"],
        "00000000-0000-0000-0000-000000000000"
    );

    // EX1212 createOrUpdate/BasicAmlCompute.json (vmSize adjusted likewise).
    let cluster = json!({
        "location": "eastus",
        "properties": {
            "computeType": "AmlCompute",
            "properties": {
                "vmSize": "STANDARD_NC6S_V3",
                "vmPriority": "Dedicated",
                "osType": "Windows",
                "virtualMachineImage": { "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup/providers/Microsoft.Compute/galleries/myImageGallery/images/myImageDefinition/versions/0.0.1" },
                "isolatedNetwork": false,
                "scaleSettings": { "maxNodeCount": 1, "minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": "PT5M" },
                "remoteLoginPortPublicAccess": "NotSpecified",
                "enableNodePublicIp": true
            }
        }
    });
    let response = env.put_compute("compute456", cluster).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(env.wait(&response).await["status"], "Succeeded");
    let (_, got) = env.get_compute("compute456").await;
    assert_eq!(got["properties"]["properties"]["osType"], "Windows");
    assert_eq!(got["properties"]["properties"]["allocationState"], "Steady");

    // The spec's PUT-as-update of a cluster (AmlCompute.json).
    let update = json!({"location": "eastus", "properties": {"computeType": "AmlCompute", "description": "some compute",
        "properties": {"scaleSettings": {"maxNodeCount": 4, "minNodeCount": 4, "nodeIdleTimeBeforeScaleDown": "PT5M"}}}});
    let response = env.put_compute("compute456", update).await;
    assert_eq!(response.status(), StatusCode::OK);
    env.wait(&response).await;
    let (_, got) = env.get_compute("compute456").await;
    assert_eq!(got["properties"]["properties"]["currentNodeCount"], 4);
}

#[tokio::test]
async fn secrets_are_never_returned() {
    let env = Env::start().await;
    let body = json!({"properties": {"computeType": "AmlCompute", "properties": {
        "vmSize": "Standard_DS3_v2",
        "scaleSettings": {"maxNodeCount": 1},
        "userAccountCredentials": {"adminUserName": "azureuser", "adminUserPassword": VALID_PASSWORD, "adminUserSshPublicKey": RSA_KEY}}}});
    let response = env.put_compute("secret-cluster", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let text = env
        .get(&env.compute_url("secret-cluster", ""))
        .await
        .text()
        .await
        .unwrap();
    assert!(!text.contains(VALID_PASSWORD));
    assert!(text.contains("adminUserSshPublicKey"));
}

#[tokio::test]
async fn user_tokens_fill_created_by_and_system_data() {
    let env = Env::start().await;
    let grace = &DEMO_USERS[1];
    let token = env.emulator().issue_user_token(grace);
    let response = env
        .client
        .put(env.compute_url("grace-box", ""))
        .bearer_auth(&token)
        .json(&instance_body("Standard_DS11_v2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, got) = env.get_compute("grace-box").await;
    let created_by = &got["properties"]["properties"]["createdBy"];
    assert_eq!(created_by["userId"], grace.object_id);
    assert_eq!(created_by["userOrgId"], grace.tenant_id);
    assert_eq!(created_by["userName"], grace.email);
    assert_eq!(got["systemData"]["createdBy"], grace.email);
    assert_eq!(got["systemData"]["createdByType"], "User");
}

#[tokio::test]
async fn demo_seed_is_lively() {
    let mut config = EmulatorConfig::demo();
    config.demo_activity = None;
    config.seed = Seed::Demo;
    let env = Env::start_with(config).await;
    let (status, list) = json_of(
        env.get(&format!(
            "{}?api-version={API}",
            env.workspace_url("/computes")
        ))
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let items = list["value"].as_array().unwrap();
    let states: Vec<&str> = items
        .iter()
        .filter_map(|c| c["properties"]["properties"]["state"].as_str())
        .collect();
    assert!(states.len() >= 8, "{states:?}");
    for wanted in ["Running", "Stopped", "Creating", "Stopping", "CreateFailed"] {
        assert!(states.contains(&wanted), "{wanted} in {states:?}");
    }
    let clusters = items
        .iter()
        .filter(|c| c["properties"]["computeType"] == "AmlCompute")
        .count();
    assert_eq!(clusters, 2);
}

#[tokio::test]
async fn demo_activity_flips_instances_by_schedule() {
    let mut config = EmulatorConfig::demo();
    config.demo_activity = Some(Duration::from_millis(60));
    let env = Env::start_with(config).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, list) = json_of(
        env.get(&format!(
            "{}?api-version={API}",
            env.workspace_url("/computes")
        ))
        .await,
    )
    .await;
    let moving: Vec<&Value> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            matches!(
                c["properties"]["properties"]["state"].as_str(),
                Some("Starting" | "Stopping")
            )
        })
        .collect();
    // One instance is seeded as Stopping; the activity has moved at least one more.
    assert!(moving.len() >= 2, "{moving:?}");
    assert!(moving.iter().all(|c| {
        matches!(
            c["properties"]["properties"]["lastOperation"]["operationTrigger"].as_str(),
            Some("Schedule" | "IdleShutdown")
        )
    }));
}

// ----- other providers: virtual networks, user-assigned identities, AKS clusters ----------------

#[tokio::test]
async fn virtual_networks_are_listed_as_azure_lists_them() {
    let env = Env::start().await;
    let c = env.emulator().config().clone();
    let url = env.subscription_url(PROVIDER_LISTS[0].0, NETWORK_API);
    let response = env.get(&url).await;
    assert!(header(&response, "x-ms-request-id").is_some());
    assert!(header(&response, "x-ms-ratelimit-remaining-subscription-reads").is_some());
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.get("nextLink").is_none(),
        "one page at the default size"
    );
    let vnets = body["value"].as_array().unwrap();
    assert_eq!(vnets.len(), 4);
    for vnet in vnets {
        let name = vnet["name"].as_str().unwrap();
        let id = vnet["id"].as_str().unwrap();
        assert!(
            id.starts_with(&format!(
                "/subscriptions/{}/resourceGroups/",
                c.subscription_id
            )) && id.ends_with(&format!(
                "/providers/Microsoft.Network/virtualNetworks/{name}"
            )),
            "{id}"
        );
        assert_eq!(vnet["type"], "Microsoft.Network/virtualNetworks");
        assert!(vnet["etag"].as_str().unwrap().starts_with("W/\""));
        assert_eq!(vnet["properties"]["provisioningState"], "Succeeded");
        assert!(
            !vnet["properties"]["addressSpace"]["addressPrefixes"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let subnets = vnet["properties"]["subnets"].as_array().unwrap();
        assert!((2..=3).contains(&subnets.len()), "{name}");
        for subnet in subnets {
            assert_eq!(
                subnet["id"],
                format!("{id}/subnets/{}", subnet["name"].as_str().unwrap())
            );
            assert_eq!(subnet["type"], "Microsoft.Network/virtualNetworks/subnets");
            assert_eq!(subnet["properties"]["provisioningState"], "Succeeded");
            assert!(subnet["properties"]["addressPrefix"].is_string());
        }
    }
    let in_region = vnets.iter().filter(|v| v["location"] == c.location).count();
    assert_eq!(
        in_region, 3,
        "and one elsewhere, for the dashboard to filter out"
    );
    let groups: std::collections::BTreeSet<&str> = vnets
        .iter()
        .filter(|v| v["location"] == c.location)
        .filter_map(|v| v["id"].as_str()?.split('/').nth(4))
        .collect();
    assert_eq!(groups.len(), 2);
    assert!(groups.contains(c.resource_group.as_str()));
}

#[tokio::test]
async fn virtual_networks_are_listed_per_resource_group() {
    let env = Env::start().await;
    let c = env.emulator().config().clone();
    let in_group = |group: &str| {
        env.subscription_url(
            &format!("/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks"),
            NETWORK_API,
        )
    };
    for (group, expected) in [
        (c.resource_group.as_str(), 2),
        ("NETWORK-HUB-RG", 2),
        ("identities-rg", 0),
    ] {
        let (status, body) = json_of(env.get(&in_group(group)).await).await;
        assert_eq!(status, StatusCode::OK, "{group}");
        let vnets = body["value"].as_array().unwrap();
        assert_eq!(vnets.len(), expected, "{group}");
        assert!(vnets.iter().all(|v| {
            v["id"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(&format!("/resourcegroups/{}/", group.to_lowercase()))
        }));
    }
    let (status, body) = json_of(env.get(&in_group("no-such-rg")).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "ResourceGroupNotFound");
}

#[tokio::test]
async fn identities_and_aks_clusters_are_listed_as_azure_lists_them() {
    let env = Env::start().await;
    let c = env.emulator().config().clone();
    let (status, body) = json_of(
        env.get(&env.subscription_url(PROVIDER_LISTS[1].0, IDENTITY_API))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let identities = body["value"].as_array().unwrap();
    assert_eq!(identities.len(), 2);
    for identity in identities {
        assert_eq!(
            identity["type"],
            "Microsoft.ManagedIdentity/userAssignedIdentities"
        );
        assert_eq!(identity["location"], c.location);
        assert!(identity["id"].as_str().unwrap().ends_with(&format!(
            "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            identity["name"].as_str().unwrap()
        )));
        assert_eq!(identity["properties"]["tenantId"], c.tenant_id);
        for field in ["principalId", "clientId"] {
            assert_eq!(identity["properties"][field].as_str().unwrap().len(), 36);
        }
    }

    let (status, body) = json_of(
        env.get(&env.subscription_url(PROVIDER_LISTS[2].0, AKS_API))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let clusters = body["value"].as_array().unwrap();
    assert_eq!(clusters.len(), 3);
    assert_eq!(
        clusters
            .iter()
            .filter(|k| k["location"] == c.location)
            .count(),
        2
    );
    for cluster in clusters {
        assert_eq!(
            cluster["type"],
            "Microsoft.ContainerService/ManagedClusters"
        );
        let p = &cluster["properties"];
        assert_eq!(p["provisioningState"], "Succeeded");
        assert!(p["powerState"]["code"].is_string());
        assert_eq!(p["kubernetesVersion"], "1.30.6");
        assert!(p["fqdn"].as_str().unwrap().ends_with(".azmk8s.io"));
        let first_pool = &p["agentPoolProfiles"][0];
        assert_eq!(first_pool["name"], "nodepool1");
        assert_eq!(first_pool["count"], 3);
        assert_eq!(first_pool["vmSize"], "Standard_D4s_v3");
        assert_eq!(first_pool["mode"], "System");
    }
}

#[tokio::test]
async fn provider_lists_are_paged_with_skiptokens() {
    let mut config = EmulatorConfig::for_tests();
    config.page_size = 1;
    let env = Env::start_with(config).await;
    for (path, api, seeded) in PROVIDER_LISTS {
        let first = env.subscription_url(path, api);
        let (_, body) = json_of(env.get(&first).await).await;
        let next = body["nextLink"].as_str().expect("a nextLink").to_string();
        assert!(next.starts_with(&env.running.base_url), "{next}");
        assert!(next.contains(&format!("api-version={api}")), "{next}");
        assert!(next.contains("$skiptoken="), "{next}");

        let (items, pages) = env.list_all(&first).await;
        assert_eq!((items.len(), pages), (seeded, seeded), "{path}");
        let ids: std::collections::BTreeSet<&str> =
            items.iter().filter_map(|i| i["id"].as_str()).collect();
        assert_eq!(ids.len(), seeded, "no item twice: {path}");

        let (status, body) = json_of(env.get(&format!("{first}&$skiptoken=bogus!")).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("bogus!")
        );
    }
}

#[tokio::test]
async fn provider_lists_make_the_checks_of_every_arm_request() {
    let env = Env::start().await;
    let c = env.emulator().config().clone();
    for (path, api, _) in PROVIDER_LISTS {
        let url = env.subscription_url(path, api);
        let response = env.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(header(&response, "www-authenticate").is_some());
        let (_, body) = json_of(response).await;
        assert_eq!(error_code(&body), "AuthenticationFailed");

        let no_version = url.split('?').next().unwrap().to_string();
        let (status, body) = json_of(env.get(&no_version).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_code(&body), "MissingApiVersionParameter");

        let (status, body) =
            json_of(env.get(&format!("{no_version}?api-version=2024-5-1")).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_code(&body), "InvalidApiVersionParameter");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(api) && !message.contains(API), "{message}");

        let elsewhere = url.replace(&c.subscription_id, "99999999-0000-0000-0000-000000000000");
        let (status, body) = json_of(env.get(&elsewhere).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&body), "SubscriptionNotFound");

        let (status, body) = json_of(env.send(Method::POST, &url, None).await).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(error_code(&body), "MethodNotAllowed");

        // Path literals are case-insensitive, as everywhere in ARM.
        let (status, _) = json_of(
            env.get(
                &url.to_lowercase()
                    .replace(&c.subscription_id.to_lowercase(), &c.subscription_id),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let unknown = env.subscription_url("/providers/Microsoft.Network/loadBalancers", NETWORK_API);
    let (status, _) = json_of(env.get(&unknown).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn provider_lists_suffer_injected_faults() {
    let env = Env::start().await;
    let url = env.subscription_url(PROVIDER_LISTS[0].0, NETWORK_API);
    env.emulator().inject(Fault::Throttle {
        count: 1,
        retry_after_secs: 3,
    });
    let response = env.get(&url).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "retry-after").unwrap(), "3");
    assert_eq!(env.get(&url).await.status(), StatusCode::OK);
}

fn with_subnet(mut body: Value, subnet: Value) -> Value {
    body["properties"]["properties"]["subnet"] = subnet;
    body
}

#[tokio::test]
async fn computes_in_a_subnet_of_the_region_are_created() {
    let env = Env::start().await;
    let subnet = env.subnet_id("ml-vnet", "instances");
    let body = with_subnet(instance_body("Standard_DS11_v2"), json!({ "id": subnet }));
    let response = env.put_compute("vnet-box", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    env.wait(&response).await;
    let (_, got) = env.get_compute("vnet-box").await;
    assert_eq!(got["properties"]["properties"]["subnet"]["id"], subnet);

    // ARM ids are case-insensitive: a subnet written in another case is the same subnet.
    let shouted = env
        .subnet_id("hub-vnet", "data-science")
        .replace("resourceGroups", "resourcegroups")
        .replace("hub-vnet", "HUB-VNET");
    let body = with_subnet(
        cluster_body("Standard_DS3_v2", 0, 2),
        json!({ "id": shouted }),
    );
    let response = env.put_compute("vnet-cluster", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, got) = env.get_compute("vnet-cluster").await;
    assert_eq!(got["properties"]["properties"]["subnet"]["id"], shouted);
}

#[tokio::test]
async fn subnets_azure_would_refuse_are_refused() {
    let env = Env::start().await;
    let known = env.subnet_id("ml-vnet", "training");
    let cases = [
        (
            "malformed",
            known.replace("/subnets/training", ""),
            "LinkedInvalidPropertyId",
            "is invalid",
        ),
        (
            "not a GUID subscription",
            known.replace(&env.emulator().config().subscription_id, "my-subscription"),
            "LinkedInvalidPropertyId",
            "is invalid",
        ),
        (
            "spec placeholder while the switch is off",
            SPEC_EXAMPLE_SUBNET_IDS[0].to_string(),
            "LinkedInvalidPropertyId",
            "is invalid",
        ),
        (
            "unknown subnet",
            known.replace("training", "no-such-subnet"),
            "InvalidSubnet",
            "was not found",
        ),
        (
            "unknown network",
            known.replace("ml-vnet", "no-such-vnet"),
            "InvalidSubnet",
            "was not found",
        ),
        (
            "other region",
            env.subnet_id("hub-vnet-dr", "data-science"),
            "InvalidSubnet",
            "must be in the same region as the workspace (westeurope)",
        ),
    ];
    for (case, id, code, rule) in cases {
        for (kind, body) in [
            ("instance", instance_body("Standard_DS11_v2")),
            ("cluster", cluster_body("Standard_DS3_v2", 0, 2)),
        ] {
            let body = with_subnet(body, json!({ "id": id }));
            let (status, error) = json_of(env.put_compute("refused-box", body).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{case} ({kind})");
            assert_eq!(error_code(&error), code, "{case} ({kind})");
            let message = error["error"]["message"].as_str().unwrap();
            assert!(message.contains(&format!("'{id}'")), "{case}: {message}");
            assert!(message.contains(rule), "{case}: {message}");
        }
    }
    let body = with_subnet(instance_body("Standard_DS11_v2"), json!(known));
    let (status, _) = json_of(env.put_compute("refused-box", body).await).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a subnet is an object with an id"
    );
    let (status, _) = env.get_compute("refused-box").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was created");
}

fn with_identity(mut body: Value, identity: Value) -> Value {
    body["identity"] = identity;
    body
}

#[tokio::test]
async fn cluster_identities_are_checked_and_completed() {
    let env = Env::start().await;
    let c = env.emulator().config().clone();
    let seed = &c.user_assigned_identities[0];
    let id = env.identity_id();
    let cluster = || cluster_body("Standard_DS3_v2", 0, 2);

    let body = with_identity(
        cluster(),
        json!({ "type": "userassigned", "userAssignedIdentities": { &id: {} } }),
    );
    let response = env.put_compute("uai-cluster", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, got) = env.get_compute("uai-cluster").await;
    assert_eq!(got["identity"]["type"], "UserAssigned");
    assert_eq!(
        got["identity"]["userAssignedIdentities"][&id],
        json!({ "principalId": seed.principal_id, "clientId": seed.client_id })
    );

    let body = with_identity(
        cluster(),
        json!({ "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": { &id: {} } }),
    );
    let response = env.put_compute("both-cluster", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, got) = env.get_compute("both-cluster").await;
    assert_eq!(got["identity"]["type"], "SystemAssigned,UserAssigned");
    assert_eq!(got["identity"]["tenantId"], c.tenant_id);
    assert!(got["identity"]["principalId"].is_string());

    let unknown = id.replace(&seed.name, "ghost-identity");
    let refused = [
        (
            json!({ "type": "UserAssigned", "userAssignedIdentities": { &unknown: {} } }),
            "FailedIdentityOperation",
            unknown.clone(),
        ),
        (
            json!({ "type": "UserAssigned", "userAssignedIdentities": { "not-an-id": {} } }),
            "BadRequest",
            "not-an-id".to_string(),
        ),
        (
            json!({ "type": "Everything" }),
            "InvalidIdentityType",
            "'Everything'".to_string(),
        ),
        (
            json!({ "type": "UserAssigned", "userAssignedIdentities": {} }),
            "BadRequest",
            "at least one".to_string(),
        ),
        (
            json!({ "type": "SystemAssigned", "userAssignedIdentities": { &id: {} } }),
            "BadRequest",
            "only allowed with a UserAssigned type".to_string(),
        ),
    ];
    for (identity, code, named) in refused {
        let body = with_identity(cluster(), identity.clone());
        let (status, error) = json_of(env.put_compute("refused-cluster", body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{identity}");
        assert_eq!(error_code(&error), code, "{identity}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(&named), "{message}");
    }
}

// ----- the domain's rules on PUT and PATCH ----------------------------------------------------

/// Keys made with `ssh-keygen` for these tests; their private halves were thrown away.
const ED25519_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOTlGMmFWxsy513cAaDyjKn6Y4SA4Le5fO/3eUu3zrx8 ada@studio";
const RSA_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCzHcKj7jtYYbnFG9EHP6zC8uhFj+Tf9RWP8XTSWzvkVlGENu7IVydQVI2Vc3/JVHQac0C4Wt2MXmPzgFDk+ZKRx4O6eDYuqRpLVcvwEdUyoBFa5YHUFDBOjiOJtf28zani6PbuUipdB60HAiIoAV1IdWKYnptKM1UwcAIDt/V/g5SaUHS8mMq6/bkqDU8UfRBAPpbiqGWBU82V/e/AUhQHr55WVXrJ0wGVPSVHTzMhJ1pHJdI1zvQu1LqPeX+m5q0RT2qtHjdngxy+uIz0zyuS7rFKyJMkUYTmQcNEZq7yUJCoQ0lHpogb8G0zKKPPIkS4+FY6Nho2Le+G00nXaF6mKbtBO94vLjvlSR8Mj3+Zt5SbTXg1EC7hDUbC8LTSaqRGPh03EvSTJvALzHVp2s58y55p6HC6QfoRfTxiFdAX42Y2kKqN5hrCydrKGb8L0CWxpoKsNDxLp+Hh2EuPsxqLoHAHorp1y6rDIbqpvyKdQOKj5Bw7qHAnjt/apoQZscU= grace@studio";
/// 12 to 72 characters of three kinds: a password Azure takes.
const VALID_PASSWORD: &str = "Tr0ub4dor&3-horse";
const OBJECT_ID: &str = "8c2d4f1e-5b6a-4c3d-9e8f-7a6b5c4d3e2f";
const TENANT_ID: &str = "3f2e1d0c-9b8a-4765-8432-10fedcba9876";

/// `instance_body` with one field of `properties.properties` set.
fn instance_with(field: &str, value: Value) -> Value {
    let mut body = instance_body("Standard_DS11_v2");
    body["properties"]["properties"][field] = value;
    body
}

/// `cluster_body` (0 to 2 nodes) with one field of `properties.properties` set.
fn cluster_with(field: &str, value: Value) -> Value {
    let mut body = cluster_body("Standard_DS3_v2", 0, 2);
    body["properties"]["properties"][field] = value;
    body
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Asserts a 400 with `code`, a message that starts with `path` and then says `words`, and
/// `path` as the target; returns the whole body as text (to look for what must not be there).
async fn assert_refused(response: Response, code: &str, path: &str, words: &str) -> String {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error_code(&body), code, "{text}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("{path}: ")), "{message}");
    assert!(message.contains(words), "{path}: {message}");
    assert_eq!(body["error"]["target"], path, "{text}");
    text
}

#[tokio::test]
async fn each_rule_of_the_domain_refuses_a_put_and_names_the_field() {
    let env = Env::start().await;
    let p = |rest: &str| format!("properties.properties.{rest}");
    let schedule_at = |cron: &str, zone: &str| {
        json!({ "computeStartStop": [{
            "action": "Stop", "triggerType": "Cron",
            "cron": { "expression": cron, "timeZone": zone }
        }] })
    };
    let cases = [
        (
            "instance SSH key cut short",
            instance_with(
                "sshSettings",
                json!({ "sshPublicAccess": "Enabled", "adminPublicKey": "ssh-rsa AAAA" }),
            ),
            "ValidationError",
            p("sshSettings.adminPublicKey"),
            "SSH public key",
        ),
        (
            "instance SSH key missing while access is enabled",
            instance_with("sshSettings", json!({ "sshPublicAccess": "Enabled" })),
            "ValidationError",
            p("sshSettings.adminPublicKey"),
            "SSH public key is required",
        ),
        (
            "cluster SSH key in the SSH2 format",
            cluster_with(
                "userAccountCredentials",
                json!({ "adminUserName": "azureuser", "adminUserSshPublicKey":
                    "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"grace@studio\"\nAAAAC3NzaC1lZDI1NTE5AAAAIOTlGMmFWxsy513cAaDyjKn6Y4SA4Le5fO/3eUu3zrx8\n---- END SSH2 PUBLIC KEY ----" }),
            ),
            "ValidationError",
            p("userAccountCredentials.adminUserSshPublicKey"),
            "RFC 4716",
        ),
        (
            "reserved administrator name",
            cluster_with(
                "userAccountCredentials",
                json!({ "adminUserName": "admin", "adminUserSshPublicKey": RSA_KEY }),
            ),
            "ValidationError",
            p("userAccountCredentials.adminUserName"),
            "Azure reserves the administrator user name 'admin'",
        ),
        (
            "administrator name missing",
            cluster_with(
                "userAccountCredentials",
                json!({ "adminUserPassword": VALID_PASSWORD }),
            ),
            "ValidationError",
            p("userAccountCredentials.adminUserName"),
            "Administrator user name is required",
        ),
        (
            "cron expression out of range",
            instance_with("schedules", schedule_at("61 * * * *", "UTC")),
            "ValidationError",
            p("schedules"),
            "schedules.computeStartStop[0].cron.expression '61 * * * *' is not a valid cron expression",
        ),
        (
            "unknown time zone",
            instance_with("schedules", schedule_at("0 19 * * *", "Mars Standard Time")),
            "ValidationError",
            p("schedules"),
            "cron.timeZone 'Mars Standard Time' is not a time zone",
        ),
        (
            "idle shutdown too soon",
            instance_with("idleTimeBeforeShutdown", json!("PT5M")),
            "ValidationError",
            p("idleTimeBeforeShutdown"),
            "between PT15M and P3D",
        ),
        (
            "idle shutdown not a duration",
            instance_with("idleTimeBeforeShutdown", json!("an hour")),
            "ValidationError",
            p("idleTimeBeforeShutdown"),
            "not an ISO 8601 duration",
        ),
        (
            "no nodes at all",
            cluster_with("scaleSettings", json!({ "maxNodeCount": 0 })),
            "ValidationError",
            p("scaleSettings"),
            "Invalid scale settings",
        ),
        (
            "node idle time not a duration",
            cluster_with(
                "scaleSettings",
                json!({ "maxNodeCount": 2, "nodeIdleTimeBeforeScaleDown": "2 minutes" }),
            ),
            "ValidationError",
            p("scaleSettings"),
            "nodeIdleTimeBeforeScaleDown must be an ISO 8601 duration",
        ),
        (
            "inline creation script not in base64",
            instance_with(
                "setupScripts",
                json!({ "scripts": { "creationScript": { "scriptSource": "inline", "scriptData": "git clone x" } } }),
            ),
            "ValidationError",
            p("setupScripts.scripts.creationScript"),
            "must be base64",
        ),
        (
            "startup script timeout in words",
            instance_with(
                "setupScripts",
                json!({ "scripts": { "startupScript": { "scriptSource": "workspaceStorage", "scriptData": "Users/ada/start.sh", "timeout": "10 minutes" } } }),
            ),
            "ValidationError",
            p("setupScripts.scripts.startupScript"),
            "timeout '10 minutes' must be minutes such as 10m",
        ),
        (
            "assigned user named by e-mail",
            instance_with(
                "personalComputeInstanceSettings",
                json!({ "assignedUser": { "objectId": "ada@contoso.com", "tenantId": TENANT_ID } }),
            ),
            "ValidationError",
            p("personalComputeInstanceSettings.assignedUser.objectId"),
            "must be a GUID",
        ),
        (
            "assigned user without a tenant",
            instance_with(
                "personalComputeInstanceSettings",
                json!({ "assignedUser": { "objectId": OBJECT_ID } }),
            ),
            "ValidationError",
            p("personalComputeInstanceSettings.assignedUser.tenantId"),
            "tenant id is required",
        ),
        (
            "identity that is not a resource id",
            with_identity(
                cluster_body("Standard_DS3_v2", 0, 2),
                json!({ "type": "UserAssigned", "userAssignedIdentities": { "trainer": {} } }),
            ),
            "BadRequest",
            "identity".to_string(),
            "The resource id must look like",
        ),
    ];
    for (case, body, code, path, words) in cases {
        let response = env.put_compute("ruled-box", body).await;
        assert_refused(response, code, &path, words).await;
        let (status, _) = env.get_compute("ruled-box").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{case}: nothing was created");
    }
}

#[tokio::test]
async fn refused_passwords_are_never_repeated() {
    let env = Env::start().await;
    for (password, words) in [
        ("hunter2", "must be 12 to 72 characters long"),
        ("alllowercaseletters", "must contain three of"),
        ("Tab\tsep12345A", "control characters"),
    ] {
        let body = cluster_with(
            "userAccountCredentials",
            json!({ "adminUserName": "azureuser", "adminUserPassword": password }),
        );
        let response = env.put_compute("pw-cluster", body).await;
        let text = assert_refused(
            response,
            "ValidationError",
            "properties.properties.userAccountCredentials.adminUserPassword",
            words,
        )
        .await;
        assert!(!text.contains(password), "the password came back: {text}");
        let escaped = serde_json::to_string(password).unwrap();
        assert!(!text.contains(escaped.trim_matches('"')), "{text}");
    }
}

#[tokio::test]
async fn patch_and_update_answer_with_the_same_rules() {
    let env = Env::start().await;
    let response = env
        .put_compute("rule-cluster", cluster_body("Standard_DS3_v2", 0, 2))
        .await;
    env.wait(&response).await;
    let url = env.compute_url("rule-cluster", "");
    let inverted = json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 1, "minNodeCount": 3}}}});
    let response = env.send(Method::PATCH, &url, Some(inverted)).await;
    assert_refused(
        response,
        "ValidationError",
        "properties.properties.scaleSettings",
        "minNodeCount (3) must be between 0 and maxNodeCount (1)",
    )
    .await;
    let one_level_up = json!({"properties": {"scaleSettings": {"maxNodeCount": "two"}}});
    let response = env.send(Method::PATCH, &url, Some(one_level_up)).await;
    assert_refused(
        response,
        "ValidationError",
        "properties.scaleSettings",
        "scaleSettings.maxNodeCount must be an integer",
    )
    .await;
    let update = cluster_with("scaleSettings", json!({ "minNodeCount": 1 }));
    let response = env.put_compute("rule-cluster", update).await;
    assert_refused(
        response,
        "ValidationError",
        "properties.properties.scaleSettings",
        "maxNodeCount is required",
    )
    .await;
    let (_, got) = env.get_compute("rule-cluster").await;
    assert_eq!(
        got["properties"]["properties"]["scaleSettings"]["maxNodeCount"],
        2
    );

    env.create_instance("rule-box", "Standard_DS11_v2").await;
    let update = instance_with("idleTimeBeforeShutdown", json!("P4D"));
    let response = env.put_compute("rule-box", update).await;
    assert_refused(
        response,
        "ValidationError",
        "properties.properties.idleTimeBeforeShutdown",
        "between PT15M and P3D",
    )
    .await;
    let (_, got) = env.get_compute("rule-box").await;
    assert!(got["properties"]["properties"]["idleTimeBeforeShutdown"].is_null());
}

#[tokio::test]
async fn a_fully_loaded_instance_is_accepted_and_read_back_as_sent() {
    let env = Env::start().await;
    let ssh = json!({ "sshPublicAccess": "Enabled", "adminPublicKey": ED25519_KEY });
    let schedules = json!({ "computeStartStop": [
        {
            "status": "Enabled", "action": "Start", "triggerType": "Recurrence",
            "recurrence": {
                "frequency": "Week", "interval": 1, "timeZone": "W. Europe Standard Time",
                "schedule": { "hours": [8], "minutes": [30], "weekDays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"] }
            }
        },
        {
            "status": "Enabled", "action": "Stop", "triggerType": "Cron",
            "cron": { "expression": "0 19 * * 1-5", "timeZone": "W. Europe Standard Time" }
        }
    ] });
    let scripts = json!({ "scripts": { "creationScript": {
        "scriptSource": "inline",
        "scriptData": base64("#!/bin/bash\nset -e\npip install --user polars\n"),
        "scriptArguments": "--quiet",
        "timeout": "10m"
    } } });
    let assigned = json!({ "assignedUser": { "objectId": OBJECT_ID, "tenantId": TENANT_ID } });
    let mut body = instance_body("Standard_DS11_v2");
    let inner = &mut body["properties"]["properties"];
    inner["sshSettings"] = ssh.clone();
    inner["schedules"] = schedules.clone();
    inner["idleTimeBeforeShutdown"] = json!("PT60M");
    inner["setupScripts"] = scripts.clone();
    inner["computeInstanceAuthorizationType"] = json!("personal");
    inner["personalComputeInstanceSettings"] = assigned.clone();

    let response = env.put_compute("loaded-box", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(env.wait(&response).await["status"], "Succeeded");
    let (status, got) = env.get_compute("loaded-box").await;
    assert_eq!(status, StatusCode::OK);
    let inner = &got["properties"]["properties"];
    assert_eq!(inner["state"], "Running");
    assert_eq!(inner["sshSettings"]["sshPublicAccess"], "Enabled");
    assert_eq!(inner["sshSettings"]["adminPublicKey"], ED25519_KEY);
    assert_eq!(inner["schedules"], schedules);
    assert_eq!(inner["idleTimeBeforeShutdown"], "PT60M");
    assert_eq!(inner["setupScripts"], scripts);
    assert_eq!(inner["personalComputeInstanceSettings"], assigned);
}

#[tokio::test]
async fn a_cluster_with_an_ssh_key_and_a_user_assigned_identity_is_accepted() {
    let env = Env::start().await;
    let id = env.identity_id();
    let credentials = json!({ "adminUserName": "azureuser", "adminUserSshPublicKey": RSA_KEY });
    let body = with_identity(
        cluster_with("userAccountCredentials", credentials.clone()),
        json!({ "type": "UserAssigned", "userAssignedIdentities": { &id: {} } }),
    );
    let response = env.put_compute("keyed-cluster", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(env.wait(&response).await["status"], "Succeeded");
    let (_, got) = env.get_compute("keyed-cluster").await;
    let inner = &got["properties"]["properties"];
    assert_eq!(inner["userAccountCredentials"], credentials);
    assert_eq!(inner["remoteLoginPortPublicAccess"], "Enabled");
    assert_eq!(inner["scaleSettings"]["maxNodeCount"], 2);
    assert_eq!(got["identity"]["type"], "UserAssigned");
    assert!(got["identity"]["userAssignedIdentities"][&id]["clientId"].is_string());
}

// ----- inference clusters (AKS) and attached compute ----------------------------------------------

/// A self-signed certificate and its key (PEM), for `names`, valid between the two dates.
fn certificate(
    names: &[&str],
    from: time::OffsetDateTime,
    until: time::OffsetDateTime,
) -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    params.not_before = from;
    params.not_after = until;
    (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
}

fn valid_certificate(names: &[&str]) -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    certificate(
        names,
        now - time::Duration::days(30),
        now + time::Duration::days(365),
    )
}

/// A new AKS cluster: 3 × Standard_D4s_v3 (12 vCPUs), production.
fn aks_body() -> Value {
    json!({
        "location": "westeurope",
        "properties": {
            "computeType": "AKS",
            "properties": {
                "agentCount": 3,
                "agentVmSize": "Standard_D4s_v3",
                "clusterPurpose": "FastProd"
            }
        }
    })
}

fn aks_with(field: &str, value: Value) -> Value {
    let mut body = aks_body();
    body["properties"]["properties"][field] = value;
    body
}

impl Env {
    fn aks_list_url(&self) -> String {
        self.subscription_url(
            "/providers/Microsoft.ContainerService/managedClusters",
            AKS_API,
        )
    }

    async fn aks_cluster_ids(&self) -> Vec<String> {
        let (items, _) = self.list_all(&self.aks_list_url()).await;
        items
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_ascii_lowercase())
            .collect()
    }

    fn managed_cluster_id(&self, name: &str) -> String {
        let c = self.emulator().config();
        c.managed_clusters
            .iter()
            .find(|m| m.name == name)
            .expect("a seeded AKS cluster")
            .id(&c.subscription_id)
    }

    async fn delete_compute(&self, name: &str, action: &str) -> Response {
        let url = format!(
            "{}&underlyingResourceAction={action}",
            self.compute_url(name, "")
        );
        self.send(Method::DELETE, &url, None).await
    }
}

#[tokio::test]
async fn a_new_inference_cluster_is_provisioned_in_its_network_and_detaching_keeps_it() {
    let env = Env::start().await;
    let mut body = aks_body();
    body["properties"]["properties"]["aksNetworkingConfiguration"] = json!({
        "subnetId": env.subnet_id("ml-scoring-vnet", "aks-nodes"),
        "serviceCidr": "10.0.0.0/16",
        "dnsServiceIP": "10.0.0.10",
        "dockerBridgeCidr": "172.17.0.1/16"
    });
    body["properties"]["properties"]["loadBalancerType"] = json!("InternalLoadBalancer");
    body["properties"]["properties"]["loadBalancerSubnet"] = json!("scoring");
    body["properties"]["properties"]["sslConfiguration"] =
        json!({"status": "Enabled", "leafDomainLabel": "scoring"});
    let response = env.put_compute("ab", body).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "two characters are a valid inference cluster name"
    );
    let (_, creating) = env.get_compute("ab").await;
    assert_eq!(creating["properties"]["provisioningState"], "Creating");
    assert_eq!(env.wait(&response).await["status"], "Succeeded");
    let (_, created) = env.get_compute("ab").await;
    let props = &created["properties"];
    assert_eq!(props["provisioningState"], "Succeeded");
    assert_eq!(props["isAttachedCompute"], false);
    assert_eq!(props["properties"]["clusterPurpose"], "FastProd");
    assert_eq!(
        props["properties"]["loadBalancerType"],
        "InternalLoadBalancer"
    );
    assert!(
        props["properties"]["clusterFqdn"]
            .as_str()
            .unwrap()
            .ends_with(".azmk8s.io")
    );
    let cluster_id = props["resourceId"].as_str().unwrap().to_ascii_lowercase();
    assert!(
        env.aks_cluster_ids().await.contains(&cluster_id),
        "the new AKS cluster is one of the subscription's"
    );

    let response = env.delete_compute("ab", "Detach").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    env.wait(&response).await;
    assert_eq!(env.get_compute("ab").await.0, StatusCode::NOT_FOUND);
    assert!(
        env.aks_cluster_ids().await.contains(&cluster_id),
        "detached: the AKS cluster stays"
    );
}

#[tokio::test]
async fn an_existing_aks_cluster_is_attached_once_and_deleting_takes_it_away() {
    let env = Env::start().await;
    let id = env.managed_cluster_id("ml-inference-aks");
    let attach = json!({"location": "westeurope", "properties": {
        "computeType": "AKS", "resourceId": id,
        "properties": {"clusterPurpose": "FastProd"}}});
    let response = env.put_compute("scoring", attach.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(env.wait(&response).await["status"], "Succeeded");
    let (_, attached) = env.get_compute("scoring").await;
    assert_eq!(attached["properties"]["isAttachedCompute"], true);
    assert_eq!(attached["properties"]["properties"]["agentCount"], 3);
    assert_eq!(
        attached["properties"]["properties"]["agentVmSize"],
        "Standard_D4s_v3"
    );
    let again = env.put_compute("scoring-two", attach).await;
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "attached once per workspace"
    );
    let response = env.delete_compute("scoring", "Delete").await;
    env.wait(&response).await;
    assert_eq!(env.get_compute("scoring").await.0, StatusCode::NOT_FOUND);
    assert!(
        !env.aks_cluster_ids()
            .await
            .contains(&id.to_ascii_lowercase()),
        "deleted with its compute"
    );
}

#[tokio::test]
async fn inference_rules_refuse_a_put_and_name_the_field() {
    let mut config = EmulatorConfig::for_tests();
    let mut small =
        compute_studio::emulator::ManagedClusterSeed::new("ml-demo-rg", "tiny-aks", "westeurope");
    small.agent_pools[0].count = 2;
    config.managed_clusters.push(small);
    let env = Env::start_with(config).await;
    let inner = "properties.properties";
    // Names: 2 to 16 characters.
    let response = env.put_compute("a", aks_body()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = env.put_compute(&"a".repeat(17), aks_body()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The 12-vCPU rule, both sides.
    assert_refused(
        env.put_compute("small", aks_with("agentCount", json!(2)))
            .await,
        "ValidationError",
        &format!("{inner}.agentCount"),
        "at least 12 vCPUs",
    )
    .await;
    let mut dev_test = aks_with("agentCount", json!(1));
    dev_test["properties"]["properties"]["clusterPurpose"] = json!("DevTest");
    assert_eq!(
        env.put_compute("devbox", dev_test).await.status(),
        StatusCode::CREATED
    );
    let tiny = json!({"properties": {"computeType": "AKS",
        "resourceId": env.managed_cluster_id("tiny-aks"), "properties": {}}});
    assert_refused(
        env.put_compute("tiny", tiny).await,
        "ValidationError",
        &format!("{inner}.clusterPurpose"),
        "has 8 vCPUs",
    )
    .await;
    // The network: overlaps and the DNS address.
    let networking = |service: &str, dns: &str, bridge: &str| {
        aks_with(
            "aksNetworkingConfiguration",
            json!({"subnetId": env.subnet_id("ml-scoring-vnet", "aks-nodes"),
                   "serviceCidr": service, "dnsServiceIP": dns, "dockerBridgeCidr": bridge}),
        )
    };
    let path = format!("{inner}.aksNetworkingConfiguration");
    for (body, member, words) in [
        (
            networking("10.1.0.0/16", "10.1.0.10", "172.17.0.1/16"),
            "serviceCidr",
            "overlaps the virtual network",
        ),
        (
            networking("10.0.0.0/16", "10.2.0.10", "172.17.0.1/16"),
            "dnsServiceIP",
            "must be inside",
        ),
        (
            networking("10.0.0.0/16", "10.0.0.10", "10.0.5.1/24"),
            "dockerBridgeCidr",
            "overlaps the Kubernetes service",
        ),
    ] {
        assert_refused(
            env.put_compute("netcheck", body).await,
            "ValidationError",
            &format!("{path}.{member}"),
            words,
        )
        .await;
    }
    // SSL: an expired certificate with its date, a key of another certificate.
    let ssl = format!("{inner}.sslConfiguration");
    let (cert, key) = certificate(
        &["scoring.contoso.com"],
        time::macros::datetime!(2024-01-01 0:00 UTC),
        time::macros::datetime!(2025-01-31 0:00 UTC),
    );
    let text = assert_refused(
        env.put_compute(
            "sslcheck",
            aks_with(
                "sslConfiguration",
                json!({"status": "Enabled", "cert": cert, "key": key, "cname": "scoring.contoso.com"}),
            ),
        )
        .await,
        "ValidationError",
        &format!("{ssl}.cert"),
        "expired on 2025-01-31",
    )
    .await;
    assert!(!text.contains("PRIVATE KEY"), "the key is never repeated");
    let (cert, _) = valid_certificate(&["scoring.contoso.com"]);
    let (_, other_key) = valid_certificate(&["scoring.contoso.com"]);
    assert_refused(
        env.put_compute(
            "sslcheck",
            aks_with(
                "sslConfiguration",
                json!({"status": "Enabled", "cert": cert, "key": other_key, "cname": "scoring.contoso.com"}),
            ),
        )
        .await,
        "ValidationError",
        &format!("{ssl}.key"),
        "does not match the certificate",
    )
    .await;
    // A good certificate and key are taken, and never returned.
    let (cert, key) = valid_certificate(&["scoring.contoso.com"]);
    let response = env
        .put_compute(
            "sslok",
            aks_with(
                "sslConfiguration",
                json!({"status": "Enabled", "cert": cert, "key": key, "cname": "scoring.contoso.com"}),
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let text = env
        .get(&env.compute_url("sslok", ""))
        .await
        .text()
        .await
        .unwrap();
    assert!(!text.contains("PRIVATE KEY") && !text.contains("BEGIN CERTIFICATE"));
    assert!(
        text.contains("scoring.contoso.com"),
        "the CNAME is not secret"
    );
}

const ED25519_PASSPHRASE_KEY: &str = include_str!("fixtures/ssh/ed25519_passphrase");
const KEY_PASSPHRASE: &str = "correct horse battery";

fn attached_body(compute_type: &str, resource_id: Option<&str>, inner: Value) -> Value {
    let mut body = json!({"location": "westeurope", "properties": {
        "computeType": compute_type, "properties": inner}});
    if let Some(id) = resource_id {
        body["properties"]["resourceId"] = json!(id);
    }
    body
}

#[tokio::test]
async fn attached_kinds_settle_quickly_and_never_return_their_secrets() {
    let env = Env::start().await;
    let sub = env.emulator().config().subscription_id.clone();
    let password = "Vm-Passw0rd-Attached";
    let token = "dapi0123456789abcdef0123456789abcdef";
    let bodies = [
        (
            "remote-vm",
            attached_body(
                "VirtualMachine",
                None,
                json!({"address": "10.0.0.4", "sshPort": 22,
                       "administratorAccount": {"username": "azureuser", "password": password}}),
            ),
        ),
        (
            "hdi-spark",
            attached_body(
                "HDInsight",
                None,
                json!({"address": "spark-ssh.azurehdinsight.net", "sshPort": 22,
                       "administratorAccount": {"username": "sshuser",
                           "privateKeyData": ED25519_PASSPHRASE_KEY, "password": KEY_PASSPHRASE}}),
            ),
        ),
        (
            "dbx",
            attached_body(
                "Databricks",
                Some(&format!(
                    "/subscriptions/{sub}/resourceGroups/ml-demo-rg/providers/Microsoft.Databricks/workspaces/team-dbx"
                )),
                json!({"databricksAccessToken": token}),
            ),
        ),
        (
            "adla",
            attached_body(
                "DataLakeAnalytics",
                Some(&format!(
                    "/subscriptions/{sub}/resourceGroups/ml-demo-rg/providers/Microsoft.DataLakeAnalytics/accounts/adla01"
                )),
                json!({}),
            ),
        ),
    ];
    for (name, body) in bodies {
        let response = env.put_compute(name, body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
        assert_eq!(env.wait(&response).await["status"], "Succeeded", "{name}");
        let (_, got) = env.get_compute(name).await;
        assert_eq!(got["properties"]["isAttachedCompute"], true, "{name}");
        assert_eq!(got["properties"]["provisioningState"], "Succeeded");
        let text = got.to_string();
        for secret in [password, token, KEY_PASSPHRASE, "OPENSSH PRIVATE KEY"] {
            assert!(!text.contains(secret), "{name} returned a secret");
        }
    }
    let (_, dbx) = env.get_compute("dbx").await;
    assert!(
        dbx["properties"]["properties"]["workspaceUrl"]
            .as_str()
            .unwrap()
            .ends_with(".azuredatabricks.net")
    );
    let (_, adla) = env.get_compute("adla").await;
    assert_eq!(
        adla["properties"]["properties"]["dataLakeStoreAccountName"],
        "adla01store"
    );
    let response = env.delete_compute("remote-vm", "Detach").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    env.wait(&response).await;
    assert_eq!(env.get_compute("remote-vm").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn attached_rules_refuse_a_put_and_name_the_field() {
    let env = Env::start().await;
    let inner = "properties.properties";
    let account = format!("{inner}.administratorAccount");
    let vm = |address: &str, port: Value, account: Value| {
        attached_body(
            "VirtualMachine",
            None,
            json!({"address": address, "sshPort": port, "administratorAccount": account}),
        )
    };
    let with_password = json!({"username": "azureuser", "password": "pw-123456"});
    for (body, path, words) in [
        (
            vm("10.0.0.4", json!(0), with_password.clone()),
            format!("{inner}.sshPort"),
            "between 1 and 65535",
        ),
        (
            vm("10.0.0.4", json!(65536), with_password.clone()),
            format!("{inner}.sshPort"),
            "between 1 and 65535",
        ),
        (
            vm("azureuser@10.0.0.4", json!(22), with_password.clone()),
            format!("{inner}.address"),
            "user name",
        ),
        (
            vm(
                "10.0.0.4",
                json!(22),
                json!({"username": with_password["username"]}),
            ),
            format!("{account}.password"),
            "Password is required",
        ),
        (
            vm(
                "10.0.0.4",
                json!(22),
                json!({"username": "azureuser", "privateKeyData": ED25519_PASSPHRASE_KEY, "password": "wrong"}),
            ),
            format!("{account}.password"),
            "does not open this key",
        ),
        (
            attached_body(
                "Databricks",
                None,
                json!({"databricksAccessToken": "dapi1"}),
            ),
            "properties.resourceId".to_string(),
            "resourceId is required",
        ),
    ] {
        let text = assert_refused(
            env.put_compute("refused", body).await,
            "ValidationError",
            &path,
            words,
        )
        .await;
        assert!(
            !text.contains("wrong\"") && !text.contains("pw-123456"),
            "{text}"
        );
    }
    let accepted = env
        .put_compute(
            "edge-port",
            vm(
                "10.0.0.4",
                json!(65535),
                json!({"username": "azureuser", "password": "pw-123456"}),
            ),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::CREATED, "65535 is a port");
}
