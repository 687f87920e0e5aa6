//! The Compute page: tabs per kind, a page of the cached list, Refresh, and the row fragment
//! that a transitional row re-reads until it settles.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::htmx::is_htmx;
use super::{AppState, Chrome};
use crate::domain::compute::{ComputeKind, is_transitional, state_label, state_tone};
use crate::error::AppError;
use crate::store::computes::ComputeRow;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/computes", get(list))
        .route("/computes/refresh", post(refresh))
        .route("/computes/{name}/row", get(row))
}

/// The tabs of the page, in order; `Other` appears only when Azure lists unknown kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Instances,
    Clusters,
    Inference,
    Attached,
    Other,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Instances,
        Tab::Clusters,
        Tab::Inference,
        Tab::Attached,
        Tab::Other,
    ];

    fn slug(self) -> &'static str {
        match self {
            Tab::Instances => "instances",
            Tab::Clusters => "clusters",
            Tab::Inference => "inference",
            Tab::Attached => "attached",
            Tab::Other => "other",
        }
    }

    fn from_slug(slug: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.slug() == slug)
    }

    fn kind(self) -> ComputeKind {
        match self {
            Tab::Instances => ComputeKind::Instance,
            Tab::Clusters => ComputeKind::Cluster,
            Tab::Inference => ComputeKind::Inference,
            Tab::Attached => ComputeKind::Attached,
            Tab::Other => ComputeKind::Other,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tab::Instances => "Compute instances",
            Tab::Clusters => "Compute clusters",
            Tab::Inference => "Inference clusters",
            Tab::Attached => "Attached computes",
            Tab::Other => "Other",
        }
    }

    /// What an empty tab says: what the kind is, and what the dashboard does with it so far.
    fn empty_message(self) -> &'static str {
        match self {
            Tab::Instances => {
                "No compute instances in this workspace yet. A compute instance is one person's managed cloud workstation with Jupyter, JupyterLab, RStudio and a terminal."
            }
            Tab::Clusters => {
                "No compute clusters in this workspace yet. A compute cluster scales between its minimum and maximum node count as training jobs arrive."
            }
            Tab::Inference => {
                "No inference clusters in this workspace. Inference clusters (Azure Kubernetes Service) that exist are listed here; creating and attaching them from Compute Studio is not built yet."
            }
            Tab::Attached => {
                "No attached computes in this workspace. Virtual machines, Databricks, HDInsight and Data Lake Analytics attached to the workspace are listed here; attaching them from Compute Studio is not built yet."
            }
            Tab::Other => "No computes of other kinds.",
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    tab: Option<String>,
    page: Option<String>,
}

struct TabLink {
    slug: &'static str,
    title: &'static str,
    count: usize,
    active: bool,
}

/// One row as the template shows it; every value is ready to print.
pub struct RowView {
    name: String,
    row_url: String,
    state: String,
    tone: &'static str,
    transitional: bool,
    kind_label: String,
    vm_size: String,
    owner: String,
    created: String,
    created_iso: String,
    region: String,
}

#[derive(Template)]
#[template(path = "computes/list.html")]
struct ListPage {
    chrome: Chrome,
    tabs: Vec<TabLink>,
    tab_slug: &'static str,
    tab_title: &'static str,
    empty_message: &'static str,
    rows: Vec<RowView>,
    any_transitional: bool,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "computes/_row.html")]
struct RowFragment {
    row: RowView,
}

struct Pager {
    first: usize,
    last: usize,
    total: usize,
    previous: Option<String>,
    next: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page = render_list(&state, &query).await?;
    Ok(Html(page.render()?).into_response())
}

async fn render_list(state: &AppState, query: &ListQuery) -> Result<ListPage, AppError> {
    let tab = match query.tab.as_deref() {
        None | Some("") => Tab::Instances,
        Some(slug) => Tab::from_slug(slug).ok_or_else(|| {
            AppError::BadRequest(format!(
                "'tab' must be one of instances, clusters, inference, attached or other, not '{slug}'."
            ))
        })?,
    };
    let page_number = match query.page.as_deref() {
        None | Some("") => 1,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "'page' must be a whole number from 1, not '{text}'."
                ))
            })?,
    };
    let counts = state.computes.count_by_kind();
    let count_of = |kind: ComputeKind| counts.get(kind.as_str()).copied().unwrap_or(0);
    let page_size = state.page_size as usize;
    let offset = (page_number - 1) * page_size;
    let (rows, total) = state.computes.page(tab.kind().as_str(), page_size, offset);
    let rows: Vec<RowView> = rows.iter().map(|row| row_view(row)).collect();
    let tabs = Tab::ALL
        .into_iter()
        .filter(|t| *t != Tab::Other || count_of(ComputeKind::Other) > 0)
        .map(|t| TabLink {
            slug: t.slug(),
            title: t.title(),
            count: count_of(t.kind()),
            active: t == tab,
        })
        .collect();
    let page_url = |n: usize| format!("/computes?tab={}&page={n}", tab.slug());
    Ok(ListPage {
        chrome: (*state.chrome).clone(),
        tabs,
        tab_slug: tab.slug(),
        tab_title: tab.title(),
        empty_message: tab.empty_message(),
        any_transitional: rows.iter().any(|r| r.transitional),
        pager: Pager {
            first: if rows.is_empty() { 0 } else { offset + 1 },
            last: offset + rows.len(),
            total,
            previous: (page_number > 1).then(|| page_url(page_number - 1)),
            next: (offset + page_size < total).then(|| page_url(page_number + 1)),
        },
        rows,
    })
}

/// One row, for a transitional row's self-refresh. A compute that is gone returns nothing,
/// which removes the row.
async fn row(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    match state.computes.row(&name) {
        Some(row) => Ok(Html(
            RowFragment {
                row: row_view(&row),
            }
            .render()?,
        )
        .into_response()),
        None => Ok(Html(String::new()).into_response()),
    }
}

#[derive(Debug, Deserialize)]
pub struct RefreshForm {
    tab: Option<String>,
}

/// Resync with Azure now, then show the list again (the fresh table for htmx).
async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<RefreshForm>,
) -> Result<Response, AppError> {
    state.sync.resync_now().await?;
    let tab = form
        .tab
        .as_deref()
        .and_then(Tab::from_slug)
        .unwrap_or(Tab::Instances);
    if is_htmx(&headers) {
        let query = ListQuery {
            tab: Some(tab.slug().into()),
            page: None,
        };
        let page = render_list(&state, &query).await?;
        return Ok(Html(page.render()?).into_response());
    }
    Ok(Redirect::to(&format!("/computes?tab={}", tab.slug())).into_response())
}

fn row_view(row: &ComputeRow) -> RowView {
    RowView {
        name: row.name.clone(),
        row_url: format!("/computes/{}/row", url_path_segment(&row.name)),
        tone: state_tone(&row.state).css_class(),
        transitional: is_transitional(&row.state),
        state: state_label(&row.state),
        kind_label: kind_label(row),
        vm_size: row.vm_size.clone().unwrap_or_default(),
        owner: owner_label(row.owner_name.as_deref(), row.owner_object_id.as_deref()),
        created: row
            .created_on
            .as_deref()
            .map(short_date)
            .unwrap_or_default(),
        created_iso: row.created_on.clone().unwrap_or_default(),
        region: row.location.clone().unwrap_or_default(),
    }
}

fn kind_label(row: &ComputeRow) -> String {
    match ComputeKind::parse(&row.kind) {
        Some(ComputeKind::Instance) => "Compute instance".into(),
        Some(ComputeKind::Cluster) => "Compute cluster".into(),
        Some(ComputeKind::Other) | None => format!("Other ({})", row.compute_type),
        Some(_) => row.compute_type.clone(),
    }
}

/// A person's name where Azure gave one, else an abbreviated object id.
fn owner_label(name: Option<&str>, object_id: Option<&str>) -> String {
    match (name, object_id) {
        (Some(name), _) => name.to_string(),
        (None, Some(id)) if id.len() > 8 => format!("user {}…", &id[..8]),
        (None, Some(id)) => format!("user {id}"),
        (None, None) => String::new(),
    }
}

/// "2026-11-03T14:12:09.1234567+00:00" → "2026-11-03 14:12 UTC"; unreadable dates shown as given.
fn short_date(text: &str) -> String {
    match crate::store::parse_timestamp(text) {
        Some(at) => {
            let at = at.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute()
            )
        }
        None => text.to_string(),
    }
}

fn url_path_segment(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_shown_short_and_in_utc() {
        assert_eq!(
            short_date("2021-04-01T22:00:00.0000000+00:00"),
            "2021-04-01 22:00 UTC"
        );
        assert_eq!(
            short_date("2021-04-01T23:30:00+02:00"),
            "2021-04-01 21:30 UTC"
        );
        assert_eq!(short_date("yesterday"), "yesterday");
    }

    #[test]
    fn owners_without_a_name_show_a_short_object_id() {
        assert_eq!(
            owner_label(None, Some("0b9c7e0e-1111-2222-3333-444455556666")),
            "user 0b9c7e0e…"
        );
        assert_eq!(owner_label(Some("Ada"), Some("x")), "Ada");
    }
}
