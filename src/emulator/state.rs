//! The emulated world: the computes of the workspace, the long-running operations and the
//! tokens, with the state machine of instances and clusters.
//!
//! Transitions are evaluated lazily: an operation stores when it started and how long it takes,
//! and `settle` applies every transition whose time has come whenever the world is read. That is
//! deterministic, cheap, and needs no task per operation.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::domain::compute::ComputeKind;
use crate::domain::transitions::ComputeAction;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::auth::{Identity, TokenStore};
use super::catalogue::{family_label, synthetic_size, vm_size_catalogue};
use super::config::EmulatorConfig;
use super::error::ArmError;
use super::managed_clusters::ManagedClusterSeed;
use super::managed_identities::resolve_compute_identity;
use super::network::check_compute_subnet;
use super::util::{now_utc, rfc3339};
use super::validation::{
    SCALE_SETTINGS_PATH, check_instance_update, check_new_cluster, check_new_instance,
    scale_settings, ssh_public_access_enabled,
};
use crate::azure::models::{Usage, UsageName, VmSize};
use crate::domain::names::{check_inference_service_rule, check_service_rule};
use crate::domain::scale::{DEFAULT_IDLE_SECONDS, ScaleSettings};

pub const COMPUTE_TYPE: &str = "Microsoft.MachineLearningServices/workspaces/computes";
const INSTANCE: &str = "ComputeInstance";
const CLUSTER: &str = "AmlCompute";
const AKS: &str = "AKS";
/// Compute types a PUT may create. Attached kinds are stored as sent (no state machine).
const KNOWN_TYPES: &[&str] = &[
    INSTANCE,
    CLUSTER,
    "AKS",
    "Kubernetes",
    "VirtualMachine",
    "HDInsight",
    "Databricks",
    "DataLakeAnalytics",
    "SynapseSpark",
    "DataFactory",
];

/// What a PUT of an inference cluster or an attached kind stores: the kind-specific object as
/// Azure completes it, the underlying resource, and for a new AKS cluster the cluster itself.
#[derive(Debug, Clone)]
pub struct KindPlan {
    pub inner: Map<String, Value>,
    pub resource_id: Option<String>,
    /// Brought from outside (`isAttachedCompute`): attaching settles quickly.
    pub attached: bool,
    /// `computeLocation`, when it is not the workspace's.
    pub location: Option<String>,
    pub new_cluster: Option<ManagedClusterSeed>,
}

/// What a long-running operation does to its compute when it settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Start,
    Stop,
    Restart,
    Update,
    Delete,
}

impl Action {
    /// The action in lower case, as the dashboard records it.
    pub fn slug(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    /// `lastOperation.operationName` (instances).
    fn operation_name(self) -> &'static str {
        match self {
            Action::Create => "Create",
            Action::Start => "Start",
            Action::Stop => "Stop",
            Action::Restart => "Restart",
            Action::Update => "Update",
            Action::Delete => "Delete",
        }
    }
}

/// Who asked for an instance power operation (`lastOperation.operationTrigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    User,
    Schedule,
    IdleShutdown,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::User => "User",
            Trigger::Schedule => "Schedule",
            Trigger::IdleShutdown => "IdleShutdown",
        }
    }
}

/// A transition in flight on one compute.
#[derive(Debug, Clone)]
struct Pending {
    op_id: String,
    action: Action,
    due: Instant,
}

/// A long-running operation, as its status and result URLs report it.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub action: Action,
    started: Instant,
    started_at: OffsetDateTime,
    duration: Duration,
    /// Set when the operation is going to fail (a failing VM size).
    failure: Option<ArmError>,
    compute_key: String,
}

/// How an operation stands at some instant.
#[derive(Debug, Clone)]
pub enum OperationOutcome {
    InProgress,
    Succeeded,
    Failed(ArmError),
}

#[derive(Debug, Clone)]
struct StoredCompute {
    /// The full ARM resource, secrets included (they are stripped on the way out).
    resource: Value,
    pending: Option<Pending>,
    /// False for `insert_raw` resources: they never change by themselves.
    managed: bool,
    /// A small number unique to this compute, used for its IP addresses and SSH port.
    ordinal: u32,
    /// Set by `DELETE ?underlyingResourceAction=Delete`: the resource behind the compute goes
    /// with it (`Detach` leaves it).
    delete_underlying: bool,
}

impl StoredCompute {
    fn compute_type(&self) -> &str {
        self.resource["properties"]["computeType"]
            .as_str()
            .unwrap_or("")
    }

    fn name(&self) -> &str {
        self.resource["name"].as_str().unwrap_or("")
    }

    fn provisioning_state(&self) -> &str {
        self.resource["properties"]["provisioningState"]
            .as_str()
            .unwrap_or("")
    }

    fn inner(&self) -> &Value {
        &self.resource["properties"]["properties"]
    }

    fn inner_str(&self, field: &str) -> &str {
        self.inner()[field].as_str().unwrap_or("")
    }

    fn inner_i64(&self, field: &str) -> i64 {
        self.inner()[field].as_i64().unwrap_or(0)
    }
}

pub struct World {
    pub config: EmulatorConfig,
    pub catalogue: Vec<VmSize>,
    computes: BTreeMap<String, StoredCompute>,
    operations: HashMap<String, Operation>,
    next_ordinal: u32,
    pub tokens: TokenStore,
    /// The subscription's AKS clusters: the configured ones, and those inference computes made.
    pub managed_clusters: Vec<ManagedClusterSeed>,
    /// Set by a `ProvisioningFailure` fault for one request: the create, start, stop or restart
    /// it begins will fail.
    pub fail_next_operation: bool,
    /// How many operations a `ProvisioningFailure` fault made fail.
    pub forced_failures: usize,
    /// Every operation begun, in order: (compute name, action, operation id, when).
    executed: Vec<(String, Action, String, OffsetDateTime)>,
}

/// An operation the emulator carried out (a test hook: nothing may be executed twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutedOperation {
    pub compute: String,
    /// `create`, `start`, `stop`, `restart`, `update` or `delete`.
    pub action: &'static str,
    pub operation_id: String,
    /// When the emulator carried out the request.
    pub executed_at: OffsetDateTime,
    /// `InProgress`, `Succeeded` or `Failed`.
    pub status: &'static str,
    /// Azure's error code and message when it failed.
    pub error: Option<(String, String)>,
}

impl World {
    pub fn new(config: EmulatorConfig) -> Self {
        let mut catalogue = vm_size_catalogue();
        for failing in &config.failing_vm_sizes {
            if !catalogue
                .iter()
                .any(|s| s.name.eq_ignore_ascii_case(failing))
            {
                catalogue.push(synthetic_size(failing));
            }
        }
        World {
            managed_clusters: config.managed_clusters.clone(),
            config,
            catalogue,
            computes: BTreeMap::new(),
            operations: HashMap::new(),
            next_ordinal: 0,
            tokens: TokenStore::default(),
            fail_next_operation: false,
            forced_failures: 0,
            executed: Vec::new(),
        }
    }

    fn vm_size(&self, name: &str) -> Option<&VmSize> {
        self.catalogue
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// vCPUs of a VM size of the catalogue, 0 for a size it does not know.
    pub fn vcpus_of(&self, size: &str) -> i64 {
        self.vm_size(size).map_or(0, |s| s.v_cpus)
    }

    /// The compute of this workspace that has `resource_id` behind it, if any.
    pub fn compute_attached_to(&self, resource_id: &str) -> Option<String> {
        self.computes
            .values()
            .find(|c| {
                c.resource["properties"]["resourceId"]
                    .as_str()
                    .is_some_and(|id| id.eq_ignore_ascii_case(resource_id))
            })
            .map(|c| c.name().to_string())
    }

    pub fn workspace_id(&self) -> String {
        let c = &self.config;
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
            c.subscription_id, c.resource_group, c.workspace
        )
    }

    // ----- reading -------------------------------------------------------------------------

    /// Applies every transition whose time has come.
    pub fn settle(&mut self, now: Instant) {
        let due: Vec<String> = self
            .computes
            .iter()
            .filter(|(_, c)| c.pending.as_ref().is_some_and(|p| p.due <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            self.finish_pending(&key);
        }
    }

    /// One page of the computes, in a stable order, as GET shows them, and how many there are.
    /// Only the page is rendered: listing a big workspace page by page stays linear.
    pub fn list_page_views(&self, offset: usize, limit: usize) -> (Vec<Value>, usize) {
        let page = self
            .computes
            .values()
            .skip(offset)
            .take(limit)
            .map(|c| view(&c.resource))
            .collect();
        (page, self.computes.len())
    }

    pub fn get_view(&self, name: &str) -> Option<Value> {
        self.computes.get(&key_of(name)).map(|c| view(&c.resource))
    }

    pub fn operation_outcome(
        &self,
        op_id: &str,
        now: Instant,
    ) -> Option<(Operation, OperationOutcome)> {
        let op = self.operations.get(op_id)?;
        let outcome = if now < op.started + op.duration {
            OperationOutcome::InProgress
        } else if let Some(failure) = &op.failure {
            OperationOutcome::Failed(failure.clone())
        } else {
            OperationOutcome::Succeeded
        };
        Some((op.clone(), outcome))
    }

    /// The `computeOperationsStatus` body of an operation.
    pub fn operation_status_body(&self, op_id: &str, now: Instant) -> Option<Value> {
        let (op, outcome) = self.operation_outcome(op_id, now)?;
        let c = &self.config;
        let mut body = json!({
            "id": format!(
                "/subscriptions/{}/providers/Microsoft.MachineLearningServices/locations/{}/computeOperationsStatus/{}",
                c.subscription_id, c.location, op.id
            ),
            "name": op.id,
            "startTime": rfc3339(op.started_at),
        });
        let elapsed = now.saturating_duration_since(op.started);
        match outcome {
            OperationOutcome::InProgress => {
                let percent = if op.duration.is_zero() {
                    0.0
                } else {
                    (elapsed.as_secs_f64() / op.duration.as_secs_f64() * 100.0).floor()
                };
                body["status"] = json!("InProgress");
                body["percentComplete"] = json!(percent.min(99.0));
            }
            OperationOutcome::Succeeded | OperationOutcome::Failed(_) => {
                body["endTime"] = json!(rfc3339(op.started_at + op.duration));
                body["percentComplete"] = json!(100.0);
                body["status"] = json!("Succeeded");
                if let OperationOutcome::Failed(error) = outcome {
                    body["status"] = json!("Failed");
                    body["error"] = json!({ "code": error.code, "message": error.message });
                }
            }
        }
        Some(body)
    }

    /// The resource an operation was about, if it still exists.
    pub fn operation_target_view(&self, op: &Operation) -> Option<Value> {
        self.computes
            .get(&op.compute_key)
            .map(|c| view(&c.resource))
    }

    /// Every operation begun so far, in order, with how it stands at `now`.
    pub fn executed_operations(&self, now: Instant) -> Vec<ExecutedOperation> {
        self.executed
            .iter()
            .map(|(compute, action, op_id, at)| {
                let (status, error) = match self.operation_outcome(op_id, now) {
                    Some((_, OperationOutcome::Succeeded)) => ("Succeeded", None),
                    Some((_, OperationOutcome::Failed(e))) => {
                        ("Failed", Some((e.code.clone(), e.message.clone())))
                    }
                    _ => ("InProgress", None),
                };
                ExecutedOperation {
                    compute: compute.clone(),
                    action: action.slug(),
                    operation_id: op_id.clone(),
                    executed_at: *at,
                    status,
                    error,
                }
            })
            .collect()
    }

    /// The names of every compute, in a stable order.
    pub fn compute_names(&self) -> Vec<String> {
        self.computes
            .values()
            .map(|c| c.name().to_string())
            .collect()
    }

    // ----- create and update ---------------------------------------------------------------

    /// `PUT …/computes/{name}`: creates (201) or updates (200) a compute.
    pub fn create_or_update(
        &mut self,
        name: &str,
        body: &Value,
        caller: &Identity,
    ) -> Result<(StatusCode, Value, String), ArmError> {
        let request = ComputeRequest::parse(body)?;
        // Inference clusters keep the studio's 2–16 (see `check_inference_rule`).
        let name_rule = if request.compute_type == AKS {
            check_inference_service_rule(name)
        } else {
            check_service_rule(name)
        };
        name_rule.map_err(|rule| {
            ArmError::bad_request(
                "ValidationError",
                format!("Compute name '{name}' is not available. Reason: Invalid. Message: {rule}"),
            )
        })?;
        if request.compute_type == INSTANCE || request.compute_type == CLUSTER {
            check_compute_subnet(&self.config, &request.inner)?;
        }
        let key = key_of(name);
        let identity = self.requested_identity(&key, &request)?;
        if let Some(existing) = self.computes.get(&key) {
            if existing.name() != name {
                return Err(ArmError::conflict(
                    "Compute with this name already exists. Compute name needs to be unique across all existing computes within an Azure region.",
                ));
            }
            return self.update_existing(&key, &request, identity);
        }
        self.create_new(name, &request, identity, caller)
    }

    /// The `identity` of a PUT, checked and completed as ARM stores it (`None` if none was sent).
    fn requested_identity(
        &self,
        key: &str,
        request: &ComputeRequest,
    ) -> Result<Option<Value>, ArmError> {
        let Some(sent) = request.envelope.get("identity").filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let previous = self
            .computes
            .get(key)
            .and_then(|c| c.resource.get("identity"));
        resolve_compute_identity(sent, previous, &self.config).map(Some)
    }

    fn create_new(
        &mut self,
        name: &str,
        request: &ComputeRequest,
        identity: Option<Value>,
        caller: &Identity,
    ) -> Result<(StatusCode, Value, String), ArmError> {
        let compute_type = request.compute_type.as_str();
        let managed = compute_type == INSTANCE || compute_type == CLUSTER;
        let mut failure = None;
        let mut inner = request.inner.clone();
        let mut cluster_scale = None;
        let location = request
            .envelope
            .get("location")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty())
            .unwrap_or(&self.config.location)
            .to_string();
        let kind_plan = if compute_type == AKS {
            Some(super::inference::prepare(
                self,
                name,
                &request.properties,
                &request.inner,
                &location,
            )?)
        } else if super::attached::ATTACHED_TYPES.contains(&compute_type) {
            Some(super::attached::prepare(
                compute_type,
                &request.properties,
                &request.inner,
            )?)
        } else {
            None
        };
        let is_attached = kind_plan.as_ref().map_or(!managed, |plan| plan.attached);
        if managed {
            let vm = self.checked_vm_size(&request.inner)?.clone();
            if compute_type == INSTANCE {
                check_new_instance(&request.inner)?;
                self.check_quota(&vm, 1, vm.v_cpus, None)?;
            } else {
                let scale = check_new_cluster(&request.inner)?;
                let nodes = i64::from(scale.min_nodes).max(1);
                self.check_quota(&vm, nodes, nodes * vm.v_cpus, None)?;
                cluster_scale = Some(scale);
            }
            if self.config.is_failing_size(&vm.name) {
                failure = Some(allocation_failure(&vm.name, &self.config.location));
            }
            if inner.get("vmSize").is_none_or(Value::is_null) {
                inner.insert("vmSize".into(), json!(vm.name));
            }
        }

        let ordinal = self.next_ordinal;
        self.next_ordinal += 1;
        let now = now_utc();
        let mut properties = request.properties.clone();
        properties.insert("computeType".into(), json!(compute_type));
        properties.insert("computeLocation".into(), json!(self.config.location));
        properties.insert("provisioningState".into(), json!("Creating"));
        properties.insert("createdOn".into(), json!(rfc3339(now)));
        properties.insert("modifiedOn".into(), json!(rfc3339(now)));
        properties.insert("isAttachedCompute".into(), json!(is_attached));
        properties.remove("provisioningErrors");
        let mut new_cluster = None;
        if let Some(plan) = kind_plan {
            inner = plan.inner;
            if let Some(id) = plan.resource_id {
                properties.insert("resourceId".into(), json!(id));
            }
            if let Some(location) = plan.location {
                properties.insert("computeLocation".into(), json!(location));
            }
            new_cluster = plan.new_cluster;
        }
        let inner = match (compute_type, cluster_scale) {
            (INSTANCE, _) => self.instance_properties(name, inner, caller, ordinal, now),
            (CLUSTER, Some(scale)) => cluster_properties(inner, scale, now),
            _ => inner,
        };
        properties.insert("properties".into(), Value::Object(inner));

        let mut resource = json!({
            "id": format!("{}/computes/{}", self.workspace_id(), name),
            "name": name,
            "type": COMPUTE_TYPE,
            "location": self.config.location,
            "systemData": system_data(caller, now),
            "properties": Value::Object(properties),
        });
        for field in ["tags", "sku"] {
            if let Some(v) = request.envelope.get(field) {
                resource[field] = v.clone();
            }
        }
        if let Some(identity) = identity {
            resource["identity"] = identity;
        }

        let key = key_of(name);
        self.computes.insert(
            key.clone(),
            StoredCompute {
                resource,
                pending: None,
                managed: true,
                ordinal,
                delete_underlying: false,
            },
        );
        if let Some(cluster) = new_cluster {
            self.managed_clusters.push(cluster);
        }
        // Attaching provisions nothing: Azure is done as soon as it has checked.
        let duration = if is_attached {
            self.config.timings.update
        } else {
            self.config.timings.create
        };
        let op_id = self.begin(&key, Action::Create, duration, failure);
        let body = self.get_view(name).unwrap_or(Value::Null);
        Ok((StatusCode::CREATED, body, op_id))
    }

    /// PUT on an existing compute: description, tags, identity, schedules, idle shutdown and
    /// scale settings may change; the type and VM size may not.
    fn update_existing(
        &mut self,
        key: &str,
        request: &ComputeRequest,
        identity: Option<Value>,
    ) -> Result<(StatusCode, Value, String), ArmError> {
        let existing = self
            .computes
            .get(key)
            .ok_or_else(|| not_found_compute(key))?;
        if existing.compute_type() != request.compute_type {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "Compute '{}' is of type '{}'; the compute type of an existing compute cannot be changed to '{}'.",
                    existing.name(),
                    existing.compute_type(),
                    request.compute_type
                ),
            ));
        }
        if let Some(new_size) = request.inner.get("vmSize").and_then(Value::as_str)
            && !new_size.eq_ignore_ascii_case(existing.inner_str("vmSize"))
        {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "Updating the VM size of compute '{}' from '{}' to '{}' is not supported. Use resize for a compute instance, or create a new compute.",
                    existing.name(),
                    existing.inner_str("vmSize"),
                    new_size
                ),
            ));
        }
        self.refuse_if_busy(key)?;
        refuse_if_unmanaged(existing)?;
        let is_cluster = existing.compute_type() == CLUSTER;
        let rescale = match (is_cluster, request.inner.get("scaleSettings")) {
            (true, Some(sent)) => {
                Some((self.checked_rescale(key, sent, SCALE_SETTINGS_PATH)?, sent))
            }
            _ => None,
        };
        if existing.compute_type() == INSTANCE {
            check_instance_update(&request.inner)?;
        }

        let compute = self
            .computes
            .get_mut(key)
            .ok_or_else(|| not_found_compute(key))?;
        let props = &mut compute.resource["properties"];
        if let Some(description) = request.properties.get("description") {
            props["description"] = description.clone();
        }
        for field in ["schedules", "idleTimeBeforeShutdown"] {
            if let Some(v) = request.inner.get(field) {
                props["properties"][field] = v.clone();
            }
        }
        if let Some(tags) = request.envelope.get("tags") {
            compute.resource["tags"] = tags.clone();
        }
        if let Some(identity) = identity {
            compute.resource["identity"] = identity;
        }
        if let Some((scale, sent)) = rescale {
            apply_rescale(compute, scale, sent);
        }
        let duration = self.config.timings.update;
        let op_id = self.begin(key, Action::Update, duration, None);
        let body = self
            .computes
            .get(key)
            .map(|c| view(&c.resource))
            .unwrap_or(Value::Null);
        Ok((StatusCode::OK, body, op_id))
    }

    /// `PATCH …/computes/{name}`: new scale settings of a cluster.
    pub fn patch(&mut self, name: &str, body: &Value) -> Result<(Value, String), ArmError> {
        let key = key_of(name);
        let compute = self
            .computes
            .get(&key)
            .ok_or_else(|| not_found_compute(name))?;
        if compute.compute_type() != CLUSTER {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "Updating scale settings is only supported for AmlCompute; '{}' is a {}.",
                    compute.name(),
                    compute.compute_type()
                ),
            ));
        }
        let (path, settings) = patched_scale_settings(body).ok_or_else(|| {
            ArmError::bad_request(
                "BadRequest",
                "The request body must contain properties.properties.scaleSettings.",
            )
        })?;
        self.refuse_if_busy(&key)?;
        refuse_if_unmanaged(compute)?;
        let scale = self.checked_rescale(&key, settings, path)?;
        let compute = self
            .computes
            .get_mut(&key)
            .ok_or_else(|| not_found_compute(name))?;
        apply_rescale(compute, scale, settings);
        let duration = self.config.timings.update;
        let op_id = self.begin(&key, Action::Update, duration, None);
        let view = self.get_view(name).unwrap_or(Value::Null);
        Ok((view, op_id))
    }

    /// Validates new scale settings of an existing cluster, sent at `path`, including the quota
    /// for the growth.
    fn checked_rescale(
        &self,
        key: &str,
        settings: &Value,
        path: &str,
    ) -> Result<ScaleSettings, ArmError> {
        let scale = scale_settings(settings, path)?;
        let compute = self
            .computes
            .get(key)
            .ok_or_else(|| not_found_compute(key))?;
        if let Some(vm) = self.vm_size(compute.inner_str("vmSize")) {
            let current = compute
                .inner_i64("currentNodeCount")
                .max(compute.inner_i64("targetNodeCount"));
            let growth = i64::from(scale.min_nodes) - current;
            if growth > 0 {
                self.check_quota(vm, growth, growth * vm.v_cpus, Some(key))?;
            }
        }
        Ok(scale)
    }

    // ----- delete and power ----------------------------------------------------------------

    /// `DELETE …/computes/{name}`: `Ok(None)` when there is nothing to delete (204).
    pub fn delete(&mut self, name: &str, action: Option<&str>) -> Result<Option<String>, ArmError> {
        let valid = action
            .is_some_and(|a| a.eq_ignore_ascii_case("Delete") || a.eq_ignore_ascii_case("Detach"));
        if !valid {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "The query parameter 'underlyingResourceAction' is required and must be 'Delete' or 'Detach' (got '{}').",
                    action.unwrap_or("")
                ),
            ));
        }
        let key = key_of(name);
        let Some(compute) = self.computes.get_mut(&key) else {
            return Ok(None);
        };
        // A repeated DELETE while deleting is answered with the same operation (idempotent).
        if let Some(p) = &compute.pending
            && p.action == Action::Delete
        {
            return Ok(Some(p.op_id.clone()));
        }
        let is_instance = compute.managed && compute.compute_type() == INSTANCE;
        compute.delete_underlying = action.is_some_and(|a| a.eq_ignore_ascii_case("Delete"));
        if let Some(props) = compute
            .resource
            .get_mut("properties")
            .and_then(Value::as_object_mut)
        {
            props.insert("provisioningState".into(), json!("Deleting"));
            if is_instance
                && let Some(inner) = props.get_mut("properties").and_then(Value::as_object_mut)
            {
                inner.insert("state".into(), json!("Deleting"));
            }
        }
        let duration = self.config.timings.delete;
        Ok(Some(self.begin(&key, Action::Delete, duration, None)))
    }

    /// `POST …/start|stop|restart` on an instance.
    pub fn power(
        &mut self,
        name: &str,
        action: Action,
        trigger: Trigger,
    ) -> Result<String, ArmError> {
        let key = key_of(name);
        let compute = self
            .computes
            .get(&key)
            .ok_or_else(|| not_found_compute(name))?;
        if compute.compute_type() != INSTANCE {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "{} is only supported for compute instances; '{}' is a {}.",
                    action.operation_name(),
                    compute.name(),
                    compute.compute_type()
                ),
            ));
        }
        refuse_if_unmanaged(compute)?;
        let state = compute.inner_str("state").to_string();
        // Which state allows which action is the domain's one table, the dashboard's too.
        let (rule, wanted, transitional, duration) = match action {
            Action::Start => (
                ComputeAction::Start,
                "stopped",
                "Starting",
                self.config.timings.start,
            ),
            Action::Stop => (
                ComputeAction::Stop,
                "running",
                "Stopping",
                self.config.timings.stop,
            ),
            _ => (
                ComputeAction::Restart,
                "running",
                "Restarting",
                self.config.timings.restart,
            ),
        };
        let allowed = rule.check(ComputeKind::Instance, &state).is_ok();
        if compute.pending.is_some() || !allowed {
            return Err(ArmError::conflict(format!(
                "{} Azure ML Compute Instance is only allowed when the instance {} is in '{}' state. The current state is '{}'.",
                action.operation_name(),
                compute.name(),
                wanted,
                state
            )));
        }
        let compute = self
            .computes
            .get_mut(&key)
            .ok_or_else(|| not_found_compute(name))?;
        let inner = &mut compute.resource["properties"]["properties"];
        inner["state"] = json!(transitional);
        inner["lastOperation"] = last_operation(action, "InProgress", trigger, now_utc());
        Ok(self.begin(&key, action, duration, None))
    }

    /// `POST …/listNodes` of a cluster: synthetic nodes, one page.
    pub fn list_nodes(&self, name: &str) -> Result<Value, ArmError> {
        let compute = self
            .computes
            .get(&key_of(name))
            .ok_or_else(|| not_found_compute(name))?;
        if compute.compute_type() != CLUSTER {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "listNodes is only supported for AmlCompute; '{}' is a {}.",
                    compute.name(),
                    compute.compute_type()
                ),
            ));
        }
        let count = compute.inner_i64("currentNodeCount").max(0);
        let running = compute.inner()["nodeStateCounts"]["runningNodeCount"]
            .as_i64()
            .unwrap_or(0);
        let public_ip = compute.inner()["enableNodePublicIp"].as_bool() != Some(false);
        let nodes: Vec<Value> = (0..count)
            .map(|i| {
                json!({
                    "nodeId": format!("tvm-{}_{}-20250101t000000z", 3_601_533_000u64 + u64::from(compute.ordinal), i + 1),
                    "privateIpAddress": format!("10.0.{}.{}", 100 + compute.ordinal % 100, 4 + i),
                    "publicIpAddress": if public_ip { json!(format!("20.31.{}.{}", 10 + compute.ordinal % 200, 10 + i)) } else { Value::Null },
                    "port": 50000 + i,
                    "nodeState": if i < running { "running" } else { "idle" },
                    "runId": Value::Null,
                })
            })
            .collect();
        Ok(json!({ "nodes": nodes }))
    }

    // ----- test hooks ------------------------------------------------------------------------

    /// Stores a resource exactly as given; it never changes by itself.
    pub fn insert_raw(&mut self, resource: Value) {
        let name = resource["name"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("raw-{}", self.next_ordinal));
        let ordinal = self.next_ordinal;
        self.next_ordinal += 1;
        self.computes.insert(
            key_of(&name),
            StoredCompute {
                resource,
                pending: None,
                managed: false,
                ordinal,
                delete_underlying: false,
            },
        );
    }

    // ----- quota -----------------------------------------------------------------------------

    /// vCPUs in use per family (lowercased) and in total, optionally leaving one compute out.
    fn cores_in_use(&self, exclude: Option<&str>) -> (HashMap<String, i64>, i64) {
        let mut per_family: HashMap<String, i64> = HashMap::new();
        let mut total = 0;
        for (key, compute) in &self.computes {
            if Some(key.as_str()) == exclude {
                continue;
            }
            let Some(vm) = self.vm_size(compute.inner_str("vmSize")) else {
                continue;
            };
            let cores = compute_cores(compute, vm);
            if cores > 0 {
                *per_family
                    .entry(vm.family.to_ascii_lowercase())
                    .or_default() += cores;
                total += cores;
            }
        }
        (per_family, total)
    }

    fn check_quota(
        &self,
        vm: &VmSize,
        nodes: i64,
        requested: i64,
        exclude: Option<&str>,
    ) -> Result<(), ArmError> {
        let (per_family, total) = self.cores_in_use(exclude);
        let node_word = if nodes == 1 { "node" } else { "nodes" };
        if let Some(limit) = self.config.family_limit(&vm.family) {
            let used = per_family
                .get(&vm.family.to_ascii_lowercase())
                .copied()
                .unwrap_or(0);
            if used + requested > limit {
                return Err(ArmError::bad_request(
                    "QuotaExceeded",
                    format!(
                        "The specified subscription has a {} vCPU quota of {limit} and cannot accomodate for at least {nodes} requested managed compute {node_word} which maps to {requested} vCPUs. Current usage is {used} vCPUs in location '{}'. Please request a quota increase for this VM family.",
                        family_label(&vm.family),
                        self.config.location
                    ),
                ));
            }
        }
        let limit = self.config.regional_core_limit;
        if total + requested > limit {
            return Err(ArmError::bad_request(
                "QuotaExceeded",
                format!(
                    "The specified subscription has a total vCPU quota of {limit} and cannot accomodate for at least {nodes} requested managed compute {node_word} which maps to {requested} vCPUs. Current usage is {total} vCPUs in location '{}'.",
                    self.config.location
                ),
            ));
        }
        Ok(())
    }

    /// `GET L/usages`: one item per family with a quota, plus the regional totals.
    pub fn usages(&self) -> Vec<Usage> {
        let c = &self.config;
        let (per_family, total) = self.cores_in_use(None);
        let provider = format!(
            "/subscriptions/{}/providers/Microsoft.MachineLearningServices",
            c.subscription_id
        );
        let usage =
            |id: String, kind: &str, value: &str, label: String, current: i64, limit: i64| Usage {
                id: Some(id),
                aml_workspace_location: Some(c.location.clone()),
                usage_type: format!("Microsoft.MachineLearningServices/{kind}/usages"),
                unit: "Count".to_string(),
                current_value: current,
                limit,
                name: UsageName {
                    value: value.to_string(),
                    localized_value: label,
                },
            };
        let mut out = vec![
            usage(
                format!("{provider}/totalCores/usages"),
                "totalCores",
                "TotalCores",
                "Total Regional vCPUs".into(),
                total,
                c.regional_core_limit,
            ),
            usage(
                format!("{provider}/dedicatedCores/usages"),
                "dedicatedCores",
                "DedicatedCores",
                "Total Regional Dedicated vCPUs".into(),
                total,
                c.regional_core_limit,
            ),
        ];
        for (family, limit) in &c.quotas {
            let current = per_family
                .get(&family.to_ascii_lowercase())
                .copied()
                .unwrap_or(0);
            out.push(usage(
                format!("{provider}/vmFamily/{family}/usages"),
                "vmFamily",
                family,
                format!("{} vCPUs", family_label(family)),
                current,
                *limit,
            ));
        }
        out
    }

    // ----- transitions -------------------------------------------------------------------------

    fn refuse_if_busy(&self, key: &str) -> Result<(), ArmError> {
        match self.computes.get(key) {
            Some(c) if c.pending.is_some() => Err(ArmError::conflict(format!(
                "The compute '{}' is busy with another operation (provisioning state '{}'); try again when it has finished.",
                c.name(),
                c.provisioning_state()
            ))),
            _ => Ok(()),
        }
    }

    /// Records a new operation on a compute and marks the compute busy until it is due.
    fn begin(
        &mut self,
        key: &str,
        action: Action,
        duration: Duration,
        failure: Option<ArmError>,
    ) -> String {
        let op_id = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let failure = match failure {
            None if self.fail_next_operation
                && matches!(
                    action,
                    Action::Create | Action::Start | Action::Stop | Action::Restart
                ) =>
            {
                self.fail_next_operation = false;
                self.forced_failures += 1;
                Some(self.injected_failure(key, action))
            }
            other => other,
        };
        let name = self
            .computes
            .get(key)
            .map_or_else(|| key.to_string(), |c| c.name().to_string());
        self.executed
            .push((name, action, op_id.clone(), OffsetDateTime::now_utc()));
        self.operations.insert(
            op_id.clone(),
            Operation {
                id: op_id.clone(),
                action,
                started,
                started_at: now_utc(),
                duration,
                failure,
                compute_key: key.to_string(),
            },
        );
        if let Some(compute) = self.computes.get_mut(key) {
            if action == Action::Update {
                compute.resource["properties"]["provisioningState"] = json!("Updating");
            }
            compute.pending = Some(Pending {
                op_id: op_id.clone(),
                action,
                due: started + duration,
            });
        }
        op_id
    }

    /// The error of an operation a `ProvisioningFailure` fault makes fail, in Azure's words.
    fn injected_failure(&self, key: &str, action: Action) -> ArmError {
        let compute = self.computes.get(key);
        let name = compute.map_or(key, |c| c.name());
        let vm_size = compute.map_or("", |c| c.inner_str("vmSize"));
        match action {
            Action::Create | Action::Start => allocation_failure(vm_size, &self.config.location),
            _ => ArmError::bad_request(
                "ComputeInstanceOperationFailed",
                format!(
                    "{} of compute instance '{name}' failed: the VM agent did not respond in time. The instance was left as it was; retry the operation.",
                    action.operation_name()
                ),
            ),
        }
    }

    /// Applies the end of the transition in flight on a compute.
    fn finish_pending(&mut self, key: &str) {
        let Some(pending) = self.computes.get_mut(key).and_then(|c| c.pending.take()) else {
            return;
        };
        if pending.action == Action::Delete {
            if let Some(gone) = self.computes.remove(key)
                && gone.delete_underlying
                && let Some(id) = gone.resource["properties"]["resourceId"].as_str()
            {
                let subscription = self.config.subscription_id.clone();
                self.managed_clusters
                    .retain(|c| !c.id(&subscription).eq_ignore_ascii_case(id));
            }
            return;
        }
        let failure = self
            .operations
            .get(&pending.op_id)
            .and_then(|op| op.failure.clone());
        let trigger = self.computes.get(key).map(|c| {
            c.inner()["lastOperation"]["operationTrigger"]
                .as_str()
                .unwrap_or("User")
                .to_string()
        });
        let Some(compute) = self.computes.get_mut(key) else {
            return;
        };
        let now = now_utc();
        let is_instance = compute.compute_type() == INSTANCE;
        let is_cluster = compute.compute_type() == CLUSTER;
        let props = &mut compute.resource["properties"];
        props["modifiedOn"] = json!(rfc3339(now));
        let power_action = matches!(
            pending.action,
            Action::Start | Action::Stop | Action::Restart
        );
        if let Some(error) = failure.as_ref().filter(|_| power_action && is_instance) {
            // A failed power operation leaves the instance where it was, with Azure's error.
            let trigger = trigger_of(trigger.as_deref());
            let (back_to, status) = match pending.action {
                Action::Start => ("Stopped", "StartFailed"),
                Action::Stop => ("Running", "StopFailed"),
                _ => ("Running", "RestartFailed"),
            };
            props["provisioningState"] = json!("Succeeded");
            let inner = &mut props["properties"];
            inner["state"] = json!(back_to);
            inner["lastOperation"] = last_operation(pending.action, status, trigger, now);
            inner["errors"] =
                json!([{ "error": { "code": error.code, "message": error.message } }]);
            return;
        }
        if let Some(error) = failure {
            props["provisioningState"] = json!("Failed");
            props["provisioningErrors"] =
                json!([{ "error": { "code": error.code, "message": error.message } }]);
            if is_instance {
                props["properties"]["state"] = json!("CreateFailed");
                props["properties"]["lastOperation"] =
                    last_operation(Action::Create, "CreateFailed", Trigger::User, now);
                props["properties"]["errors"] = props["provisioningErrors"].clone();
            }
            if is_cluster {
                props["properties"]["errors"] = props["provisioningErrors"].clone();
                props["properties"]["targetNodeCount"] = json!(0);
            }
            return;
        }
        props["provisioningState"] = json!("Succeeded");
        let inner = &mut props["properties"];
        if is_instance {
            let trigger = trigger_of(trigger.as_deref());
            if power_action {
                inner["errors"] = Value::Null;
            }
            match pending.action {
                Action::Create | Action::Start | Action::Restart => {
                    inner["state"] = json!("Running")
                }
                Action::Stop => inner["state"] = json!("Stopped"),
                Action::Update | Action::Delete => {}
            }
            if pending.action != Action::Update {
                inner["lastOperation"] = last_operation(pending.action, "Succeeded", trigger, now);
            }
        }
        if is_cluster {
            settle_cluster_nodes(inner, now);
        }
    }

    /// Demo and seed helper: finishes the transition of a compute now.
    pub fn force_settle(&mut self, name: &str) {
        let key = key_of(name);
        if let Some(op_id) = self
            .computes
            .get(&key)
            .and_then(|c| c.pending.as_ref())
            .map(|p| p.op_id.clone())
        {
            if let Some(op) = self.operations.get_mut(&op_id) {
                op.duration = Duration::ZERO;
            }
            self.finish_pending(&key);
        }
    }

    /// Demo helper: moves the creation date of a compute into the past.
    pub fn backdate(&mut self, name: &str, age: Duration) {
        if let Some(compute) = self.computes.get_mut(&key_of(name)) {
            let when = rfc3339(now_utc() - age);
            compute.resource["properties"]["createdOn"] = json!(when);
            compute.resource["properties"]["modifiedOn"] = json!(when);
            compute.resource["systemData"]["createdAt"] = json!(when);
            compute.resource["systemData"]["lastModifiedAt"] = json!(when);
            if compute.compute_type() == INSTANCE {
                compute.resource["properties"]["properties"]["lastOperation"]["operationTime"] =
                    json!(when);
            }
        }
    }

    /// Demo helper: the names of the instances that are settled in `state`.
    pub fn settled_instances_in(&self, state: &str) -> Vec<String> {
        self.computes
            .values()
            .filter(|c| {
                c.managed
                    && c.pending.is_none()
                    && c.compute_type() == INSTANCE
                    && c.inner_str("state") == state
            })
            .map(|c| c.name().to_string())
            .collect()
    }

    // ----- instance properties -----------------------------------------------------------------

    /// Fills an instance's kind-specific object the way Azure does on creation.
    fn instance_properties(
        &self,
        name: &str,
        mut inner: Map<String, Value>,
        caller: &Identity,
        ordinal: u32,
        now: OffsetDateTime,
    ) -> Map<String, Value> {
        let location = &self.config.location;
        let ssh_enabled = ssh_public_access_enabled(&inner);
        let mut ssh = json!({
            "sshPublicAccess": if ssh_enabled { "Enabled" } else { "Disabled" },
            "adminUserName": "azureuser",
            "sshPort": if ssh_enabled { 50000 + ordinal } else { 22 },
        });
        if let Some(key) = inner
            .get("sshSettings")
            .and_then(|s| s.get("adminPublicKey"))
        {
            ssh["adminPublicKey"] = key.clone();
        }
        let public_ip = inner.get("enableNodePublicIp").and_then(Value::as_bool) != Some(false);
        let host = format!(
            "https://{}.{}.instances.azureml.ms",
            name.to_ascii_lowercase(),
            location
        );
        let defaults = [
            ("applicationSharingPolicy", json!("Shared")),
            ("computeInstanceAuthorizationType", json!("personal")),
            ("enableNodePublicIp", json!(true)),
            ("enableSSO", json!(true)),
            ("enableRootAccess", json!(true)),
            ("enableOSPatching", json!(false)),
            ("releaseQuotaOnStop", json!(false)),
        ];
        for (field, value) in defaults {
            if inner.get(field).is_none_or(Value::is_null) {
                inner.insert(field.into(), value);
            }
        }
        let computed = [
            ("sshSettings", ssh),
            (
                "connectivityEndpoints",
                json!({
                    "publicIpAddress": if public_ip { json!(format!("20.86.{}.{}", 10 + ordinal / 200, 20 + ordinal % 200)) } else { Value::Null },
                    "privateIpAddress": format!("10.0.{}.{}", ordinal / 250, 4 + ordinal % 250),
                }),
            ),
            (
                "applications",
                json!([
                    { "displayName": "Jupyter", "endpointUri": format!("{host}/tree/") },
                    { "displayName": "Jupyter Lab", "endpointUri": format!("{host}/lab") },
                    { "displayName": "RStudio", "endpointUri": format!("{host}/rstudio/") },
                    { "displayName": "VS Code (Web)", "endpointUri": format!("{host}/vscode/") },
                    { "displayName": "Terminal", "endpointUri": format!("{host}/terminal") },
                ]),
            ),
            (
                "createdBy",
                json!({ "userName": caller.user_name, "userOrgId": caller.tenant_id, "userId": caller.object_id }),
            ),
            (
                "osImageMetadata",
                json!({ "currentImageVersion": "25.05.12", "latestImageVersion": "25.05.12", "isLatestOsImageVersion": true }),
            ),
            ("versions", json!({ "runtime": "0.1.0.20250512" })),
            ("errors", Value::Null),
            ("state", json!("Creating")),
            (
                "lastOperation",
                last_operation(Action::Create, "InProgress", Trigger::User, now),
            ),
        ];
        for (field, value) in computed {
            inner.insert(field.into(), value);
        }
        inner
    }
}

// ----- request parsing and validation ------------------------------------------------------------

/// The parts of a PUT body the emulator looks at.
struct ComputeRequest {
    envelope: Map<String, Value>,
    properties: Map<String, Value>,
    inner: Map<String, Value>,
    compute_type: String,
}

impl ComputeRequest {
    fn parse(body: &Value) -> Result<Self, ArmError> {
        let envelope = body.as_object().cloned().ok_or_else(|| {
            ArmError::bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: the body must be a JSON object.")
        })?;
        let properties = match envelope.get("properties") {
            Some(Value::Object(p)) => p.clone(),
            _ => {
                return Err(ArmError::bad_request(
                    "BadRequest",
                    "The request body must contain 'properties' with a 'computeType'.",
                ));
            }
        };
        let compute_type = properties
            .get("computeType")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ArmError::bad_request("BadRequest", "properties.computeType is required.")
            })?
            .to_string();
        let Some(canonical) = KNOWN_TYPES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(&compute_type))
        else {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "Compute type '{compute_type}' is not supported. Supported types are: {}.",
                    KNOWN_TYPES.join(", ")
                ),
            ));
        };
        let inner = match properties.get("properties") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(inner)) => inner.clone(),
            Some(_) => {
                return Err(ArmError::bad_request(
                    "BadRequest",
                    "properties.properties must be a JSON object.",
                ));
            }
        };
        Ok(ComputeRequest {
            envelope,
            properties,
            inner,
            compute_type: canonical.to_string(),
        })
    }
}

impl World {
    /// The requested VM size, which must be in the region's catalogue (default Standard_DS3_v2).
    fn checked_vm_size(&self, inner: &Map<String, Value>) -> Result<&VmSize, ArmError> {
        let requested = match inner.get("vmSize") {
            None | Some(Value::Null) => "Standard_DS3_v2",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => {
                return Err(ArmError::bad_request(
                    "BadRequest",
                    "vmSize must be a string.",
                ));
            }
        };
        self.vm_size(requested).ok_or_else(|| {
            ArmError::bad_request(
                "BadRequest",
                format!(
                    "The VM size '{requested}' is not supported in location '{}'. Use the vmSizes API to list the sizes available in this region.",
                    self.config.location
                ),
            )
        })
    }
}

// ----- small builders ------------------------------------------------------------------------------

/// Names are case-insensitive in URLs: the store is keyed by the lowercase name.
fn key_of(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Resources stored with `insert_raw` are kept exactly as given: they cannot be modified.
fn refuse_if_unmanaged(compute: &StoredCompute) -> Result<(), ArmError> {
    if compute.managed {
        return Ok(());
    }
    Err(ArmError::bad_request(
        "BadRequest",
        format!("The compute '{}' cannot be modified.", compute.name()),
    ))
}

fn not_found_compute(name: &str) -> ArmError {
    ArmError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.MachineLearningServices/workspaces/computes/{name}' was not found."
        ),
    )
}

pub fn allocation_failure(vm_size: &str, location: &str) -> ArmError {
    ArmError::bad_request(
        "AllocationFailed",
        format!(
            "Allocation failed. We do not have sufficient capacity for the requested VM size '{vm_size}' in region '{location}'. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance"
        ),
    )
}

fn trigger_of(name: Option<&str>) -> Trigger {
    match name {
        Some("Schedule") => Trigger::Schedule,
        Some("IdleShutdown") => Trigger::IdleShutdown,
        _ => Trigger::User,
    }
}

fn last_operation(action: Action, status: &str, trigger: Trigger, at: OffsetDateTime) -> Value {
    json!({
        "operationName": action.operation_name(),
        "operationTime": rfc3339(at),
        "operationStatus": status,
        "operationTrigger": trigger.as_str(),
    })
}

fn system_data(caller: &Identity, now: OffsetDateTime) -> Value {
    json!({
        "createdBy": caller.user_name,
        "createdByType": caller.principal_type(),
        "createdAt": rfc3339(now),
        "lastModifiedBy": caller.user_name,
        "lastModifiedByType": caller.principal_type(),
        "lastModifiedAt": rfc3339(now),
    })
}

fn cluster_properties(
    mut inner: Map<String, Value>,
    scale: ScaleSettings,
    now: OffsetDateTime,
) -> Map<String, Value> {
    let has_credentials = inner
        .get("userAccountCredentials")
        .is_some_and(|v| !v.is_null());
    let remote_login = match inner
        .get("remoteLoginPortPublicAccess")
        .and_then(Value::as_str)
    {
        Some("Enabled") => "Enabled",
        Some("Disabled") => "Disabled",
        // "NotSpecified" is only a creation-time value: Azure opens the port if there are credentials.
        _ if has_credentials => "Enabled",
        _ => "Disabled",
    };
    let default_idle = json!(format!("PT{DEFAULT_IDLE_SECONDS}S"));
    let stored_scale = stored_scale_settings(inner.get("scaleSettings"), scale, default_idle);
    let defaults = [
        ("osType", json!("Linux")),
        ("vmPriority", json!("Dedicated")),
        ("isolatedNetwork", json!(false)),
        ("enableNodePublicIp", json!(true)),
        ("virtualMachineImage", Value::Null),
        ("subnet", Value::Null),
        ("propertyBag", Value::Null),
    ];
    for (field, value) in defaults {
        if inner.get(field).is_none() {
            inner.insert(field.into(), value);
        }
    }
    let computed = [
        ("scaleSettings", stored_scale),
        ("remoteLoginPortPublicAccess", json!(remote_login)),
        ("allocationState", json!("Steady")),
        ("allocationStateTransitionTime", json!(rfc3339(now))),
        ("errors", Value::Null),
        ("currentNodeCount", json!(0)),
        // The nodes the creation is bringing up count against the quota already.
        ("targetNodeCount", json!(scale.min_nodes)),
        ("nodeStateCounts", node_state_counts(0, 0)),
    ];
    for (field, value) in computed {
        inner.insert(field.into(), value);
    }
    inner
}

fn node_state_counts(idle: i64, preparing: i64) -> Value {
    json!({
        "idleNodeCount": idle,
        "runningNodeCount": 0,
        "preparingNodeCount": preparing,
        "unusableNodeCount": 0,
        "leavingNodeCount": 0,
        "preemptedNodeCount": 0,
    })
}

/// The `scaleSettings` a cluster keeps: the object sent (unknown members and the idle time as
/// spelt), with the validated node counts, and `idle_when_missing` if it named no idle time.
fn stored_scale_settings(
    sent: Option<&Value>,
    scale: ScaleSettings,
    idle_when_missing: Value,
) -> Value {
    let mut settings = sent
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    settings["maxNodeCount"] = json!(scale.max_nodes);
    settings["minNodeCount"] = json!(scale.min_nodes);
    if settings
        .get("nodeIdleTimeBeforeScaleDown")
        .is_none_or(Value::is_null)
    {
        settings["nodeIdleTimeBeforeScaleDown"] = idle_when_missing;
    }
    settings
}

/// New scale settings on a cluster: resizing towards the new minimum.
fn apply_rescale(compute: &mut StoredCompute, scale: ScaleSettings, sent: &Value) {
    let inner = &mut compute.resource["properties"]["properties"];
    let previous_idle = inner["scaleSettings"]["nodeIdleTimeBeforeScaleDown"].clone();
    inner["scaleSettings"] = stored_scale_settings(Some(sent), scale, previous_idle);
    inner["allocationState"] = json!("Resizing");
    inner["allocationStateTransitionTime"] = json!(rfc3339(now_utc()));
    let min = i64::from(scale.min_nodes);
    inner["targetNodeCount"] = json!(min);
    let current = inner["currentNodeCount"].as_i64().unwrap_or(0);
    inner["nodeStateCounts"] = node_state_counts(current.min(min), (min - current).max(0));
}

/// Where a PATCH carries the scale settings, as a path for messages and the settings: the
/// spec's place, or one level up where some clients put them.
fn patched_scale_settings(body: &Value) -> Option<(&'static str, &Value)> {
    [
        (SCALE_SETTINGS_PATH, "/properties/properties/scaleSettings"),
        ("properties.scaleSettings", "/properties/scaleSettings"),
    ]
    .into_iter()
    .find_map(|(path, pointer)| body.pointer(pointer).map(|settings| (path, settings)))
}

/// A cluster at rest: the node count equals the minimum, every node idle.
fn settle_cluster_nodes(inner: &mut Value, now: OffsetDateTime) {
    let min = inner["scaleSettings"]["minNodeCount"].as_i64().unwrap_or(0);
    inner["allocationState"] = json!("Steady");
    inner["allocationStateTransitionTime"] = json!(rfc3339(now));
    inner["currentNodeCount"] = json!(min);
    inner["targetNodeCount"] = json!(min);
    inner["nodeStateCounts"] = node_state_counts(min, 0);
}

/// vCPUs a compute holds: an instance in every state but failed; a cluster its nodes (or the
/// nodes it is bringing up).
fn compute_cores(compute: &StoredCompute, vm: &VmSize) -> i64 {
    if compute.provisioning_state() == "Failed" {
        return 0;
    }
    match compute.compute_type() {
        INSTANCE if compute.inner_str("state") != "CreateFailed" => vm.v_cpus,
        CLUSTER => {
            compute
                .inner_i64("currentNodeCount")
                .max(compute.inner_i64("targetNodeCount"))
                * vm.v_cpus
        }
        _ => 0,
    }
}

/// The resource as a client may see it: secrets are write-only.
pub fn view(resource: &Value) -> Value {
    let mut copy = resource.clone();
    strip_secrets(&mut copy);
    copy
}

fn strip_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !is_secret_field(k));
            map.values_mut().for_each(strip_secrets);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_secrets),
        _ => {}
    }
}

fn is_secret_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    // An inference cluster's `sslConfiguration.cert` and `.key` (the spec marks both secret).
    if lower == "cert" || lower == "key" {
        return true;
    }
    [
        "password",
        "privatekeydata",
        "publickeydata",
        "accesstoken",
        "clientsecret",
        "primarykey",
        "secondarykey",
    ]
    .iter()
    .any(|s| lower.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_stripped() {
        let v = view(
            &json!({"properties":{"properties":{"userAccountCredentials":{"adminUserName":"a","adminUserPassword":"p"},"databricksAccessToken":"t"}}}),
        );
        assert_eq!(
            v,
            json!({"properties":{"properties":{"userAccountCredentials":{"adminUserName":"a"}}}})
        );
    }
}
