//! `/computes/{name}`: one compute, with everything Azure knows about it said in words.
//!
//! The page reads the resource as the cache last stored it (the sync tasks keep it fresh), never
//! Azure itself: a page view costs no Azure call and shows something even while Azure is down.
//! Azure's JSON varies by kind and API version, so every value is looked up on its own, and a
//! field that is missing or odd is simply not shown.
//!
//! Three parts of the page are fragments with their own templates and routes, rendered by the
//! same code for the page and for htmx:
//! - the status section (`computes/_status.html`, `GET /computes/{name}/status`): state, last
//!   operation, the actions this person may take now, applications and cluster nodes. While
//!   the compute is transitional it re-reads itself every 2 s (a `<noscript>` refresh reloads
//!   the page without JavaScript); server-sent events will replace the polling later.
//! - the scale settings of a cluster (`computes/_scale.html`, `POST /computes/{name}/scale`),
//!   edited in place: invalid values come back beside their fields with what was typed.
//! - the compute's recent operations (`_operations.html`, shared with `/activity`).

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tower_sessions::Session;

use super::activity::{OperationRow, duration_words, operation_rows};
use super::auth::{CurrentUser, audit};
use super::computes::{owner_label, short_date, url_path_segment};
use super::forms::FormFields;
use super::htmx::is_htmx;
use super::notice::{self, Notice};
use super::{AppState, Chrome};
use crate::azure::ArmError;
use crate::domain::applications::{Application, applications_open_in};
use crate::domain::arm_ids::parse_subnet_id;
use crate::domain::compute::{ComputeKind, is_transitional, state_label, state_tone};
use crate::domain::durations::parse_iso_duration_secs;
use crate::domain::field::FieldErrors;
use crate::domain::roles::{Ownership, Permission};
use crate::domain::scale::ScaleSettings;
use crate::domain::schedules::Schedule;
use crate::domain::ssh::SshPublicKey;
use crate::domain::transitions::ComputeAction;
use crate::error::AppError;
use crate::store;
use crate::store::computes::ComputeRow;
use crate::sync::Action;

/// How many of a compute's operations its page lists (the activity page has them all).
const RECENT_OPERATIONS: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/computes/{name}", get(page))
        .route("/computes/{name}/status", get(status))
        .route("/computes/{name}/scale", post(scale))
}

// ----- the compute as the cache holds it ----------------------------------------------------------

/// One compute: the list's row and Azure's whole resource as last read.
struct Compute {
    row: Arc<ComputeRow>,
    kind: ComputeKind,
    resource: Value,
}

impl Compute {
    async fn load(state: &AppState, name: &str) -> Result<Compute, AppError> {
        let row = state
            .computes
            .row(name)
            .ok_or_else(|| AppError::NotFound(format!("compute named '{name}'")))?;
        let resource = store::computes::resource(&state.db, &row.name)
            .await?
            .unwrap_or(Value::Null);
        Ok(Compute {
            kind: ComputeKind::parse(&row.kind).unwrap_or(ComputeKind::Other),
            row,
            resource,
        })
    }

    /// The kind-specific object, `properties.properties`.
    fn inner(&self) -> &Value {
        self.resource
            .pointer("/properties/properties")
            .unwrap_or(&Value::Null)
    }

    /// The common properties, `properties`.
    fn common(&self) -> &Value {
        self.resource.get("properties").unwrap_or(&Value::Null)
    }

    fn url(&self) -> String {
        format!("/computes/{}", url_path_segment(&self.row.name))
    }
}

/// A non-empty string at `pointer`, if there is one.
fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A whole number at `pointer`, if there is one.
fn number(value: &Value, pointer: &str) -> Option<i64> {
    value.pointer(pointer).and_then(Value::as_i64)
}

/// How the person stands to this compute: an instance belongs to its owner; other kinds belong
/// to nobody in particular (the rule the action routes apply).
fn ownership(current: &CurrentUser, compute: &Compute) -> Ownership {
    current.ownership_of(&compute.row)
}

/// A person named by object id: their name when they signed in here once, else a short id.
fn person(state: &AppState, object_id: &str) -> String {
    owner_label(
        state.auth.people.name_of(object_id).as_deref(),
        Some(object_id),
    )
}

// ----- views: every value ready to print ----------------------------------------------------------

/// One labelled value of a definition list.
pub struct Fact {
    label: &'static str,
    value: String,
}

/// Facts in the order they are added; absent values are left out.
#[derive(Default)]
struct Facts(Vec<Fact>);

impl Facts {
    fn add(&mut self, label: &'static str, value: Option<String>) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.0.push(Fact { label, value });
        }
    }
}

/// The status section: what the compute is doing and what may be done with it now.
pub struct StatusView {
    name: String,
    /// Where the section re-reads itself.
    url: String,
    /// The live-stream event that makes it re-read itself (the compute's row event).
    event: String,
    /// The compute disappeared while the page was open.
    gone: bool,
    state: String,
    tone: &'static str,
    transitional: bool,
    last_operation: Option<LastOperation>,
    actions: Vec<ActionButton>,
    /// (label, link) of the applications, for the instance's owner while it runs.
    apps: Vec<(&'static str, String)>,
    /// Cluster nodes: current, target, allocation, node states.
    nodes: Vec<Fact>,
    csrf_token: String,
}

/// Azure's `lastOperation` of an instance, in words.
pub struct LastOperation {
    what: String,
    trigger: String,
    when: String,
    when_iso: String,
    outcome: String,
    tone: &'static str,
}

/// An action button: a form posting to the action route, or a link to its confirmation page.
pub struct ActionButton {
    label: &'static str,
    url: String,
    /// Delete and detach are confirmed by name on their own page first.
    confirm_first: bool,
}

/// The SSH access of an instance.
pub struct SshView {
    enabled: bool,
    /// `ssh -p 50001 azureuser@20.86.10.21`, when everything it needs is known and sane.
    command: Option<String>,
    /// Where the address of the command comes from, when it is not the public one.
    note: Option<String>,
    key: Option<String>,
}

/// The scale settings of a cluster: a form for those who may change them, words for the others.
pub struct ScaleView {
    url: String,
    editable: bool,
    /// "0 to 8 nodes; idle nodes are released after 2 min."
    summary: String,
    fields: Vec<ScaleField>,
    /// Why Azure (or the compute's state) refused the last save.
    refusal: Option<String>,
    saved: bool,
    csrf_token: String,
}

pub struct ScaleField {
    name: &'static str,
    label: &'static str,
    value: String,
    error: Option<String>,
    hint: &'static str,
}

#[derive(Template)]
#[template(path = "computes/details.html")]
struct DetailsPage {
    chrome: Chrome,
    name: String,
    kind_label: String,
    description: Option<String>,
    status: StatusView,
    overview: Vec<Fact>,
    network: Vec<Fact>,
    ssh: Option<SshView>,
    schedules: Vec<String>,
    idle_shutdown: Option<String>,
    setup_scripts: Vec<Fact>,
    problems: Vec<String>,
    scale: Option<ScaleView>,
    reassign_url: Option<String>,
    activity_url: String,
    operations: Vec<OperationRow>,
    show_compute: bool,
}

#[derive(Template)]
#[template(path = "computes/_status.html")]
struct StatusFragment {
    status: StatusView,
}

#[derive(Template)]
#[template(path = "computes/_scale.html")]
struct ScaleFragment {
    scale: ScaleView,
}

// ----- handlers -------------------------------------------------------------------------------

async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    current.require(Permission::ViewCompute, Ownership::NoCompute)?;
    let compute = Compute::load(&state, &name).await?;
    let scale = (compute.kind == ComputeKind::Cluster)
        .then(|| scale_view(&current, &compute, ScaleForm::Current));
    let mut page = details_page(&state, &current, &compute, scale).await?;
    page.chrome.notice = notice::take(&session).await;
    Ok(Html(page.render()?).into_response())
}

/// The status section alone, for its self-refresh. A compute that is gone says so and stops.
async fn status(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    current.require(Permission::ViewCompute, Ownership::NoCompute)?;
    let status = match Compute::load(&state, &name).await {
        Ok(compute) => status_view(&current, &compute),
        Err(AppError::NotFound(_)) => gone_status(&name, &current),
        Err(e) => return Err(e),
    };
    Ok(Html(StatusFragment { status }.render()?).into_response())
}

/// New scale settings for a cluster: checked here (each problem beside its field, the typed
/// values kept, nothing sent), then sent to Azure as an operation the activity records.
async fn scale(
    State(state): State<AppState>,
    current: CurrentUser,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(name): Path<String>,
    fields: FormFields,
) -> Result<Response, AppError> {
    fields.only_known(&["min_nodes", "max_nodes", "idle_seconds"], &[])?;
    let compute = Compute::load(&state, &name).await?;
    authorise_scale(&current, &compute)?;
    let typed = TypedScale::from_fields(&fields)?;
    let settings = match checked_scale(&compute, &typed) {
        Ok(settings) => settings,
        Err(refused) => return scale_answer(&state, &current, &headers, &compute, refused).await,
    };
    let sent = send_scale(&state, &current, &peer, &compute, &settings, &typed).await;
    if let Err(refused) = sent {
        return scale_answer(&state, &current, &headers, &compute, refused).await;
    }
    if is_htmx(&headers) {
        let scale = scale_view(&current, &compute, ScaleForm::Saved(settings));
        return Ok(Html(ScaleFragment { scale }.render()?).into_response());
    }
    notice::put(
        &session,
        Notice::good(
            format!("Saved the scale settings of {}.", compute.row.name),
            format!(
                "{} Azure resizes the cluster towards its new minimum.",
                describe_scale(&settings)
            ),
        ),
    )
    .await;
    Ok(Redirect::to(&compute.url()).into_response())
}

/// Only clusters have scale settings, and only contributors and admins change them.
fn authorise_scale(current: &CurrentUser, compute: &Compute) -> Result<(), AppError> {
    if compute.kind != ComputeKind::Cluster {
        return Err(AppError::BadRequest(format!(
            "{} is not a compute cluster; only clusters have scale settings.",
            compute.row.name
        )));
    }
    current.require(Permission::OperateCompute, ownership(current, compute))
}

/// The settings, if the values keep the rules and the cluster is not busy changing already.
fn checked_scale(compute: &Compute, typed: &TypedScale) -> Result<ScaleSettings, ScaleForm> {
    let settings =
        ScaleSettings::from_form(&typed.min_nodes, &typed.max_nodes, &typed.idle_seconds)
            .map_err(|errors| ScaleForm::Invalid(typed.clone(), errors))?;
    if is_transitional(&compute.row.state) {
        let why = format!(
            "{} is {}; wait until that has finished, then save again.",
            compute.row.name,
            state_label(&compute.row.state).to_lowercase()
        );
        return Err(ScaleForm::Refused(typed.clone(), why, StatusCode::CONFLICT));
    }
    Ok(settings)
}

/// Asks Azure, through the operation machinery, and audits the request either way.
async fn send_scale(
    state: &AppState,
    current: &CurrentUser,
    peer: &SocketAddr,
    compute: &Compute,
    settings: &ScaleSettings,
    typed: &TypedScale,
) -> Result<(), ScaleForm> {
    let started = state
        .sync
        .start_operation(
            &compute.row.name,
            Action::UpdateScale(settings.to_arm()),
            &current.user.object_id,
        )
        .await;
    let (outcome, detail) = match &started {
        Ok(_) => ("accepted", describe_scale(settings)),
        Err(e) => ("failed", e.user_message()),
    };
    audit(
        state,
        &current.user,
        "scale",
        &compute.row.name,
        outcome,
        &detail,
        peer,
    )
    .await;
    started
        .map(|_| ())
        .map_err(|e| ScaleForm::Refused(typed.clone(), azure_refusal(&e), refusal_status(&e)))
}

/// A refused save: the section alone for htmx, the whole page without JavaScript; either way
/// with the typed values and the reasons.
async fn scale_answer(
    state: &AppState,
    current: &CurrentUser,
    headers: &HeaderMap,
    compute: &Compute,
    form: ScaleForm,
) -> Result<Response, AppError> {
    let status = match &form {
        ScaleForm::Refused(_, _, status) => *status,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let scale = scale_view(current, compute, form);
    let body = if is_htmx(headers) {
        ScaleFragment { scale }.render()?
    } else {
        details_page(state, current, compute, Some(scale))
            .await?
            .render()?
    };
    Ok((status, Html(body)).into_response())
}

/// Azure's refusal in its own words, with its code.
fn azure_refusal(e: &ArmError) -> String {
    match e {
        ArmError::Api { code, .. } | ArmError::OperationFailed { code, .. } if !code.is_empty() => {
            format!("Azure refused: {} ({code})", e.user_message())
        }
        _ => format!("Azure could not be asked: {}", e.user_message()),
    }
}

/// Azure refused the values (quota, a conflict): 422 or 409; Azure was unreachable: 502.
fn refusal_status(e: &ArmError) -> StatusCode {
    match e.status() {
        Some(409) => StatusCode::CONFLICT,
        Some(400..=499) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_GATEWAY,
    }
}

// ----- the page -------------------------------------------------------------------------------

async fn details_page(
    state: &AppState,
    current: &CurrentUser,
    compute: &Compute,
    scale: Option<ScaleView>,
) -> Result<DetailsPage, AppError> {
    let operations =
        store::operations::for_compute(&state.db, &compute.row.name, RECENT_OPERATIONS).await?;
    let is_instance = compute.kind == ComputeKind::Instance;
    Ok(DetailsPage {
        chrome: state.chrome_for(current),
        name: compute.row.name.clone(),
        kind_label: kind_label(compute),
        description: text(compute.common(), "/description"),
        status: status_view(current, compute),
        overview: overview(state, compute),
        network: network(compute),
        ssh: is_instance.then(|| ssh_view(compute.inner())).flatten(),
        schedules: schedules(compute.inner()),
        idle_shutdown: idle_shutdown(compute.inner()),
        setup_scripts: setup_scripts(compute.inner()),
        problems: problems(compute),
        scale,
        reassign_url: (is_instance
            && current
                .require(Permission::CreateOnBehalf, Ownership::NoCompute)
                .is_ok())
        .then(|| format!("{}/reassign", compute.url())),
        activity_url: format!("/activity?compute={}", url_path_segment(&compute.row.name)),
        operations: operation_rows(state, &operations),
        show_compute: false,
    })
}

fn kind_label(compute: &Compute) -> String {
    match compute.kind {
        ComputeKind::Other => format!("Other ({})", compute.row.compute_type),
        ComputeKind::Attached => format!("Attached compute ({})", compute.row.compute_type),
        kind => kind.label().to_string(),
    }
}

/// "Standard_DS3_v2 (4 vCPUs, 14 GB RAM, standardDSv2Family)" when the create forms' look at
/// the region's sizes is at hand; the bare name otherwise (rendering never waits on Azure).
fn described_size(state: &AppState, size: &str) -> String {
    state
        .offers
        .peek()
        .and_then(|offer| offer.size(size).map(super::create::describe_size))
        .unwrap_or_else(|| size.to_string())
}

/// What it is, where, and whose.
fn overview(state: &AppState, compute: &Compute) -> Vec<Fact> {
    let inner = compute.inner();
    let common = compute.common();
    let mut facts = Facts::default();
    facts.add(
        "VM size",
        compute
            .row
            .vm_size
            .clone()
            .map(|size| described_size(state, &size)),
    );
    facts.add(
        "VM priority",
        text(inner, "/vmPriority").map(|p| state_label(&p)),
    );
    facts.add("Operating system", text(inner, "/osType"));
    facts.add("Region", compute.row.location.clone());
    facts.add(
        "Provisioning",
        text(common, "/provisioningState").map(|s| state_label(&s)),
    );
    facts.add("Created by", created_by(state, compute));
    facts.add(
        "Created on",
        text(common, "/createdOn")
            .or_else(|| text(&compute.resource, "/systemData/createdAt"))
            .map(|at| short_date(&at)),
    );
    facts.add(
        "Modified on",
        text(common, "/modifiedOn").map(|at| short_date(&at)),
    );
    facts.add(
        "Assigned to",
        text(
            inner,
            "/personalComputeInstanceSettings/assignedUser/objectId",
        )
        .map(|id| person(state, &id)),
    );
    facts.add("OS image", os_image(inner));
    facts.add("Cluster address", text(inner, "/clusterFqdn"));
    facts.add(
        "Agent nodes",
        number(inner, "/agentCount").map(|n| n.to_string()),
    );
    facts.add(
        "Cluster purpose",
        text(inner, "/clusterPurpose").map(|p| state_label(&p)),
    );
    facts.add("Address", text(inner, "/address"));
    facts.add("Azure resource", text(common, "/resourceId"));
    facts.0
}

/// The creator: a person's name when the dashboard knows their object id, else Azure's words.
fn created_by(state: &AppState, compute: &Compute) -> Option<String> {
    let inner = compute.inner();
    text(inner, "/createdBy/userId")
        .and_then(|id| state.auth.people.name_of(&id))
        .or_else(|| text(inner, "/createdBy/userName"))
        .or_else(|| text(&compute.resource, "/systemData/createdBy"))
}

/// "25.05.12 (the latest)" or "25.05.12 (25.06.01 is available)".
fn os_image(inner: &Value) -> Option<String> {
    let current = text(inner, "/osImageMetadata/currentImageVersion")?;
    let latest = text(inner, "/osImageMetadata/latestImageVersion");
    let is_latest = inner
        .pointer("/osImageMetadata/isLatestOsImageVersion")
        .and_then(Value::as_bool);
    Some(match (is_latest, latest) {
        (Some(true), _) => format!("{current} (the latest)"),
        (Some(false), Some(latest)) => format!("{current} ({latest} is available)"),
        _ => current,
    })
}

/// Addresses and the virtual network.
fn network(compute: &Compute) -> Vec<Fact> {
    let inner = compute.inner();
    let mut facts = Facts::default();
    facts.add(
        "Private IP",
        text(inner, "/connectivityEndpoints/privateIpAddress"),
    );
    let no_public_ip = inner.get("enableNodePublicIp").and_then(Value::as_bool) == Some(false);
    facts.add(
        "Public IP",
        text(inner, "/connectivityEndpoints/publicIpAddress")
            .or_else(|| no_public_ip.then(|| "None: the nodes have no public IP address".into())),
    );
    if let Some(id) = text(inner, "/subnet/id") {
        match parse_subnet_id(&id) {
            Ok(subnet) => {
                facts.add("Subnet", Some(subnet.name().to_string()));
                facts.add(
                    "Virtual network",
                    subnet.types.first().map(|(_, vnet)| vnet.clone()),
                );
                facts.add("Network resource group", Some(subnet.resource_group));
            }
            Err(_) => facts.add("Subnet", Some(id)),
        }
    }
    facts.add(
        "SSH to the nodes",
        text(inner, "/remoteLoginPortPublicAccess").map(|a| state_label(&a)),
    );
    facts.0
}

/// SSH access of an instance; `None` when Azure says nothing about it.
fn ssh_view(inner: &Value) -> Option<SshView> {
    let settings = inner.get("sshSettings").filter(|v| v.is_object())?;
    let enabled = text(settings, "/sshPublicAccess").as_deref() == Some("Enabled");
    if !enabled {
        return Some(SshView {
            enabled,
            command: None,
            note: None,
            key: None,
        });
    }
    let user = text(settings, "/adminUserName").unwrap_or_else(|| "azureuser".into());
    let port = number(settings, "/sshPort").unwrap_or(22);
    let public = text(inner, "/connectivityEndpoints/publicIpAddress");
    let private = text(inner, "/connectivityEndpoints/privateIpAddress");
    let (address, note) = match (public, private) {
        (Some(public), _) => (Some(public), None),
        (None, Some(private)) => (
            Some(private),
            Some(
                "The instance has no public IP address: connect from inside its virtual network."
                    .to_string(),
            ),
        ),
        (None, None) => (None, None),
    };
    Some(SshView {
        enabled,
        command: address.and_then(|address| ssh_command(&user, port, &address)),
        note,
        key: text(settings, "/adminPublicKey")
            .and_then(|key| SshPublicKey::parse(&key).ok())
            .map(|key| key.describe()),
    })
}

/// The command to copy, only from values that cannot smuggle anything into a shell.
fn ssh_command(user: &str, port: i64, address: &str) -> Option<String> {
    let user_ok = !user.is_empty()
        && user.len() <= 64
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !user.starts_with('-');
    let port_ok = (1..=65_535).contains(&port);
    let address_ok = address.parse::<std::net::IpAddr>().is_ok();
    (user_ok && port_ok && address_ok).then(|| format!("ssh -p {port} {user}@{address}"))
}

/// Each start/stop schedule in one line; one Compute Studio cannot read says so.
fn schedules(inner: &Value) -> Vec<String> {
    inner
        .pointer("/schedules/computeStartStop")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|schedule| match Schedule::from_arm(schedule) {
            Ok(schedule) => schedule.describe(),
            Err(why) => format!("A schedule Compute Studio cannot read: {why}"),
        })
        .collect()
}

/// "After 60 min without activity".
fn idle_shutdown(inner: &Value) -> Option<String> {
    let value = text(inner, "/idleTimeBeforeShutdown")?;
    Some(match parse_iso_duration_secs(&value) {
        Some(seconds) => format!(
            "Stops after {} without activity",
            duration_words(seconds as i64)
        ),
        None => format!("Stops after {value} without activity"),
    })
}

/// Where each setup script comes from; an inline script's text is never shown.
fn setup_scripts(inner: &Value) -> Vec<Fact> {
    let mut facts = Facts::default();
    for (label, field) in [
        ("Creation script", "creationScript"),
        ("Startup script", "startupScript"),
    ] {
        let script = inner
            .pointer(&format!("/setupScripts/scripts/{field}"))
            .unwrap_or(&Value::Null);
        facts.add(label, script_source(script));
    }
    facts.0
}

fn script_source(script: &Value) -> Option<String> {
    let source = text(script, "/scriptSource")?;
    let data = text(script, "/scriptData");
    let what = match (source.to_ascii_lowercase().as_str(), data) {
        ("inline", _) => "An inline script".to_string(),
        ("workspacestorage", Some(path)) => format!("The workspace file {path}"),
        ("url", Some(url)) => format!("Downloaded from {url}"),
        (_, _) => format!("A script from {source}"),
    };
    let arguments = text(script, "/scriptArguments")
        .map(|_| ", with arguments")
        .unwrap_or_default();
    let timeout = text(script, "/timeout")
        .map(|t| format!(", stopped after {t}"))
        .unwrap_or_default();
    Some(format!("{what}{arguments}{timeout}"))
}

/// Azure's provisioning errors and the compute's own `errors`, in Azure's words.
fn problems(compute: &Compute) -> Vec<String> {
    let lists = [
        compute.common().get("provisioningErrors"),
        compute.inner().get("errors"),
    ];
    lists
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(error_words)
        .collect()
}

/// `{error: {code, message}}` (Azure's `ErrorResponse`) or a bare `{code, message}`.
fn error_words(error: &Value) -> Option<String> {
    let detail = error.get("error").unwrap_or(error);
    let message = text(detail, "/message");
    let code = text(detail, "/code");
    match (message, code) {
        (Some(message), Some(code)) => Some(format!("{message} ({code})")),
        (Some(message), None) => Some(message),
        (None, Some(code)) => Some(format!("Azure error code {code}")),
        (None, None) => None,
    }
}

// ----- the status section ---------------------------------------------------------------------

fn status_view(current: &CurrentUser, compute: &Compute) -> StatusView {
    let row = &compute.row;
    StatusView {
        name: row.name.clone(),
        url: format!("{}/status", compute.url()),
        event: super::events::row_event(&row.name),
        gone: false,
        tone: state_tone(&row.state).css_class(),
        transitional: is_transitional(&row.state),
        state: state_label(&row.state),
        last_operation: last_operation(compute.inner()),
        actions: action_buttons(current, compute),
        apps: applications(current, compute),
        nodes: nodes(compute.inner()),
        csrf_token: current.csrf_token.clone(),
    }
}

fn gone_status(name: &str, current: &CurrentUser) -> StatusView {
    StatusView {
        name: name.to_string(),
        url: String::new(),
        event: String::new(),
        gone: true,
        state: "Gone".into(),
        tone: "unknown",
        transitional: false,
        last_operation: None,
        actions: Vec::new(),
        apps: Vec::new(),
        nodes: Vec::new(),
        csrf_token: current.csrf_token.clone(),
    }
}

/// "Stop, by idle shutdown, 2026-11-03 14:12 UTC: succeeded".
fn last_operation(inner: &Value) -> Option<LastOperation> {
    let operation = inner.get("lastOperation")?;
    let what = text(operation, "/operationName")?;
    let trigger = match text(operation, "/operationTrigger").as_deref() {
        Some("User") => "by a person".to_string(),
        Some("Schedule") => "by its schedule".to_string(),
        Some("IdleShutdown") => "by idle shutdown".to_string(),
        Some(other) => format!("by {}", state_label(other).to_lowercase()),
        None => String::new(),
    };
    let when_iso = text(operation, "/operationTime").unwrap_or_default();
    let status = text(operation, "/operationStatus").unwrap_or_else(|| "Unknown".into());
    let tone = if status.ends_with("Failed") {
        "bad"
    } else if status == "InProgress" {
        "busy"
    } else if status == "Succeeded" {
        "good"
    } else {
        "unknown"
    };
    Some(LastOperation {
        what: state_label(&what),
        trigger,
        when: short_date(&when_iso),
        when_iso,
        outcome: state_label(&status),
        tone,
    })
}

/// The actions the person may take in this state: the transitions table and the role rule.
fn action_buttons(current: &CurrentUser, compute: &Compute) -> Vec<ActionButton> {
    if current
        .require(Permission::OperateCompute, ownership(current, compute))
        .is_err()
    {
        return Vec::new();
    }
    ComputeAction::offered(compute.kind, &compute.row.state)
        .into_iter()
        .map(|action| ActionButton {
            label: action.label(),
            url: format!("{}/{}", compute.url(), action.slug()),
            confirm_first: action.needs_confirmation(),
        })
        .collect()
}

/// Links to the applications Azure lists, for the instance's owner while it runs.
fn applications(current: &CurrentUser, compute: &Compute) -> Vec<(&'static str, String)> {
    let may_open = compute.kind == ComputeKind::Instance
        && applications_open_in(&compute.row.state)
        && current
            .require(
                Permission::OpenApplications,
                current.owns(compute.row.owner_object_id.as_deref()),
            )
            .is_ok();
    if !may_open {
        return Vec::new();
    }
    let listed: Vec<String> = compute
        .inner()
        .get("applications")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|app| text(app, "/displayName"))
        .collect();
    Application::ALL
        .into_iter()
        .filter(|app| listed.iter().any(|name| app.matches_display_name(name)))
        .map(|app| {
            (
                app.label(),
                format!("{}/open/{}", compute.url(), app.slug()),
            )
        })
        .collect()
}

/// A cluster's nodes now and where they are heading.
fn nodes(inner: &Value) -> Vec<Fact> {
    let mut facts = Facts::default();
    let count = |field: &str| number(inner, &format!("/{field}")).map(|n| n.to_string());
    facts.add("Current nodes", count("currentNodeCount"));
    facts.add("Target nodes", count("targetNodeCount"));
    facts.add(
        "Allocation",
        text(inner, "/allocationState").map(|allocation| {
            match text(inner, "/allocationStateTransitionTime") {
                Some(since) => format!("{} since {}", state_label(&allocation), short_date(&since)),
                None => state_label(&allocation),
            }
        }),
    );
    facts.add("Node states", node_states(inner));
    facts.0
}

/// "1 running, 2 idle"; "No nodes" when every count is zero.
fn node_states(inner: &Value) -> Option<String> {
    let counts = inner.get("nodeStateCounts").filter(|v| v.is_object())?;
    let words: Vec<String> = [
        ("runningNodeCount", "running"),
        ("idleNodeCount", "idle"),
        ("preparingNodeCount", "preparing"),
        ("leavingNodeCount", "leaving"),
        ("preemptedNodeCount", "pre-empted"),
        ("unusableNodeCount", "unusable"),
    ]
    .into_iter()
    .filter_map(|(field, word)| {
        number(counts, &format!("/{field}"))
            .filter(|n| *n > 0)
            .map(|n| format!("{n} {word}"))
    })
    .collect();
    Some(if words.is_empty() {
        "No nodes".to_string()
    } else {
        words.join(", ")
    })
}

// ----- the scale section ----------------------------------------------------------------------

/// The three fields as typed.
#[derive(Clone)]
struct TypedScale {
    min_nodes: String,
    max_nodes: String,
    idle_seconds: String,
}

impl TypedScale {
    fn from_fields(fields: &FormFields) -> Result<TypedScale, AppError> {
        Ok(TypedScale {
            min_nodes: fields.one("min_nodes")?,
            max_nodes: fields.one("max_nodes")?,
            idle_seconds: fields.one("idle_seconds")?,
        })
    }
}

/// What the scale section shows.
enum ScaleForm {
    /// The settings Azure has.
    Current,
    /// Typed values that break rules, with the rules.
    Invalid(TypedScale, FieldErrors),
    /// Typed values that Azure (or the compute's state) refused, why, and the answer's status.
    Refused(TypedScale, String, StatusCode),
    /// Settings just sent.
    Saved(ScaleSettings),
}

/// The scale section of a cluster.
fn scale_view(current: &CurrentUser, compute: &Compute, form: ScaleForm) -> ScaleView {
    let azure = azure_scale(compute.inner());
    let (typed, errors, refusal, saved) = match form {
        ScaleForm::Current => (azure, FieldErrors::new(), None, false),
        ScaleForm::Invalid(typed, errors) => (typed, errors, None, false),
        ScaleForm::Refused(typed, why, _) => (typed, FieldErrors::new(), Some(why), false),
        ScaleForm::Saved(settings) => (typed_from(&settings), FieldErrors::new(), None, true),
    };
    let summary =
        match ScaleSettings::from_form(&typed.min_nodes, &typed.max_nodes, &typed.idle_seconds) {
            Ok(settings) if refusal.is_none() && errors.is_empty() => describe_scale(&settings),
            _ => String::new(),
        };
    let field =
        |name: &'static str, label: &'static str, value: String, hint: &'static str| ScaleField {
            error: errors.for_field(name).map(str::to_string),
            name,
            label,
            value,
            hint,
        };
    ScaleView {
        url: format!("{}/scale", compute.url()),
        editable: current
            .require(Permission::OperateCompute, ownership(current, compute))
            .is_ok(),
        summary,
        fields: vec![
            field(
                "min_nodes",
                "Minimum nodes",
                typed.min_nodes,
                "0 releases every node when idle: nothing is paid then.",
            ),
            field(
                "max_nodes",
                "Maximum nodes",
                typed.max_nodes,
                "At least 1 and at least the minimum.",
            ),
            field(
                "idle_seconds",
                "Idle seconds before scale down",
                typed.idle_seconds,
                "Empty for Azure's default, 120.",
            ),
        ],
        refusal,
        saved,
        csrf_token: current.csrf_token.clone(),
    }
}

/// Azure's `scaleSettings` as the form's text; a missing or odd value is an empty field.
fn azure_scale(inner: &Value) -> TypedScale {
    let count = |field: &str| {
        number(inner, &format!("/scaleSettings/{field}"))
            .map(|n| n.to_string())
            .unwrap_or_default()
    };
    TypedScale {
        min_nodes: count("minNodeCount"),
        max_nodes: count("maxNodeCount"),
        idle_seconds: text(inner, "/scaleSettings/nodeIdleTimeBeforeScaleDown")
            .and_then(|iso| parse_iso_duration_secs(&iso))
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

fn typed_from(settings: &ScaleSettings) -> TypedScale {
    TypedScale {
        min_nodes: settings.min_nodes.to_string(),
        max_nodes: settings.max_nodes.to_string(),
        idle_seconds: settings.idle_seconds.to_string(),
    }
}

/// "Scales from 0 to 8 nodes; idle nodes are released after 2 min."
fn describe_scale(settings: &ScaleSettings) -> String {
    format!(
        "Scales from {} to {} nodes; idle nodes are released after {}.",
        settings.min_nodes,
        settings.max_nodes,
        duration_words(settings.idle_seconds as i64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_ssh_command_is_built_only_from_sane_values() {
        assert_eq!(
            ssh_command("azureuser", 50001, "20.86.10.21").as_deref(),
            Some("ssh -p 50001 azureuser@20.86.10.21")
        );
        assert_eq!(ssh_command("azureuser; rm -rf ~", 22, "20.86.10.21"), None);
        assert_eq!(ssh_command("-oProxyCommand", 22, "20.86.10.21"), None);
        assert_eq!(ssh_command("azureuser", 0, "20.86.10.21"), None);
        assert_eq!(ssh_command("azureuser", 22, "evil.example; ls"), None);
    }

    #[test]
    fn ssh_without_a_public_address_points_inside_the_network() {
        let inner = json!({
            "sshSettings": {"sshPublicAccess": "Enabled", "adminUserName": "azureuser", "sshPort": 50002},
            "connectivityEndpoints": {"privateIpAddress": "10.0.0.7", "publicIpAddress": null}
        });
        let ssh = ssh_view(&inner).unwrap();
        assert_eq!(
            ssh.command.as_deref(),
            Some("ssh -p 50002 azureuser@10.0.0.7")
        );
        assert!(ssh.note.is_some());
        let off = ssh_view(&json!({"sshSettings": {"sshPublicAccess": "Disabled"}})).unwrap();
        assert!(!off.enabled && off.command.is_none());
        assert!(ssh_view(&json!({})).is_none());
    }

    #[test]
    fn odd_data_from_azure_is_left_out_not_a_panic() {
        let odd = json!({
            "sshSettings": "yes",
            "schedules": {"computeStartStop": [{"action": "Explode"}]},
            "idleTimeBeforeShutdown": 60,
            "setupScripts": {"scripts": {"creationScript": {"scriptSource": "inline", "scriptData": "ZWNobyBzZWNyZXQ="}}},
            "nodeStateCounts": [],
            "errors": [{"error": {"code": "DiskFull", "message": "The disk is full."}}, "what", {}],
            "currentNodeCount": "three"
        });
        assert!(ssh_view(&odd).is_none());
        assert_eq!(
            schedules(&odd).len(),
            1,
            "an unreadable schedule is said so"
        );
        assert_eq!(idle_shutdown(&odd), None);
        let scripts = setup_scripts(&odd);
        assert_eq!(
            scripts[0].value, "An inline script",
            "never the script itself"
        );
        assert!(nodes(&odd).is_empty());
        assert!(last_operation(&odd).is_none());
        assert_eq!(
            error_words(&odd["errors"][0]).as_deref(),
            Some("The disk is full. (DiskFull)")
        );
        assert_eq!(error_words(&odd["errors"][2]), None);
        let scale = azure_scale(&odd);
        assert_eq!(
            (scale.min_nodes.as_str(), scale.idle_seconds.as_str()),
            ("", "")
        );
    }

    #[test]
    fn cluster_nodes_in_words() {
        let inner = json!({
            "currentNodeCount": 1, "targetNodeCount": 2, "allocationState": "Resizing",
            "nodeStateCounts": {"idleNodeCount": 1, "preparingNodeCount": 1, "runningNodeCount": 0}
        });
        let facts: Vec<(&str, String)> = nodes(&inner)
            .into_iter()
            .map(|f| (f.label, f.value))
            .collect();
        assert_eq!(
            facts,
            [
                ("Current nodes", "1".to_string()),
                ("Target nodes", "2".to_string()),
                ("Allocation", "Resizing".to_string()),
                ("Node states", "1 idle, 1 preparing".to_string()),
            ]
        );
        assert_eq!(
            node_states(&json!({"nodeStateCounts": {}})).as_deref(),
            Some("No nodes")
        );
    }

    #[test]
    fn the_last_operation_says_who_triggered_it() {
        let inner = json!({"lastOperation": {
            "operationName": "Stop", "operationTime": "2026-11-03T14:12:09Z",
            "operationStatus": "Succeeded", "operationTrigger": "IdleShutdown"}});
        let op = last_operation(&inner).unwrap();
        assert_eq!(
            (
                op.what.as_str(),
                op.trigger.as_str(),
                op.when.as_str(),
                op.outcome.as_str(),
                op.tone
            ),
            (
                "Stop",
                "by idle shutdown",
                "2026-11-03 14:12 UTC",
                "Succeeded",
                "good"
            )
        );
        let failed =
            json!({"lastOperation": {"operationName": "Start", "operationStatus": "StartFailed"}});
        assert_eq!(last_operation(&failed).unwrap().tone, "bad");
    }
}
