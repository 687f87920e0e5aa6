//! `/computes/bulk`: one action on many computes — the rows ticked, or every compute matching
//! the list's filters. Each compute is judged on its own (role, ownership, state) and its
//! outcome reported; the ones that may not take the action are skipped with the reason.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;

use super::auth::{CurrentUser, audit};
use super::computes::{ListParams, View};
use super::forms::FormFields;
use super::htmx::is_htmx;
use super::{AppState, Chrome};
use crate::domain::compute::ComputeKind;
use crate::domain::roles::{Ownership, Permission};
use crate::domain::transitions::ComputeAction;
use crate::error::AppError;

/// More than this at once is a mistake in the filter, not a plan.
const MAX_TARGETS: usize = 500;
/// Requests to Azure in flight at once: fast for the person, gentle on ARM's throttling.
const IN_FLIGHT: usize = 8;

pub fn router() -> Router<AppState> {
    Router::new().route("/computes/bulk", post(bulk))
}

/// What became of one compute.
pub struct Outcome {
    name: String,
    /// `started`, `skipped` or `failed`.
    result: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "computes/bulk.html")]
struct BulkPage {
    chrome: Chrome,
    results: BulkResults,
}

#[derive(Template)]
#[template(path = "computes/_bulk_results.html")]
struct BulkResults {
    action_label: &'static str,
    outcomes: Vec<Outcome>,
    started: usize,
    skipped: usize,
    failed: usize,
    /// Delete asks once more, listing what it would delete.
    confirm: Option<BulkConfirm>,
    back_url: String,
}

struct BulkConfirm {
    names: Vec<String>,
    csrf_token: String,
}

async fn bulk(
    State(state): State<AppState>,
    current: CurrentUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    fields: FormFields,
) -> Result<Response, AppError> {
    // Readers act on nothing: refused as a whole. Everyone else is judged compute by compute.
    current.require(Permission::OperateCompute, Ownership::Owner)?;
    fields.only_known(
        &[
            "action",
            "names",
            "all_matching",
            "confirm",
            "tab",
            "owner",
            "state",
            "size",
            "q",
        ],
        &[],
    )?;
    let action = match ComputeAction::from_slug(&fields.one("action")?) {
        Some(
            a @ (ComputeAction::Start
            | ComputeAction::Stop
            | ComputeAction::Restart
            | ComputeAction::Delete),
        ) => a,
        _ => {
            return Err(AppError::BadRequest(
                "'action' must be start, stop, restart or delete.".into(),
            ));
        }
    };
    let (names, back_url) = targets(&state, &current, &fields)?;
    if names.is_empty() {
        return Err(AppError::BadRequest(
            "Select at least one compute, or 'all matching this view'.".into(),
        ));
    }
    let mut results = BulkResults {
        action_label: action.label(),
        outcomes: Vec::new(),
        started: 0,
        skipped: 0,
        failed: 0,
        confirm: None,
        back_url,
    };
    if action.needs_confirmation() && fields.one("confirm")? != "yes" {
        results.confirm = Some(BulkConfirm {
            names,
            csrf_token: current.csrf_token.clone(),
        });
    } else {
        results.outcomes = futures_util::stream::iter(names)
            .map(|name| apply(&state, &current, &peer, action, name))
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        for outcome in &results.outcomes {
            match outcome.result {
                "started" => results.started += 1,
                "skipped" => results.skipped += 1,
                _ => results.failed += 1,
            }
        }
    }
    if is_htmx(&headers) {
        return Ok(Html(results.render()?).into_response());
    }
    let page = BulkPage {
        chrome: state.chrome_for(&current),
        results,
    };
    Ok(Html(page.render()?).into_response())
}

/// The names ticked, or every compute the view's filters match; and the way back to the view.
fn targets(
    state: &AppState,
    current: &CurrentUser,
    fields: &FormFields,
) -> Result<(Vec<String>, String), AppError> {
    let params = ListParams {
        tab: Some(fields.one("tab")?),
        owner: Some(fields.one("owner")?).filter(|o| !o.is_empty()),
        state: Some(fields.one("state")?),
        size: Some(fields.one("size")?),
        q: Some(fields.one("q")?),
        ..ListParams::default()
    };
    let view = View::parse(&params, current.role, 25)?;
    let back_url = view.url_with(&[]);
    let mut names: Vec<String> = if fields.checkbox("all_matching")? {
        let query = view.store_query(&current.user.object_id, 0, MAX_TARGETS + 1);
        state
            .computes
            .query(&query)
            .rows
            .iter()
            .map(|r| r.name.clone())
            .collect()
    } else {
        fields.all("names")
    };
    names.dedup();
    if names.len() > MAX_TARGETS {
        return Err(AppError::BadRequest(format!(
            "At most {MAX_TARGETS} computes at once; narrow the filter."
        )));
    }
    Ok((names, back_url))
}

/// One compute: judged, then asked of Azure if it may.
async fn apply(
    state: &AppState,
    current: &CurrentUser,
    peer: &SocketAddr,
    action: ComputeAction,
    name: String,
) -> Outcome {
    let skipped = |detail: String| Outcome {
        name: name.clone(),
        result: "skipped",
        detail,
    };
    let Some(row) = state.computes.row(&name) else {
        return skipped("It no longer exists.".into());
    };
    let kind = ComputeKind::parse(&row.kind).unwrap_or(ComputeKind::Other);
    let ownership = current.ownership_of(&row);
    if let Err(AppError::Forbidden(why)) = current.require(Permission::OperateCompute, ownership) {
        return skipped(why);
    }
    if let Err(why) = action.check(kind, &row.state) {
        return skipped(why);
    }
    let azure_action = super::actions::azure_action(action);
    let outcome = match state
        .sync
        .start_operation(&row.name, azure_action, &current.user.object_id)
        .await
    {
        Ok(_) => Outcome {
            name: row.name.clone(),
            result: "started",
            detail: "Azure accepted it.".into(),
        },
        Err(e) => Outcome {
            name: row.name.clone(),
            result: "failed",
            detail: e.user_message(),
        },
    };
    audit(
        state,
        &current.user,
        action.slug(),
        &row.name,
        if outcome.result == "started" {
            "accepted"
        } else {
            "failed"
        },
        "bulk",
        peer,
    )
    .await;
    outcome
}
