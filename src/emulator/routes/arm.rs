//! The ARM routes of the workspace's computes and of the region, with the checks ARM makes on
//! every request (token, api-version, subscription/resource group/workspace) and the headers
//! it adds to every response. The other providers' lists (`providers`) are dispatched from here
//! too, so they pass the same checks and suffer the same injected faults.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::Emulator;
use super::super::auth::{self, Identity};
use super::super::error::ArmError;
use super::super::faults::{Fault, HTML_ERROR_PAGE, server_error_code};
use super::super::state::{Action, OperationOutcome, Trigger, World};
use super::super::util::{normalise_location, percent_decode};
use super::Reply;
use super::api_version::check_api_version;
use super::paging::{COMPUTES_TOKEN, paged_reply};
use super::providers::{self, Collection};

/// Everything a handler needs to know about the request.
pub struct Request<'a> {
    pub method: &'a Method,
    /// `http://{Host}`: absolute URLs in responses point back to where the client called.
    pub base: String,
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    pub api_version: String,
    pub caller: Identity,
    pub body: &'a Bytes,
}

impl Request<'_> {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Entry point of every path that is not the token endpoint or the health check.
pub async fn arm_entry(
    State(emulator): State<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let correlation_id = headers
        .get("x-ms-client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let fault = emulator.take_fault(method.as_str(), uri.path());
    if let Some(fault) = &fault {
        emulator.count_fault(fault.kind());
    }
    let run = |fail: bool| handle(&emulator, &method, &uri, &headers, &body, fail);
    let mut response = match fault {
        None => run(false).into_response(),
        Some(Fault::Latency { delay, .. }) => {
            tokio::time::sleep(delay).await;
            run(false).into_response()
        }
        Some(Fault::SlowAnswer { delay, .. }) => {
            let response = run(false).into_response();
            tokio::time::sleep(delay).await;
            response
        }
        Some(Fault::ProvisioningFailure { .. }) => run(true).into_response(),
        Some(Fault::ResetBeforeExecuting { .. }) => connection_reset(),
        Some(Fault::ResetAfterExecuting { .. }) => {
            let _executed = run(false);
            connection_reset()
        }
        Some(Fault::Truncated { .. }) => {
            let mut reply = run(false);
            let text = match reply.body_text() {
                t if t.is_empty() => r#"{"value":[{"id":"/subscriptions/"}]}"#.to_string(),
                t => t,
            };
            let cut = text.char_indices().map(|(i, _)| i).nth(text.chars().count() / 2).unwrap_or(0);
            reply.status = StatusCode::OK;
            reply.into_response_with_body(text[..cut].to_string())
        }
        Some(Fault::Throttle { retry_after_secs, .. }) => Reply::error(&ArmError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00. For more information, see - https://aka.ms/srpthrottlinglimits",
        ))
        .header("retry-after", retry_after_secs.to_string())
        .into_response(),
        Some(Fault::ServerError { status, .. }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let (code, message) = server_error_code(status.as_u16());
            Reply::error(&ArmError::new(status, code, message)).into_response()
        }
        Some(Fault::NotJson { .. }) => {
            let mut response = (StatusCode::OK, HTML_ERROR_PAGE).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            response
        }
    };
    add_arm_headers(
        &emulator,
        &method,
        &mut response,
        &request_id,
        &correlation_id,
    );
    response
}

/// A response that never arrives: its body fails at once, so the server drops the connection
/// and the client sees a transport error (no status, or a body cut off), as when a connection
/// is reset.
fn connection_reset() -> Response {
    let broken = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by the emulator (injected fault)",
        ))
    });
    let mut response = Response::new(axum::body::Body::from_stream(broken));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(super::JSON_CONTENT_TYPE),
    );
    response
}

/// The headers ARM puts on every response.
fn add_arm_headers(
    emulator: &Emulator,
    method: &Method,
    response: &mut Response,
    request_id: &str,
    correlation_id: &str,
) {
    let number = emulator.next_arm_request_number();
    let (budget_header, budget) = match *method {
        Method::GET | Method::HEAD => ("x-ms-ratelimit-remaining-subscription-reads", 11_999),
        Method::DELETE => ("x-ms-ratelimit-remaining-subscription-deletes", 14_999),
        _ => ("x-ms-ratelimit-remaining-subscription-writes", 1_199),
    };
    let region = emulator.config().location.to_ascii_uppercase();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-ms-request-id", request_id.to_string());
    set("x-ms-correlation-request-id", correlation_id.to_string());
    set(
        "x-ms-routing-request-id",
        format!(
            "{region}:{}:{request_id}",
            time::OffsetDateTime::now_utc().unix_timestamp()
        ),
    );
    set(budget_header, (budget - number % budget).to_string());
    headers
        .entry(header::CONTENT_TYPE)
        .or_insert(HeaderValue::from_static(super::JSON_CONTENT_TYPE));
}

/// Checks token, api-version and scope, then dispatches on the (case-insensitive) path.
fn handle(
    emulator: &Emulator,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    fail_operation: bool,
) -> Reply {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let base = format!("http://{host}");
    let mut world = emulator.world();
    world.settle(Instant::now());

    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = match world.tokens.check(authorization) {
        Ok(token) => token,
        Err(problem) => {
            let (code, message) = auth::describe(&problem);
            return Reply::error(&ArmError::new(StatusCode::UNAUTHORIZED, code, message.clone())).header(
                "www-authenticate",
                format!(
                    "Bearer authorization_uri=\"{base}/{}\", error=\"invalid_token\", error_description=\"{message}\"",
                    world.config.tenant_id
                ),
            );
        }
    };
    let caller = Identity::from_jwt(&token)
        .unwrap_or_else(|| Identity::service_principal(&world.config.tenant_id));

    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let api_version = match check_api_version(
        query
            .iter()
            .find(|(k, _)| k == "api-version")
            .map(|(_, v)| v.as_str()),
        uri.path(),
    ) {
        Ok(v) => v,
        Err(error) => return Reply::error(&error),
    };
    let request = Request {
        method,
        base,
        path: uri.path(),
        query,
        api_version,
        caller,
        body,
    };
    // A `ProvisioningFailure` fault: the operation this request begins (if any) will fail.
    world.fail_next_operation = fail_operation;
    let reply = match route(&mut world, &request) {
        Ok(reply) => reply,
        Err(error) => Reply::error(&error),
    };
    world.fail_next_operation = false;
    reply
}

fn route(world: &mut World, request: &Request) -> Result<Reply, ArmError> {
    let segments: Vec<String> = request
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let original = |i: usize| segments[i].as_str();
    match lower.as_slice() {
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.machinelearningservices",
            "workspaces",
            _,
            "computes",
            ..,
        ] => {
            check_workspace(world, original(1), original(3), original(7))?;
            let rest: Vec<&str> = (9..segments.len()).map(original).collect();
            match rest.as_slice() {
                [] => only(request, &[Method::GET]).and_then(|_| list_computes(world, request)),
                [name] => compute_route(world, request, name),
                [name, _] => action_route(world, request, name, lower[10]),
                _ => Err(unsupported(request)),
            }
        }
        [
            "subscriptions",
            _,
            "providers",
            "microsoft.machinelearningservices",
            "locations",
            _,
            rest @ ..,
        ] => {
            check_subscription(world, original(1))?;
            location_route(world, request, original(5), rest)
        }
        ["subscriptions", _, "providers", namespace, resource_type] => {
            check_subscription(world, original(1))?;
            let collection = Collection::find(namespace, resource_type);
            let collection = collection.ok_or_else(|| unsupported(request))?;
            providers::list(world, request, collection, None)
        }
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            namespace,
            resource_type,
        ] => {
            check_subscription(world, original(1))?;
            check_resource_group(world, original(3))?;
            let collection = Collection::find(namespace, resource_type);
            let collection = collection.ok_or_else(|| unsupported(request))?;
            providers::list(world, request, collection, Some(original(3)))
        }
        ["subscriptions", _, "resourcegroups", _, ..] => {
            check_subscription(world, original(1))?;
            check_resource_group(world, original(3))?;
            Err(unsupported(request))
        }
        ["subscriptions", _, ..] => {
            check_subscription(world, original(1))?;
            Err(unsupported(request))
        }
        _ => Err(unsupported(request)),
    }
}

fn unsupported(request: &Request) -> ArmError {
    ArmError::not_found(
        "NotFound",
        format!(
            "No HTTP resource was found that matches the request URI '{}{}'.",
            request.base, request.path
        ),
    )
}

pub fn only(request: &Request, methods: &[Method]) -> Result<(), ArmError> {
    if methods.contains(request.method) {
        return Ok(());
    }
    Err(ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "The requested resource does not support http method '{}'.",
            request.method
        ),
    ))
}

fn check_subscription(world: &World, subscription: &str) -> Result<(), ArmError> {
    if subscription.eq_ignore_ascii_case(&world.config.subscription_id) {
        return Ok(());
    }
    Err(ArmError::not_found(
        "SubscriptionNotFound",
        format!("The subscription '{subscription}' could not be found."),
    ))
}

/// The group must exist in the subscription: the workspace's, or one holding seeded resources.
fn check_resource_group(world: &World, group: &str) -> Result<(), ArmError> {
    let groups = world.config.resource_groups();
    if groups.iter().any(|g| g.eq_ignore_ascii_case(group)) {
        return Ok(());
    }
    Err(ArmError::not_found(
        "ResourceGroupNotFound",
        format!("Resource group '{group}' could not be found."),
    ))
}

fn check_workspace(
    world: &World,
    subscription: &str,
    group: &str,
    workspace: &str,
) -> Result<(), ArmError> {
    check_subscription(world, subscription)?;
    check_resource_group(world, group)?;
    if workspace.eq_ignore_ascii_case(&world.config.workspace) {
        return Ok(());
    }
    Err(ArmError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.MachineLearningServices/workspaces/{workspace}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    ))
}

// ----- computes ------------------------------------------------------------------------------------

/// `GET W/computes`: one page; `$skip` is an opaque continuation token.
fn list_computes(world: &World, request: &Request) -> Result<Reply, ArmError> {
    paged_reply(
        request,
        COMPUTES_TOKEN,
        world.config.page_size,
        |offset, limit| world.list_page_views(offset, limit),
    )
}

fn compute_route(world: &mut World, request: &Request, name: &str) -> Result<Reply, ArmError> {
    let retry_after = world.config.timings.retry_after_secs.to_string();
    match *request.method {
        Method::GET => world
            .get_view(name)
            .map(|v| Reply::json(StatusCode::OK, v))
            .ok_or_else(|| not_found(name)),
        Method::PUT => {
            let body = parse_body(request.body)?;
            let (status, view, op_id) = world.create_or_update(name, &body, &request.caller)?;
            Ok(Reply::json(status, view)
                .header("azure-asyncoperation", status_url(world, request, &op_id))
                .header("retry-after", retry_after))
        }
        Method::PATCH => {
            let body = parse_body(request.body)?;
            let (view, op_id) = world.patch(name, &body)?;
            Ok(Reply::json(StatusCode::OK, view)
                .header("azure-asyncoperation", status_url(world, request, &op_id))
                .header("location", result_url(world, request, &op_id))
                .header("retry-after", retry_after))
        }
        Method::DELETE => match world.delete(name, request.query("underlyingResourceAction"))? {
            None => Ok(Reply::empty(StatusCode::NO_CONTENT)),
            Some(op_id) => Ok(Reply::empty(StatusCode::ACCEPTED)
                .header("azure-asyncoperation", status_url(world, request, &op_id))
                .header("location", result_url(world, request, &op_id))
                .header("retry-after", retry_after)),
        },
        _ => only(
            request,
            &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
        )
        .map(|_| Reply::empty(StatusCode::OK)),
    }
}

fn action_route(
    world: &mut World,
    request: &Request,
    name: &str,
    action: &str,
) -> Result<Reply, ArmError> {
    let power = match action {
        "start" => Some(Action::Start),
        "stop" => Some(Action::Stop),
        "restart" => Some(Action::Restart),
        "listnodes" => None,
        _ => return Err(unsupported(request)),
    };
    only(request, &[Method::POST])?;
    let Some(action) = power else {
        return world
            .list_nodes(name)
            .map(|nodes| Reply::json(StatusCode::OK, nodes));
    };
    let op_id = world.power(name, action, Trigger::User)?;
    Ok(Reply::empty(StatusCode::ACCEPTED)
        .header("location", result_url(world, request, &op_id))
        .header("azure-asyncoperation", status_url(world, request, &op_id))
        .header(
            "retry-after",
            world.config.timings.retry_after_secs.to_string(),
        ))
}

fn parse_body(body: &Bytes) -> Result<Value, ArmError> {
    serde_json::from_slice(body).map_err(|e| {
        ArmError::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )
    })
}

fn not_found(name: &str) -> ArmError {
    ArmError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.MachineLearningServices/workspaces/computes/{name}' was not found."
        ),
    )
}

fn location_prefix(world: &World, request: &Request) -> String {
    format!(
        "{}/subscriptions/{}/providers/Microsoft.MachineLearningServices/locations/{}",
        request.base, world.config.subscription_id, world.config.location
    )
}

fn status_url(world: &World, request: &Request, op_id: &str) -> String {
    format!(
        "{}/computeOperationsStatus/{op_id}?api-version={}",
        location_prefix(world, request),
        request.api_version
    )
}

fn result_url(world: &World, request: &Request, op_id: &str) -> String {
    format!(
        "{}/computeOperationsResult/{op_id}?api-version={}",
        location_prefix(world, request),
        request.api_version
    )
}

// ----- region --------------------------------------------------------------------------------------

fn location_route(
    world: &World,
    request: &Request,
    location: &str,
    rest: &[&str],
) -> Result<Reply, ArmError> {
    only(request, &[Method::GET])?;
    let here = normalise_location(location) == normalise_location(&world.config.location);
    match rest {
        ["vmsizes"] => Ok(Reply::json(
            StatusCode::OK,
            json!({ "value": world.catalogue }),
        )),
        ["usages"] => {
            let mut usages = world.usages();
            if !here {
                // Nothing of this workspace runs in another region.
                usages.iter_mut().for_each(|u| u.current_value = 0);
            }
            Ok(Reply::json(StatusCode::OK, json!({ "value": usages })))
        }
        ["computeoperationsstatus", _] => {
            let op_id = last_segment(request);
            world
                .operation_status_body(&op_id, Instant::now())
                .map(|body| Reply::json(StatusCode::OK, body))
                .ok_or_else(|| operation_not_found(&op_id))
        }
        ["computeoperationsresult", _] => operation_result(world, request, &last_segment(request)),
        _ => Err(unsupported(request)),
    }
}

fn last_segment(request: &Request) -> String {
    percent_decode(
        request
            .path
            .rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or(""),
    )
}

fn operation_not_found(op_id: &str) -> ArmError {
    ArmError::not_found(
        "NotFound",
        format!("The operation '{op_id}' was not found."),
    )
}

/// The `Location` URL: 202 while running, then what the synchronous call would have answered.
fn operation_result(world: &World, request: &Request, op_id: &str) -> Result<Reply, ArmError> {
    let (op, outcome) = world
        .operation_outcome(op_id, Instant::now())
        .ok_or_else(|| operation_not_found(op_id))?;
    match outcome {
        OperationOutcome::InProgress => Ok(Reply::empty(StatusCode::ACCEPTED)
            .header("location", result_url(world, request, op_id))
            .header(
                "retry-after",
                world.config.timings.retry_after_secs.to_string(),
            )),
        OperationOutcome::Failed(error) => Err(error),
        OperationOutcome::Succeeded => Ok(match op.action {
            Action::Delete => Reply::empty(StatusCode::NO_CONTENT),
            Action::Create | Action::Update => Reply::json(
                StatusCode::OK,
                world
                    .operation_target_view(&op)
                    .unwrap_or_else(|| json!({})),
            ),
            Action::Start | Action::Stop | Action::Restart => Reply::empty(StatusCode::OK),
        }),
    }
}
