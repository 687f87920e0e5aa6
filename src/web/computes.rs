//! The Compute page: tabs per kind, a page of the cached list, Refresh, and the row fragment
//! that a transitional row re-reads until it settles.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde::Deserialize;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;

use super::auth::{CurrentUser, People, audit};
use super::forms::FormFields;
use super::htmx::is_htmx;
use super::rendered_rows::Viewer;
use super::sse;
use super::{AppState, Chrome};
use crate::domain::applications::{Application, applications_open_in};
use crate::domain::compute::{ComputeKind, is_transitional, state_label, state_tone};
use crate::domain::roles::{Ownership, Permission, Role};
use crate::domain::transitions::ComputeAction;
use crate::error::AppError;
use crate::store::computes::ComputeRow;
use crate::store::computes::{ListQuery as StoreQuery, SortKey};

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
                "No inference clusters in this workspace yet. An inference cluster is an Azure Kubernetes Service (AKS) cluster that serves models: create a new one, or attach one the subscription already has."
            }
            Tab::Attached => {
                "No attached computes in this workspace yet. Attach a virtual machine, a Databricks workspace, a Data Lake Analytics account or an HDInsight cluster made outside the workspace, so jobs can run on it."
            }
            Tab::Other => "No computes of other kinds.",
        }
    }
}

/// The list tab a kind of compute is shown on (`?tab=…`).
pub(super) fn tab_slug_of(kind: ComputeKind) -> &'static str {
    Tab::ALL
        .into_iter()
        .find(|t| t.kind() == kind)
        .map_or("instances", Tab::slug)
}

/// The list's URL parameters: everything a view is made of, so it can be bookmarked and shared.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListParams {
    pub(super) tab: Option<String>,
    /// `me`, `all`, or an owner's object id.
    pub(super) owner: Option<String>,
    pub(super) state: Option<String>,
    pub(super) size: Option<String>,
    pub(super) q: Option<String>,
    pub(super) sort: Option<String>,
    pub(super) dir: Option<String>,
    pub(super) page: Option<String>,
    pub(super) page_size: Option<String>,
}

/// The parameters, checked: each bad value is refused with the rule it breaks.
#[derive(Debug, Clone)]
pub(super) struct View {
    tab: Tab,
    owner: OwnerChoice,
    state: Option<String>,
    size: Option<String>,
    q: Option<String>,
    sort: (&'static str, SortKey),
    descending: bool,
    page: usize,
    page_size: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum OwnerChoice {
    Me,
    All,
    Person(String),
}

const SORTS: [(&str, SortKey); 6] = [
    ("name", SortKey::Name),
    ("state", SortKey::State),
    ("size", SortKey::VmSize),
    ("owner", SortKey::Owner),
    ("created", SortKey::Created),
    ("region", SortKey::Region),
];
pub const PAGE_SIZES: [usize; 4] = [10, 25, 50, 100];

impl View {
    pub(super) fn parse(
        params: &ListParams,
        role: Role,
        default_page_size: usize,
    ) -> Result<View, AppError> {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let tab = match text(&params.tab) {
            None => Tab::Instances,
            Some(slug) => Tab::from_slug(&slug).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "'tab' must be one of instances, clusters, inference, attached or other, not '{slug}'."
                ))
            })?,
        };
        // Members mostly look for their own instances; everybody else for the whole workspace.
        let owner = match text(&params.owner).as_deref() {
            None if role == Role::Member && tab == Tab::Instances => OwnerChoice::Me,
            None | Some("all") => OwnerChoice::All,
            Some("me") => OwnerChoice::Me,
            Some(id)
                if id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                OwnerChoice::Person(id.to_string())
            }
            Some(other) => {
                return Err(AppError::BadRequest(format!(
                    "'owner' must be me, all or a person's object id, not '{other}'."
                )));
            }
        };
        let sort_name = text(&params.sort).unwrap_or_else(|| "name".into());
        let sort = SORTS.into_iter().find(|(n, _)| *n == sort_name).ok_or_else(|| {
            AppError::BadRequest(format!(
                "'sort' must be one of name, state, size, owner, created or region, not '{sort_name}'."
            ))
        })?;
        let descending = match text(&params.dir).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(AppError::BadRequest(format!(
                    "'dir' must be asc or desc, not '{other}'."
                )));
            }
        };
        let page = match text(&params.page) {
            None => 1,
            Some(t) => t
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "'page' must be a whole number from 1, not '{t}'."
                    ))
                })?,
        };
        let page_size = match text(&params.page_size) {
            None => default_page_size,
            Some(t) => t
                .parse::<usize>()
                .ok()
                .filter(|n| PAGE_SIZES.contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "'page_size' must be 10, 25, 50 or 100, not '{t}'."
                    ))
                })?,
        };
        let q = text(&params.q);
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(AppError::BadRequest(
                "'q' (search) must be at most 100 characters.".into(),
            ));
        }
        Ok(View {
            tab,
            owner,
            state: text(&params.state),
            size: text(&params.size),
            q,
            sort,
            descending,
            page,
            page_size,
        })
    }

    /// The cache query of this view, for the person `me`.
    pub(super) fn store_query(&self, me: &str, offset: usize, limit: usize) -> StoreQuery {
        StoreQuery {
            kind: self.tab.kind().as_str().to_string(),
            owner: match &self.owner {
                OwnerChoice::Me => Some(me.to_string()),
                OwnerChoice::All => None,
                OwnerChoice::Person(id) => Some(id.clone()),
            },
            state: self.state.clone(),
            vm_size: self.size.clone(),
            search: self.q.clone(),
            sort: self.sort.1,
            descending: self.descending,
            offset,
            limit,
        }
    }

    /// The URL of this view with some parameters changed (`None` removes one).
    pub(super) fn url_with(&self, changes: &[(&str, Option<String>)]) -> String {
        let owner = match &self.owner {
            OwnerChoice::Me => "me".to_string(),
            OwnerChoice::All => "all".to_string(),
            OwnerChoice::Person(id) => id.clone(),
        };
        let mut pairs: Vec<(&str, Option<String>)> = vec![
            ("tab", Some(self.tab.slug().to_string())),
            ("owner", Some(owner)),
            ("state", self.state.clone()),
            ("size", self.size.clone()),
            ("q", self.q.clone()),
            (
                "sort",
                (self.sort.0 != "name").then(|| self.sort.0.to_string()),
            ),
            ("dir", self.descending.then(|| "desc".to_string())),
            ("page_size", Some(self.page_size.to_string())),
            ("page", (self.page > 1).then(|| self.page.to_string())),
        ];
        for (key, value) in changes {
            if let Some(pair) = pairs.iter_mut().find(|(k, _)| k == key) {
                pair.1 = value.clone();
            }
        }
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            if let Some(value) = value {
                url.append_pair(key, &value);
            }
        }
        format!("/computes?{}", url.finish())
    }
}

struct TabLink {
    slug: &'static str,
    title: &'static str,
    count: usize,
    active: bool,
}

/// A choice in a filter: its value, its words, how many computes it gives, and whether it is on.
struct Choice {
    value: String,
    label: String,
    count: usize,
    selected: bool,
}

/// A sortable column header.
struct Column {
    title: &'static str,
    url: String,
    /// "ascending", "descending" or "none", for aria-sort.
    aria_sort: &'static str,
}

/// One row as the template shows it; every value is ready to print.
pub struct RowView {
    /// The cached row itself: its plain columns are printed straight from it.
    data: Arc<ComputeRow>,
    /// The name percent-encoded: for URLs, and (made only of characters HTML never needs to
    /// escape) printed unescaped, which spares the list a dozen escapes per row.
    url_name: String,
    /// The live stream's event for this row (also percent-encoded).
    event: String,
    state: String,
    tone: &'static str,
    transitional: bool,
    kind_label: String,
    owner: String,
    created: String,
    /// (label, link) of the applications, for the instance's owner while it runs.
    apps: &'static [Application],
    /// The actions this person may take on it in its state.
    actions: Vec<RowAction>,
    /// Whether the row has a bulk-selection box (the person may operate compute at all).
    selectable: bool,
}

/// A button of a row: posted at once, or a link to its confirmation page.
pub struct RowAction {
    slug: &'static str,
    label: &'static str,
    confirm_url: Option<String>,
}

#[derive(Template)]
#[template(path = "computes/list.html")]
struct ListPage {
    chrome: Chrome,
    tabs: Vec<TabLink>,
    tab_slug: &'static str,
    tab_title: &'static str,
    empty_message: &'static str,
    filtered: bool,
    owners: Vec<Choice>,
    states: Vec<Choice>,
    sizes: Vec<Choice>,
    q: String,
    sort: &'static str,
    dir: &'static str,
    page_sizes: Vec<Choice>,
    columns: Vec<Column>,
    clear_url: String,
    /// The rows' HTML (`_row.html`, see `row_html`).
    rows: Vec<Arc<str>>,
    any_transitional: bool,
    pager: Pager,
    /// The create form for this tab, when the person may create its kind.
    new_url: Option<String>,
    /// This very view, re-read when the set of computes changes.
    self_url: String,
    /// The cache generation the page is drawn from, for the live stream to catch up from.
    generation: u64,
    /// Whether the bulk bar is shown.
    can_operate: bool,
    /// The view's filters, carried by the bulk form ("all matching").
    filter_fields: Vec<(&'static str, String)>,
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
    current: CurrentUser,
    session: tower_sessions::Session,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    current.require(Permission::ViewCompute, Ownership::NoCompute)?;
    let view = View::parse(&params, current.role, state.page_size as usize)?;
    let mut page = render_list(&state, &current, &view)?;
    page.chrome.notice = super::notice::take(&session).await;
    Ok(Html(render_sized(&page)?).into_response())
}

fn render_list(
    state: &AppState,
    current: &CurrentUser,
    view: &View,
) -> Result<ListPage, askama::Error> {
    // Read before the query: a change after it makes the stream tell the page to re-read.
    let generation = state.computes.generation();
    let counts = state.computes.count_by_kind();
    let count_of = |kind: ComputeKind| counts.get(kind.as_str()).copied().unwrap_or(0);
    let me = current.user.object_id.clone();
    let offset = (view.page - 1) * view.page_size;
    let query = view.store_query(&me, offset, view.page_size);
    let owner_filter = query.owner.clone();
    let result = state.computes.query(&query);
    let rows = result
        .rows
        .iter()
        .map(|row| row_html(state, current, row))
        .collect::<Result<Vec<_>, _>>()?;
    let tabs = Tab::ALL
        .into_iter()
        .filter(|t| *t != Tab::Other || count_of(ComputeKind::Other) > 0)
        .map(|t| TabLink {
            slug: t.slug(),
            title: t.title(),
            count: count_of(t.kind()),
            active: t == view.tab,
        })
        .collect();
    let everyone: usize = result.owners.iter().map(|(_, _, n)| n).sum();
    let mine = result
        .owners
        .iter()
        .find(|(id, _, _)| id.as_deref() == Some(me.as_str()))
        .map_or(0, |o| o.2);
    let mut owners = vec![
        Choice {
            value: "me".into(),
            label: "Me".into(),
            count: mine,
            selected: view.owner == OwnerChoice::Me,
        },
        Choice {
            value: "all".into(),
            label: "All".into(),
            count: everyone,
            selected: view.owner == OwnerChoice::All,
        },
    ];
    owners.extend(result.owners.iter().filter_map(|(id, name, n)| {
        let id = id.clone()?;
        Some(Choice {
            label: owner_label(
                state
                    .auth
                    .people
                    .name_of(&id)
                    .or(Some(name.clone()).filter(|n| !n.is_empty()))
                    .as_deref(),
                Some(&id),
            ),
            selected: view.owner == OwnerChoice::Person(id.clone()),
            value: id,
            count: *n,
        })
    }));
    let choices =
        |facet: &[(String, usize)], selected: &Option<String>, label: fn(&str) -> String| {
            facet
                .iter()
                .map(|(value, n)| Choice {
                    label: label(value),
                    selected: selected.as_deref() == Some(value.as_str()),
                    value: value.clone(),
                    count: *n,
                })
                .collect::<Vec<_>>()
        };
    let columns = [
        ("Name", "name"),
        ("State", "state"),
        ("VM size", "size"),
        ("Owner", "owner"),
        ("Created", "created"),
        ("Region", "region"),
    ]
    .into_iter()
    .map(|(title, key)| {
        let active = view.sort.0 == key;
        let next_desc = active && !view.descending;
        Column {
            title,
            url: view.url_with(&[
                ("sort", Some(key.to_string())),
                ("dir", next_desc.then(|| "desc".to_string())),
                ("page", None),
            ]),
            aria_sort: match (active, view.descending) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            },
        }
    })
    .collect();
    let page_sizes = PAGE_SIZES
        .iter()
        .map(|n| Choice {
            value: n.to_string(),
            label: n.to_string(),
            count: 0,
            selected: *n == view.page_size,
        })
        .collect();
    let total = result.total;
    let new_url = match view.tab {
        Tab::Instances => current
            .require(Permission::CreateOwnInstance, Ownership::NoCompute)
            .is_ok()
            .then(|| "/computes/new?kind=instance".to_string()),
        Tab::Clusters | Tab::Inference | Tab::Attached => current
            .require(Permission::CreateAnyCompute, Ownership::NoCompute)
            .is_ok()
            .then(|| format!("/computes/new?kind={}", view.tab.kind().as_str())),
        Tab::Other => None,
    };
    let mut filter_fields = vec![("tab", view.tab.slug().to_string())];
    let owner_value = match &view.owner {
        OwnerChoice::Me => "me".to_string(),
        OwnerChoice::All => "all".to_string(),
        OwnerChoice::Person(id) => id.clone(),
    };
    filter_fields.push(("owner", owner_value));
    for (key, value) in [("state", &view.state), ("size", &view.size), ("q", &view.q)] {
        if let Some(value) = value {
            filter_fields.push((key, value.clone()));
        }
    }
    Ok(ListPage {
        new_url,
        self_url: view.url_with(&[]),
        generation,
        can_operate: may_operate_something(current),
        filter_fields,
        chrome: state.chrome_for(current),
        tabs,
        tab_slug: view.tab.slug(),
        tab_title: view.tab.title(),
        empty_message: view.tab.empty_message(),
        filtered: owner_filter.is_some()
            || view.state.is_some()
            || view.size.is_some()
            || view.q.is_some(),
        owners,
        states: choices(&result.states, &view.state, state_label),
        sizes: choices(&result.vm_sizes, &view.size, str::to_string),
        q: view.q.clone().unwrap_or_default(),
        sort: view.sort.0,
        dir: if view.descending { "desc" } else { "asc" },
        page_sizes,
        columns,
        clear_url: format!("/computes?tab={}&owner=all", view.tab.slug()),
        any_transitional: result.rows.iter().any(|r| is_transitional(&r.state)),
        pager: Pager {
            first: if rows.is_empty() { 0 } else { offset + 1 },
            last: offset + rows.len(),
            total,
            previous: (view.page > 1)
                .then(|| view.url_with(&[("page", Some((view.page - 1).to_string()))])),
            next: (offset + view.page_size < total)
                .then(|| view.url_with(&[("page", Some((view.page + 1).to_string()))])),
        },
        rows,
    })
}

/// Renders the page into a buffer of about its final size: growing a string from askama's
/// small estimate to ~60 KB copied the page several times over.
fn render_sized(page: &ListPage) -> Result<String, askama::Error> {
    const PER_ROW: usize = 1_500;
    let mut html = String::with_capacity(16 * 1024 + page.rows.len() * PER_ROW);
    page.render_into(&mut html)?;
    Ok(html)
}

/// One row's HTML as the list shows it to this person, or nothing when the compute is gone.
pub(super) fn render_row(
    state: &AppState,
    current: &CurrentUser,
    name: &str,
) -> Result<Arc<str>, AppError> {
    match state.computes.row(name) {
        Some(row) => Ok(row_html(state, current, &row)?),
        None => Ok(Arc::from("")),
    }
}

/// A row's HTML for this person, rendered once per version of the compute and kind of viewer.
fn row_html(
    state: &AppState,
    current: &CurrentUser,
    row: &Arc<ComputeRow>,
) -> Result<Arc<str>, askama::Error> {
    let people = &state.auth.people;
    state
        .rendered_rows
        .get_or_render(row, Viewer::of(current, row), people.version(), || {
            render_fragment(state, current, row)
        })
}

/// The live stream's event for one row as this person sees it: encoded once per version of the
/// compute and kind of viewer, then shared by every open page of such a viewer. A compute that
/// is gone is an empty row, which removes it from the page.
pub(super) fn row_event_for(
    state: &AppState,
    current: &CurrentUser,
    name: &str,
) -> Result<Bytes, AppError> {
    let event = super::events::row_event(name);
    let Some(row) = state.computes.row(name) else {
        return Ok(sse::encode(&event, ""));
    };
    Ok(state.rendered_rows.event_or_encode(
        &row,
        Viewer::of(current, &row),
        state.auth.people.version(),
        || render_fragment(state, current, &row),
        |html| sse::encode(&event, html),
    )?)
}

fn render_fragment(
    state: &AppState,
    current: &CurrentUser,
    row: &Arc<ComputeRow>,
) -> Result<String, askama::Error> {
    RowFragment {
        row: row_view(row, &state.auth.people, current),
    }
    .render()
}

/// One row, for a transitional row's self-refresh. A compute that is gone returns nothing,
/// which removes the row.
async fn row(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    current.require(Permission::ViewCompute, Ownership::NoCompute)?;
    let html = render_row(&state, &current, &name)?;
    Ok(Html(html.to_string()).into_response())
}

/// Resync with Azure now, then show the list again (the fresh table for htmx).
async fn refresh(
    State(state): State<AppState>,
    current: CurrentUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    fields: FormFields,
) -> Result<Response, AppError> {
    current.require(Permission::RefreshCompute, Ownership::NoCompute)?;
    fields.only_known(&["tab"], &[])?;
    let tab = fields.one("tab")?;
    let outcome = state.sync.resync_now().await;
    let (result, detail) = match &outcome {
        Ok(report) => (
            "succeeded",
            format!(
                "{} computes, {} changed, {} removed",
                report.computes, report.changed, report.removed
            ),
        ),
        Err(e) => ("failed", e.user_message()),
    };
    audit(
        &state,
        &current.user,
        "refresh",
        "workspace",
        result,
        &detail,
        &peer,
    )
    .await;
    outcome?;
    let tab = Tab::from_slug(&tab).unwrap_or(Tab::Instances);
    if is_htmx(&headers) {
        let params = ListParams {
            tab: Some(tab.slug().into()),
            ..ListParams::default()
        };
        let view = View::parse(&params, current.role, state.page_size as usize)?;
        return Ok(Html(render_sized(&render_list(&state, &current, &view)?)?).into_response());
    }
    Ok(Redirect::to(&format!("/computes?tab={}", tab.slug())).into_response())
}

fn row_view(row: &Arc<ComputeRow>, people: &People, current: &CurrentUser) -> RowView {
    let viewer = current.user.object_id.as_str();
    let owns_running_instance = row.kind == ComputeKind::Instance.as_str()
        && row.owner_object_id.as_deref() == Some(viewer)
        && applications_open_in(&row.state);
    let url_name = url_path_segment(&row.name);
    let apps: &'static [Application] = if owns_running_instance {
        &Application::ALL
    } else {
        &[]
    };
    RowView {
        data: row.clone(),
        url_name,
        event: super::events::row_event(&row.name),
        apps,
        actions: row_actions(row, current),
        selectable: may_operate_something(current),
        tone: state_tone(&row.state).css_class(),
        transitional: is_transitional(&row.state),
        state: state_label(&row.state),
        kind_label: kind_label(row),
        owner: owner_label(
            row.owner_object_id
                .as_deref()
                .and_then(|id| people.name_of(id))
                .as_deref()
                .or(row.owner_name.as_deref()),
            row.owner_object_id.as_deref(),
        ),
        created: row
            .created_on
            .as_deref()
            .map(short_date)
            .unwrap_or_default(),
    }
}

/// Members and up act on some compute: they get the bulk bar and row boxes.
fn may_operate_something(current: &CurrentUser) -> bool {
    current
        .require(Permission::OperateCompute, Ownership::Owner)
        .is_ok()
}

/// The actions a row offers: allowed in its state (domain) and to this person (roles).
fn row_actions(row: &ComputeRow, current: &CurrentUser) -> Vec<RowAction> {
    let kind = ComputeKind::parse(&row.kind).unwrap_or(ComputeKind::Other);
    let ownership = current.ownership_of(row);
    if current
        .require(Permission::OperateCompute, ownership)
        .is_err()
    {
        return Vec::new();
    }
    ComputeAction::offered(kind, &row.state)
        .into_iter()
        .map(|action| RowAction {
            slug: action.slug(),
            label: action.label(),
            confirm_url: action.needs_confirmation().then(|| {
                format!(
                    "/computes/{}/{}",
                    url_path_segment(&row.name),
                    action.slug()
                )
            }),
        })
        .collect()
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
pub(super) fn owner_label(name: Option<&str>, object_id: Option<&str>) -> String {
    match (name, object_id) {
        (Some(name), _) => name.to_string(),
        (None, Some(id)) if id.len() > 8 => format!("user {}…", &id[..8]),
        (None, Some(id)) => format!("user {id}"),
        (None, None) => String::new(),
    }
}

/// "2026-11-03T14:12:09.1234567+00:00" → "2026-11-03 14:12 UTC"; unreadable dates shown as given.
pub(super) fn short_date(text: &str) -> String {
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

pub(super) fn url_path_segment(name: &str) -> String {
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
