//! Creating compute: `/computes/new?kind=instance|cluster|inference|attached` (attached with
//! `&type=vm|databricks|adla|hdinsight`).
//!
//! One form per kind, in steps: fill in (each field checked as it is typed, through
//! `/computes/new/check`), review (the plan in words and the exact ARM body), create. Every
//! step is a plain form post, so it all works without JavaScript; htmx only makes the checks
//! live. Each rule lives in `domain` and is applied again on every step.

mod attach;
mod cluster;
mod common;
mod inference;
mod instance;
mod options;
mod views;

#[cfg(test)]
mod proptests;

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

pub use common::describe_size;
pub use options::OfferCache;

use self::attach::{AttachForm, AttachType};
use self::cluster::ClusterForm;
use self::common::Plan;
use self::inference::InferenceForm;
use self::instance::{Assignee, InstanceContext, InstanceForm};
use self::views::{
    AttachPage, CapacityFragment, ClusterPage, FieldErrorFragment, InferencePage, InstancePage,
    ReviewPage, ScheduleRowFragment,
};
use super::AppState;
use super::auth::{CurrentUser, audit};
use super::forms::FormFields;
use super::notice::{self, Notice};
use crate::azure::ArmError;
use crate::domain::compute::ComputeKind;
use crate::domain::field::FieldErrors;
use crate::domain::roles::{Ownership, Permission, Role};
use crate::error::AppError;
use crate::store::{self, create_requests};
use crate::sync::Action;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/computes/new", get(new_form).post(submit))
        .route("/computes/new/check", post(check))
}

#[derive(Debug, Deserialize)]
pub struct KindParam {
    kind: Option<String>,
    /// What is attached (`kind=attached`): `vm`, `databricks`, `adla` or `hdinsight`.
    #[serde(rename = "type")]
    attach_type: Option<String>,
    /// Reassigning: the instance whose settings the new one copies.
    copy_of: Option<String>,
    assign_to: Option<String>,
    assign_object_id: Option<String>,
    assign_tenant_id: Option<String>,
}

/// The kinds this page creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    Instance,
    Cluster,
    Inference,
    Attached,
}

impl FormKind {
    fn parse(value: Option<&str>) -> Result<FormKind, AppError> {
        match value.map(str::trim) {
            None | Some("") | Some("instance") => Ok(FormKind::Instance),
            Some("cluster") => Ok(FormKind::Cluster),
            Some("inference") => Ok(FormKind::Inference),
            Some("attached") => Ok(FormKind::Attached),
            Some(other) => Err(AppError::BadRequest(format!(
                "'kind' must be instance, cluster, inference or attached, not '{}'.",
                crate::domain::scale::shorten(other)
            ))),
        }
    }

    fn permission(self) -> Permission {
        match self {
            FormKind::Instance => Permission::CreateOwnInstance,
            FormKind::Cluster | FormKind::Inference | FormKind::Attached => {
                Permission::CreateAnyCompute
            }
        }
    }

    fn tab(self) -> &'static str {
        match self {
            FormKind::Instance => "instances",
            FormKind::Cluster => "clusters",
            FormKind::Inference => "inference",
            FormKind::Attached => "attached",
        }
    }
}

/// What a submitted form asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Show the form again (back from the review).
    Edit,
    Review,
    Create,
    AddSchedule,
    RemoveSchedule(usize),
}

impl Step {
    fn parse(value: &str) -> Result<Step, AppError> {
        Ok(match value {
            "" | "review" => Step::Review,
            "edit" => Step::Edit,
            "create" => Step::Create,
            "add-schedule" => Step::AddSchedule,
            other => match other
                .strip_prefix("remove-schedule-")
                .and_then(|i| i.parse().ok())
            {
                Some(i) => Step::RemoveSchedule(i),
                None => {
                    return Err(AppError::BadRequest(format!(
                        "'step' must be edit, review or create, not '{}'.",
                        crate::domain::scale::shorten(other)
                    )));
                }
            },
        })
    }
}

/// Everything a page of the form is built from.
enum Filled {
    Instance(InstanceForm),
    Cluster(ClusterForm),
    Inference(InferenceForm),
    Attached(AttachForm),
}

async fn new_form(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<KindParam>,
) -> Result<Response, AppError> {
    let kind = FormKind::parse(params.kind.as_deref())?;
    current.require(kind.permission(), Ownership::NoCompute)?;
    let filled = match (kind, params.copy_of.as_deref()) {
        (FormKind::Instance, Some(old)) if !old.is_empty() => {
            Filled::Instance(replacement_form(&state, &current, old, &params).await?)
        }
        (FormKind::Instance, _) => Filled::Instance(InstanceForm::blank()),
        (FormKind::Cluster, _) => Filled::Cluster(ClusterForm::blank()),
        (FormKind::Inference, _) => Filled::Inference(InferenceForm::blank(&state.chrome.location)),
        (FormKind::Attached, _) => Filled::Attached(AttachForm::blank(AttachType::parse(
            params.attach_type.as_deref(),
        )?)),
    };
    render_form(
        &state,
        &current,
        filled,
        &new_form_token(),
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

/// The create form for the replacement of `old`, for the person the admin chose.
async fn replacement_form(
    state: &AppState,
    current: &CurrentUser,
    old: &str,
    params: &KindParam,
) -> Result<InstanceForm, AppError> {
    current.require(Permission::CreateOnBehalf, Ownership::NoCompute)?;
    let row = state
        .computes
        .row(old)
        .filter(|r| r.kind == ComputeKind::Instance.as_str())
        .ok_or_else(|| AppError::NotFound(format!("compute instance named '{old}'")))?;
    let resource = store::computes::resource(&state.db, &row.name)
        .await?
        .unwrap_or_default();
    Ok(InstanceForm {
        replaces: row.name.clone(),
        assign_to: params.assign_to.clone().unwrap_or_default(),
        assign_object_id: params.assign_object_id.clone().unwrap_or_default(),
        assign_tenant_id: params.assign_tenant_id.clone().unwrap_or_default(),
        ..InstanceForm::copied_from(&resource)
    })
}

async fn submit(
    State(state): State<AppState>,
    current: CurrentUser,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    fields: FormFields,
) -> Result<Response, AppError> {
    let kind = FormKind::parse(Some(&fields.one("kind")?))?;
    current.require(kind.permission(), Ownership::NoCompute)?;
    let step = Step::parse(&fields.one("step")?)?;
    let token = checked_form_token(&fields.one("form_token")?)?;
    let mut filled = read_form(&state, kind, &fields)?;
    if let Some(old) = replaced(&filled) {
        current.require(Permission::CreateOnBehalf, Ownership::NoCompute)?;
        if state.computes.row(old).is_none() {
            return Err(AppError::NotFound(format!(
                "compute instance named '{old}' (the one being replaced)"
            )));
        }
    }
    if let Filled::Instance(form) = &mut filled {
        match step {
            Step::AddSchedule => form.schedules.push(views::new_schedule_input()),
            Step::RemoveSchedule(i) if i < form.schedules.len() => {
                form.schedules.remove(i);
            }
            _ => {}
        }
    }
    if matches!(
        step,
        Step::Edit | Step::AddSchedule | Step::RemoveSchedule(_)
    ) {
        return render_form(
            &state,
            &current,
            filled,
            &token,
            &FieldErrors::new(),
            StatusCode::OK,
        )
        .await;
    }
    // The form token is claimed before anything is checked: of two copies of one form sent
    // at once, the second learns it was already sent, whatever the first has done meanwhile
    // (its compute's name, now taken, would otherwise read as an error of the second).
    if step == Step::Create {
        let claim = create_requests::claim(
            &state.db,
            &token,
            &current.user.object_id,
            filled.name(),
            &store::now(),
        )
        .await?;
        if let create_requests::Claim::AlreadySubmitted { compute_name, .. } = claim {
            notice::put(
                &session,
                Notice::good(
                    "Already submitted.",
                    format!("This form was sent before; {compute_name} is being created once."),
                ),
            )
            .await;
            return Ok(Redirect::to(&format!("/computes?tab={}", kind.tab())).into_response());
        }
    }
    let plan = match validate(&state, &current, &filled).await {
        Ok(plan) => plan,
        Err(errors) => {
            if step == Step::Create {
                release_claim(&state, &token).await;
            }
            return render_form(
                &state,
                &current,
                filled,
                &token,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    if step == Step::Review {
        return render_review(&state, &current, &filled, &fields, &plan, &token);
    }
    create(&state, &current, &session, &peer, filled, plan, &token).await
}

/// Asks Azure to create; the caller has claimed the form's token.
async fn create(
    state: &AppState,
    current: &CurrentUser,
    session: &Session,
    peer: &SocketAddr,
    filled: Filled,
    plan: Plan,
    token: &str,
) -> Result<Response, AppError> {
    let tab = match plan.kind {
        ComputeKind::Cluster => FormKind::Cluster.tab(),
        ComputeKind::Inference => FormKind::Inference.tab(),
        ComputeKind::Attached => FormKind::Attached.tab(),
        _ => FormKind::Instance.tab(),
    };
    let body = serde_json::from_value(plan.body.clone())
        .map_err(|e| AppError::BadRequest(format!("the create request could not be built: {e}")))?;
    let outcome = state
        .sync
        .start_operation(
            &plan.name,
            Action::Create(Box::new(body)),
            &current.user.object_id,
        )
        .await;
    let detail = plan
        .summary
        .iter()
        .filter(|(what, _)| {
            matches!(
                what.as_str(),
                "Kind" | "Virtual machine" | "Assigned to" | "Nodes"
            )
        })
        .map(|(what, words)| format!("{what}: {words}"))
        .collect::<Vec<_>>()
        .join("; ");
    match outcome {
        Ok(started) => {
            if let Err(e) = create_requests::accepted(&state.db, token, &started.id).await {
                tracing::error!(error = %e, "could not record an accepted create");
            }
            state.offers.forget().await;
            audit(
                state,
                &current.user,
                "create",
                &plan.name,
                "accepted",
                &detail,
                peer,
            )
            .await;
            if let Some(old) = replaced(&filled) {
                // Reassigning: back to the old instance's page, to delete it once confirmed.
                return Ok(Redirect::to(&format!(
                    "/computes/{}/reassign?created={}",
                    url_segment(old),
                    url_segment(&plan.name)
                ))
                .into_response());
            }
            notice::put(
                session,
                Notice::good(
                    format!("Creating {}.", plan.name),
                    "Azure accepted the request; the row below follows it until the compute is ready.",
                ),
            )
            .await;
            Ok(Redirect::to(&format!("/computes?tab={tab}")).into_response())
        }
        Err(e) => {
            release_claim(state, token).await;
            audit(
                state,
                &current.user,
                "create",
                &plan.name,
                "failed",
                &e.user_message(),
                peer,
            )
            .await;
            let (errors, status) = azure_refusal(&e);
            render_form(state, current, filled, token, &errors, status).await
        }
    }
}

/// The instance a reassigning create replaces, if it is one.
fn replaced(filled: &Filled) -> Option<&str> {
    match filled {
        Filled::Instance(form) if !form.replaces.is_empty() => Some(&form.replaces),
        _ => None,
    }
}

fn url_segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Azure's refusal, on the field it is about when there is one.
fn azure_refusal(e: &ArmError) -> (FieldErrors, StatusCode) {
    let mut errors = FieldErrors::new();
    let words = format!("Azure refused: {}", e.user_message());
    match (e.status(), e.code().as_str()) {
        (Some(409), _) => errors.add("name", words),
        (_, "QuotaExceeded") => errors.add("vm_size", words),
        _ => errors.add("form", words),
    }
    let status = match e.status() {
        Some(400..=499) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_GATEWAY,
    };
    (errors, status)
}

/// The inline check: the message of the field that changed (or a whole schedule row).
async fn check(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    fields: FormFields,
) -> Result<Response, AppError> {
    let kind = FormKind::parse(Some(&fields.one("kind")?))?;
    current.require(kind.permission(), Ownership::NoCompute)?;
    let filled = read_form(&state, kind, &fields)?;
    let errors = validate(&state, &current, &filled)
        .await
        .err()
        .unwrap_or_default();
    let field = headers
        .get("hx-trigger-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if let (Filled::Instance(form), Some(row)) = (&filled, schedule_row_of(&field)) {
        let Some(input) = form.schedules.get(row) else {
            return Ok(Html(String::new()).into_response());
        };
        let fragment = ScheduleRowFragment {
            row: views::schedule_row(row, input, &errors),
        };
        return Ok(Html(fragment.render()?).into_response());
    }
    let mut html = String::new();
    if let Filled::Inference(form) = &filled {
        // The nodes × vCPUs line follows every change of the form.
        html.push_str(
            &CapacityFragment {
                capacity: form.capacity(&*state.offers.get().await),
                out_of_band: true,
            }
            .render()?,
        );
    }
    for (n, name) in views::related_fields(&field).iter().enumerate() {
        html.push_str(
            &FieldErrorFragment {
                field: name.to_string(),
                message: errors.for_field(name).map(str::to_string),
                out_of_band: n > 0,
            }
            .render()?,
        );
    }
    Ok(Html(html).into_response())
}

fn schedule_row_of(field: &str) -> Option<usize> {
    field
        .strip_prefix("schedule-")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

fn read_form(state: &AppState, kind: FormKind, fields: &FormFields) -> Result<Filled, AppError> {
    Ok(match kind {
        FormKind::Instance => Filled::Instance(InstanceForm::read(fields)?),
        FormKind::Cluster => Filled::Cluster(ClusterForm::read(fields, &state.sealer)?),
        FormKind::Inference => Filled::Inference(InferenceForm::read(fields, &state.sealer)?),
        FormKind::Attached => Filled::Attached(AttachForm::read(fields, &state.sealer)?),
    })
}

async fn validate(
    state: &AppState,
    current: &CurrentUser,
    filled: &Filled,
) -> Result<Plan, FieldErrors> {
    let offer = state.offers.get().await;
    let location = state.chrome.location.clone();
    let computes = state.computes.clone();
    let taken = move |name: &str| computes.row(name).is_some();
    match filled {
        Filled::Instance(form) => {
            let people = people(state).await;
            form.validate(&InstanceContext {
                offer: &offer,
                location: &location,
                me: Assignee {
                    object_id: current.user.object_id.clone(),
                    tenant_id: current.user.tenant_id.clone(),
                    name: current.user.name.clone(),
                },
                may_assign_others: current.role == Role::Admin,
                people: &people,
                name_taken: &taken,
            })
        }
        Filled::Cluster(form) => form.validate(&offer, &location, &taken),
        Filled::Inference(form) => {
            form.validate(&offer, &location, &taken, time::OffsetDateTime::now_utc())
        }
        Filled::Attached(form) => form.validate(
            &location,
            &state.sync.arm().workspace().subscription_id,
            &taken,
        ),
    }
}

/// People who have signed in: whom an admin can create an instance for.
async fn people(state: &AppState) -> Vec<Assignee> {
    match store::users::all(&state.db).await {
        Ok(users) => users
            .into_iter()
            .map(|u| Assignee {
                name: if u.email.is_empty() {
                    u.name
                } else {
                    format!("{} <{}>", u.name, u.email)
                },
                object_id: u.object_id,
                tenant_id: u.tenant_id,
            })
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "could not list people for the assign field");
            Vec::new()
        }
    }
}

async fn render_form(
    state: &AppState,
    current: &CurrentUser,
    filled: Filled,
    token: &str,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let offer = state.offers.get().await;
    let chrome = state.chrome_for(current);
    let html = match filled {
        Filled::Instance(form) => {
            let may_assign = current
                .require(Permission::CreateOnBehalf, Ownership::NoCompute)
                .is_ok();
            let people = if may_assign {
                people(state).await
            } else {
                Vec::new()
            };
            InstancePage::build(chrome, form, token, errors, &offer, may_assign, &people)
                .render()?
        }
        Filled::Cluster(form) => {
            ClusterPage::build(chrome, form, token, errors, &offer, &state.sealer).render()?
        }
        Filled::Inference(form) => {
            InferencePage::build(chrome, form, token, errors, &offer, &state.sealer).render()?
        }
        Filled::Attached(form) => {
            AttachPage::build(chrome, form, token, errors, &state.sealer).render()?
        }
    };
    Ok((status, Html(html)).into_response())
}

fn render_review(
    state: &AppState,
    current: &CurrentUser,
    filled: &Filled,
    fields: &FormFields,
    plan: &Plan,
    token: &str,
) -> Result<Response, AppError> {
    let secrets = match filled {
        Filled::Cluster(form) => vec![(&cluster::ADMIN_PASSWORD, form.admin_password.as_str())],
        Filled::Inference(form) => vec![(&inference::SSL_KEY, form.ssl_key.as_str())],
        Filled::Attached(form) => attach::SECRETS
            .iter()
            .map(|s| (s, form.secret(s)))
            .collect(),
        Filled::Instance(_) => Vec::new(),
    };
    let page = ReviewPage::build(
        state.chrome_for(current),
        fields,
        plan,
        token,
        &secrets,
        &state.sealer,
    );
    Ok(Html(page.render()?).into_response())
}

/// A random token per form: what makes a second submission recognisable.
fn new_form_token() -> String {
    super::auth::session::new_csrf_token()
}

fn checked_form_token(token: &str) -> Result<String, AppError> {
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(token.to_string())
    } else {
        Err(AppError::BadRequest(
            "The form's token is missing or damaged; open the create form again.".into(),
        ))
    }
}

/// The form may be corrected and sent again with its token.
async fn release_claim(state: &AppState, token: &str) {
    if let Err(e) = create_requests::release(&state.db, token).await {
        tracing::error!(error = %e, "could not release a refused create's form token");
    }
}

impl Filled {
    fn name(&self) -> &str {
        match self {
            Filled::Instance(form) => &form.name,
            Filled::Cluster(form) => &form.name,
            Filled::Inference(form) => &form.name,
            Filled::Attached(form) => &form.name,
        }
    }
}
