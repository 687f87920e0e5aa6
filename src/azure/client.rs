//! `ArmClient`: the Azure ML compute operations over reqwest, with paging, retries and
//! long-running operations. The same code talks to Azure and to the built-in emulator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use super::error::ArmError;
use super::lro::{LroHandle, LroStatus, PollKind};
use super::models::{
    ComputeResource, ManagedCluster, Page, Usage, UserAssignedIdentity, VirtualNetwork, VmSize,
};
use super::parse;
use super::retry::{RetryPolicy, parse_retry_after};
use super::token::CachedTokenSource;

/// Each resource provider versions its API on its own; the configured api-version is Azure ML's.
/// These are stable versions every public region serves, with the fields the dashboard reads.
///
/// Microsoft.Network: virtual networks and their subnets.
pub const NETWORK_API_VERSION: &str = "2024-05-01";
/// Microsoft.ManagedIdentity: user-assigned identities.
pub const MANAGED_IDENTITY_API_VERSION: &str = "2023-01-31";
/// Microsoft.ContainerService: AKS managed clusters.
pub const CONTAINER_SERVICE_API_VERSION: &str = "2024-09-01";

/// A paged list that never ends is a broken server, not a big subscription.
const MAX_PAGES: usize = 10_000;

/// Where the workspace lives in Azure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRef {
    pub subscription_id: String,
    pub resource_group: String,
    pub workspace: String,
    pub location: String,
}

/// What DELETE does to the resource behind an attached compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnderlyingResourceAction {
    Delete,
    Detach,
}

/// The power actions of a compute instance (`POST …/computes/{name}/{action}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    Start,
    Stop,
    Restart,
}

impl PowerAction {
    pub fn path_segment(self) -> &'static str {
        match self {
            PowerAction::Start => "start",
            PowerAction::Stop => "stop",
            PowerAction::Restart => "restart",
        }
    }
}

/// A request Azure accepted: the body it answered with and, if the work goes on, how to follow it.
#[derive(Debug, Clone)]
pub struct Accepted<T> {
    pub body: Option<T>,
    pub operation: Option<LroHandle>,
}

/// All computes of the workspace, and the items that could not be read (kept out, reported).
#[derive(Debug, Default)]
pub struct ComputeListing {
    pub computes: Vec<ComputeResource>,
    pub unreadable: Vec<String>,
}

struct RawResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: bytes::Bytes,
}

#[derive(Clone)]
pub struct ArmClient {
    http: reqwest::Client,
    endpoint: Url,
    api_version: String,
    workspace: WorkspaceRef,
    tokens: Arc<CachedTokenSource>,
    retry: RetryPolicy,
}

impl ArmClient {
    pub fn new(
        http: reqwest::Client,
        endpoint: Url,
        api_version: impl Into<String>,
        workspace: WorkspaceRef,
        tokens: Arc<CachedTokenSource>,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            http,
            endpoint,
            api_version: api_version.into(),
            workspace,
            tokens,
            retry,
        }
    }

    pub fn workspace(&self) -> &WorkspaceRef {
        &self.workspace
    }

    /// The retry policy of every call (also used by callers that retry a whole operation).
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The ARM URL of one compute (how an operation followed by its resource is recorded).
    pub fn compute_resource_url(&self, name: &str) -> String {
        self.compute_url(name, "")
    }

    /// Every compute of the workspace, following `nextLink` until Azure gives none.
    pub async fn list_computes(&self) -> Result<ComputeListing, ArmError> {
        let mut listing = ComputeListing::default();
        let mut next = Some(self.computes_url(""));
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            check_page_count(pages, "the compute list")?;
            let page = parse::compute_page(&self.get_body(&url).await?)?;
            listing.computes.extend(page.computes);
            listing.unreadable.extend(page.unreadable);
            next = self.next_page(page.next_link)?;
        }
        Ok(listing)
    }

    /// One compute, or `None` if it does not exist.
    pub async fn get_compute(&self, name: &str) -> Result<Option<ComputeResource>, ArmError> {
        match self.get_body(&self.compute_url(name, "")).await {
            Ok(body) => parse::compute(&body).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// PUT: creates the compute (or overwrites it: Azure's semantics). A lost answer (broken
    /// connection, unreadable body, 500/502/504) is not resent here: the request may have been
    /// carried out, and only a look at the compute tells (`sync` does that).
    pub async fn create_or_update(
        &self,
        name: &str,
        body: &ComputeResource,
    ) -> Result<Accepted<ComputeResource>, ArmError> {
        let url = self.compute_url(name, "");
        let body = serde_json::to_value(body).map_err(|e| ArmError::Decode {
            context: "the request".into(),
            detail: e.to_string(),
        })?;
        let response = self.send(Method::PUT, &url, Some(&body), false).await?;
        self.accepted_with_body(response, &url)
    }

    /// PATCH: the scale settings of a cluster, the only thing Azure lets PATCH change.
    pub async fn update_scale_settings(
        &self,
        name: &str,
        scale_settings: Value,
    ) -> Result<Accepted<ComputeResource>, ArmError> {
        let url = self.compute_url(name, "");
        let body =
            serde_json::json!({"properties": {"properties": {"scaleSettings": scale_settings}}});
        let response = self.send(Method::PATCH, &url, Some(&body), true).await?;
        self.accepted_with_body(response, &url)
    }

    /// DELETE with `underlyingResourceAction`. `None` when the compute was already gone.
    pub async fn delete(
        &self,
        name: &str,
        action: UnderlyingResourceAction,
    ) -> Result<Option<LroHandle>, ArmError> {
        let action = match action {
            UnderlyingResourceAction::Delete => "Delete",
            UnderlyingResourceAction::Detach => "Detach",
        };
        let url = format!(
            "{}&underlyingResourceAction={action}",
            self.compute_url(name, "")
        );
        let response = self.send(Method::DELETE, &url, None, true).await?;
        if response.status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        Ok(LroHandle::from_headers(&response.headers)
            .or_else(|| Some(LroHandle::resource(self.compute_url(name, ""), None))))
    }

    /// Start, stop or restart a compute instance.
    pub async fn power(
        &self,
        name: &str,
        action: PowerAction,
    ) -> Result<Option<LroHandle>, ArmError> {
        let url = self.compute_url(name, &format!("/{}", action.path_segment()));
        // Not idempotent in Azure's eyes: a connection error after sending is not retried.
        let response = self.send(Method::POST, &url, None, false).await?;
        Ok(LroHandle::from_headers(&response.headers))
    }

    /// The VM sizes offered in the workspace's region.
    pub async fn vm_sizes(&self) -> Result<Vec<VmSize>, ArmError> {
        let url = self.location_url("vmSizes");
        parse::vm_sizes(&self.get_body(&url).await?)
    }

    /// Core usages and limits in the workspace's region.
    pub async fn usages(&self) -> Result<Vec<Usage>, ArmError> {
        self.list_all(
            self.location_url("usages"),
            "the usages",
            parse::usages_page,
        )
        .await
    }

    /// Every virtual network of the subscription, with its subnets, in every region (the
    /// caller keeps those of the workspace's region: a compute can only join those).
    pub async fn virtual_networks(&self) -> Result<Vec<VirtualNetwork>, ArmError> {
        let url =
            self.subscription_list_url("Microsoft.Network/virtualNetworks", NETWORK_API_VERSION);
        self.list_all(url, "the virtual networks", parse::virtual_networks_page)
            .await
    }

    /// Every user-assigned managed identity of the subscription.
    pub async fn user_assigned_identities(&self) -> Result<Vec<UserAssignedIdentity>, ArmError> {
        let url = self.subscription_list_url(
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            MANAGED_IDENTITY_API_VERSION,
        );
        self.list_all(url, "the user-assigned identities", parse::identities_page)
            .await
    }

    /// Every AKS cluster of the subscription, in every region.
    pub async fn managed_clusters(&self) -> Result<Vec<ManagedCluster>, ArmError> {
        let url = self.subscription_list_url(
            "Microsoft.ContainerService/managedClusters",
            CONTAINER_SERVICE_API_VERSION,
        );
        self.list_all(url, "the AKS clusters", parse::managed_clusters_page)
            .await
    }

    /// Every item of a paged list, following `nextLink` (to our own endpoint only) until Azure
    /// gives none.
    async fn list_all<T>(
        &self,
        first_page: String,
        context: &str,
        parse_page: fn(&[u8]) -> Result<Page<T>, ArmError>,
    ) -> Result<Vec<T>, ArmError> {
        let mut items = Vec::new();
        let mut next = Some(first_page);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            check_page_count(pages, context)?;
            let page = parse_page(&self.get_body(&url).await?)?;
            items.extend(page.value);
            next = self.next_page(page.next_link)?;
        }
        Ok(items)
    }

    /// The `nextLink` to follow, if any: an empty one ends the list like a missing one.
    fn next_page(&self, next_link: Option<String>) -> Result<Option<String>, ArmError> {
        let next = next_link.filter(|link| !link.is_empty());
        if let Some(link) = &next {
            self.check_same_origin(link)?;
        }
        Ok(next)
    }

    /// Ask once how a long-running operation is doing.
    ///
    /// `Err` means the status could not be read (try again later); `Ok(LroStatus::Failed)`
    /// means Azure says the operation itself failed.
    pub async fn poll(&self, handle: &LroHandle) -> Result<LroStatus, ArmError> {
        self.check_same_origin(&handle.url)?;
        match handle.kind {
            PollKind::AsyncOperation => self.poll_async_operation(&handle.url).await,
            PollKind::Location => self.poll_location(&handle.url).await,
            PollKind::Resource => self.poll_resource(&handle.url).await,
        }
    }

    async fn poll_async_operation(&self, url: &str) -> Result<LroStatus, ArmError> {
        let response = self.send(Method::GET, url, None, true).await?;
        let retry_after = parse_retry_after(response.headers.get("retry-after"));
        parse::operation_status(&response.body, retry_after)
    }

    async fn poll_location(&self, url: &str) -> Result<LroStatus, ArmError> {
        match self.send(Method::GET, url, None, true).await {
            Ok(response) if response.status == StatusCode::ACCEPTED => Ok(LroStatus::InProgress {
                retry_after: parse_retry_after(response.headers.get("retry-after")),
            }),
            Ok(_) => Ok(LroStatus::Succeeded),
            // The Location URL answers what the synchronous call would have: an error body.
            Err(e @ ArmError::Api { status, .. })
                if (400..500).contains(&status) && status != 404 =>
            {
                Ok(LroStatus::Failed(e))
            }
            Err(e) => Err(e),
        }
    }

    async fn poll_resource(&self, url: &str) -> Result<LroStatus, ArmError> {
        let compute = match self.get_body(url).await {
            Ok(body) => parse::compute(&body)?,
            // A resource that is gone has finished being deleted.
            Err(e) if e.is_not_found() => return Ok(LroStatus::Succeeded),
            Err(e) => return Err(e),
        };
        Ok(match compute.provisioning_state().unwrap_or("Succeeded") {
            "Succeeded" => LroStatus::Succeeded,
            "Failed" | "Canceled" => LroStatus::Failed(provisioning_failure(&compute)),
            _ => LroStatus::InProgress { retry_after: None },
        })
    }

    fn accepted_with_body(
        &self,
        response: RawResponse,
        resource_url: &str,
    ) -> Result<Accepted<ComputeResource>, ArmError> {
        let body: Option<ComputeResource> = if response.body.is_empty() {
            None
        } else {
            Some(parse::compute(&response.body)?)
        };
        let still_running = body
            .as_ref()
            .and_then(|b| b.provisioning_state())
            .is_some_and(|s| !crate::domain::compute::is_terminal_provisioning_state(s));
        let operation = LroHandle::from_headers(&response.headers)
            .or_else(|| still_running.then(|| LroHandle::resource(resource_url.to_string(), None)));
        Ok(Accepted { body, operation })
    }

    async fn get_body(&self, url: &str) -> Result<bytes::Bytes, ArmError> {
        Ok(self.send(Method::GET, url, None, true).await?.body)
    }

    /// One logical request: token, retries with backoff on throttling and server errors, and
    /// one fresh token if ARM says ours is no longer valid.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<RawResponse, ArmError> {
        let started = Instant::now();
        let mut attempt = 0;
        let mut renewed_token = false;
        loop {
            attempt += 1;
            let token = self.tokens.token().await?;
            let mut request = self
                .http
                .request(method.clone(), url)
                .bearer_auth(&token.secret)
                .header("x-ms-client-request-id", uuid::Uuid::new_v4().to_string());
            if let Some(body) = body {
                request = request.json(body);
            }
            let (last_status, retry_after) = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = match response.bytes().await {
                        Ok(body) => body,
                        Err(e) if idempotent => {
                            self.wait_before_retry(
                                attempt,
                                started,
                                format!("a broken body ({e})"),
                                None,
                            )
                            .await?;
                            continue;
                        }
                        Err(e) => return Err(ArmError::Transport(e.to_string())),
                    };
                    // An answer to a change that is not JSON (a proxy's page, a body cut off)
                    // says nothing about whether the change was made.
                    if status.is_success()
                        && method != Method::GET
                        && !body.is_empty()
                        && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err()
                    {
                        return Err(ArmError::Decode {
                            context: format!("the {method} request"),
                            detail: "the answer is not JSON (cut off, or not from Azure)".into(),
                        });
                    }
                    if status.is_success() {
                        return Ok(RawResponse {
                            status,
                            headers,
                            body,
                        });
                    }
                    if status == StatusCode::UNAUTHORIZED && !renewed_token {
                        renewed_token = true;
                        self.tokens.invalidate().await;
                        continue;
                    }
                    // 429 and 503 say the request was not processed, so even a POST may go again.
                    let retryable = RetryPolicy::is_retryable_status(status.as_u16())
                        && (idempotent || matches!(status.as_u16(), 429 | 503));
                    if !retryable {
                        return Err(error_from_body(status, &body));
                    }
                    tracing::debug!(%status, attempt, url = redact_query(url), "ARM asked us to retry");
                    (
                        status.to_string(),
                        parse_retry_after(headers.get("retry-after")),
                    )
                }
                // A connection that never opened carried nothing: safe to retry any method.
                Err(e) if idempotent || e.is_connect() => {
                    (format!("a connection error ({e})"), None)
                }
                Err(e) => return Err(ArmError::Transport(e.to_string())),
            };
            self.wait_before_retry(attempt, started, last_status, retry_after)
                .await?;
        }
    }

    /// Sleep before the next attempt, or give up when attempts or time are spent.
    async fn wait_before_retry(
        &self,
        attempt: u32,
        started: Instant,
        last_status: String,
        retry_after: Option<Duration>,
    ) -> Result<(), ArmError> {
        let delay = self.retry.delay(attempt, retry_after);
        if attempt >= self.retry.max_attempts || started.elapsed() + delay > self.retry.max_elapsed
        {
            return Err(ArmError::RetriesExhausted {
                attempts: attempt,
                last_status,
            });
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }

    fn computes_url(&self, suffix: &str) -> String {
        let ws = &self.workspace;
        format!(
            "{}subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}/computes{suffix}?api-version={}",
            self.endpoint, ws.subscription_id, ws.resource_group, ws.workspace, self.api_version
        )
    }

    fn compute_url(&self, name: &str, action: &str) -> String {
        // Names are validated before they get here, but a path segment is still encoded so
        // a stray character can never address another resource.
        let name: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        self.computes_url(&format!("/{name}{action}"))
    }

    fn location_url(&self, what: &str) -> String {
        let ws = &self.workspace;
        format!(
            "{}subscriptions/{}/providers/Microsoft.MachineLearningServices/locations/{}/{what}?api-version={}",
            self.endpoint, ws.subscription_id, ws.location, self.api_version
        )
    }

    /// A subscription-wide list of another provider, e.g. `Microsoft.Network/virtualNetworks`.
    fn subscription_list_url(&self, provider_and_type: &str, api_version: &str) -> String {
        format!(
            "{}subscriptions/{}/providers/{provider_and_type}?api-version={api_version}",
            self.endpoint, self.workspace.subscription_id
        )
    }

    /// Our bearer token goes only to the ARM endpoint we were configured with, whatever URL
    /// an answer points us to.
    fn check_same_origin(&self, link: &str) -> Result<(), ArmError> {
        let parsed = Url::parse(link).map_err(|e| ArmError::Decode {
            context: "a link in Azure's answer".into(),
            detail: format!("{e}"),
        })?;
        if parsed.origin() != self.endpoint.origin() {
            return Err(ArmError::Decode {
                context: "a link in Azure's answer".into(),
                detail: format!(
                    "it points to {}, not to the configured ARM endpoint",
                    parsed.origin().ascii_serialization()
                ),
            });
        }
        Ok(())
    }
}

fn check_page_count(pages: usize, context: &str) -> Result<(), ArmError> {
    if pages <= MAX_PAGES {
        return Ok(());
    }
    Err(ArmError::Decode {
        context: context.to_string(),
        detail: format!("more than {MAX_PAGES} pages: the nextLink chain does not end"),
    })
}

fn error_from_body(status: StatusCode, body: &[u8]) -> ArmError {
    parse::error_body(status.as_u16(), body)
}

fn provisioning_failure(compute: &ComputeResource) -> ArmError {
    let first = compute
        .properties
        .as_ref()
        .and_then(|p| p.provisioning_errors.as_ref())
        .and_then(|errors| errors.first())
        .map(|e| e.error.clone())
        .unwrap_or_default();
    ArmError::OperationFailed {
        code: if first.code.is_empty() {
            "ProvisioningFailed".into()
        } else {
            first.code
        },
        message: if first.message.is_empty() {
            "Azure reports that provisioning failed.".into()
        } else {
            first.message
        },
    }
}

/// Polling and paging URLs may carry signatures in their query: log only the path.
pub fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}
