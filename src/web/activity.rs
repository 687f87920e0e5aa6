//! `/activity`: every operation the dashboard started, for the whole workspace, newest first.
//!
//! Azure keeps only a compute's *last* operation; the dashboard records each one it starts
//! (who, what, on which compute, when, how it ended, and Azure's words when it failed) in the
//! operations table, so that "who stopped my instance?" has an answer. The filters live in the
//! URL, so that a view can be bookmarked and shared, and work as a plain GET form without
//! JavaScript (htmx only swaps the results in place). The details page of a compute shows the
//! same rows for that compute alone, through [`operation_rows`].

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::auth::CurrentUser;
use super::computes::{owner_label, short_date, url_path_segment};
use super::{AppState, Chrome};
use crate::domain::roles::{Ownership, Permission};
use crate::error::AppError;
use crate::store::operations::{self, OperationFilter, OperationRecord, status};
use crate::store::parse_timestamp;

/// Rows per page of the workspace's activity.
const PAGE_SIZE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new().route("/activity", get(page))
}

/// One operation as a row shows it; every value is ready to print.
pub(super) struct OperationRow {
    /// The person's name, else a short object id.
    pub who: String,
    /// The full object id, for the tooltip.
    pub who_id: String,
    pub action: String,
    pub compute: String,
    /// Its details page, while the compute exists.
    pub compute_url: Option<String>,
    pub started: String,
    pub started_iso: String,
    /// "1 min 12 s"; empty while it runs.
    pub duration: String,
    pub outcome: &'static str,
    pub tone: &'static str,
    /// Azure's message (and code) when it failed.
    pub error: Option<String>,
}

/// The rows for these operations, named for people and linked to the computes that still exist.
pub(super) fn operation_rows(state: &AppState, records: &[OperationRecord]) -> Vec<OperationRow> {
    records
        .iter()
        .map(|op| OperationRow {
            who: person_label(state, &op.started_by),
            who_id: op.started_by.clone(),
            action: action_label(&op.action),
            compute_url: state
                .computes
                .row(&op.compute_name)
                .map(|_| format!("/computes/{}", url_path_segment(&op.compute_name))),
            compute: op.compute_name.clone(),
            started: short_date(&op.started_at),
            started_iso: op.started_at.clone(),
            duration: op
                .ended_at
                .as_deref()
                .and_then(|ended| seconds_between(&op.started_at, ended))
                .map(duration_words)
                .unwrap_or_default(),
            outcome: outcome_label(&op.status),
            tone: outcome_tone(&op.status),
            error: failure_message(op),
        })
        .collect()
}

fn person_label(state: &AppState, object_id: &str) -> String {
    // Operations Azure ran on its own are recorded with their trigger in place of a person.
    match object_id {
        "schedule" => return "Schedule".into(),
        "idle-shutdown" => return "Idle shutdown".into(),
        _ => {}
    }
    owner_label(
        state.auth.people.name_of(object_id).as_deref(),
        Some(object_id),
    )
}

/// The recorded action in words; actions this version does not know are shown as recorded.
fn action_label(action: &str) -> String {
    match action {
        "create" => "Create",
        "start" => "Start",
        "stop" => "Stop",
        "restart" => "Restart",
        "delete" => "Delete",
        "detach" => "Detach",
        "update" => "Update scale settings",
        other => other,
    }
    .to_string()
}

/// Every status an operation can have, in the order the outcome filter offers them.
const OUTCOMES: [&str; 6] = [
    status::SUCCEEDED,
    status::FAILED,
    status::IN_PROGRESS,
    status::REQUESTED,
    status::CANCELED,
    status::UNKNOWN,
];

fn outcome_label(status: &str) -> &'static str {
    match status {
        status::REQUESTED => "Requested",
        status::IN_PROGRESS => "In progress",
        status::SUCCEEDED => "Succeeded",
        status::FAILED => "Failed",
        status::CANCELED => "Canceled",
        _ => "Unknown",
    }
}

/// The colour of the outcome's badge, from the list's state colours.
fn outcome_tone(status: &str) -> &'static str {
    match status {
        status::SUCCEEDED => "good",
        status::FAILED => "bad",
        status::REQUESTED | status::IN_PROGRESS => "busy",
        status::CANCELED => "idle",
        _ => "unknown",
    }
}

fn failure_message(op: &OperationRecord) -> Option<String> {
    if op.status != status::FAILED {
        return None;
    }
    match (op.error_message.as_deref(), op.error_code.as_deref()) {
        (Some(message), Some(code)) if !code.is_empty() => Some(format!("{message} ({code})")),
        (Some(message), _) => Some(message.to_string()),
        (None, Some(code)) => Some(format!("Azure error code {code}")),
        (None, None) => None,
    }
}

/// Whole seconds from one stored timestamp to another; `None` if either is unreadable.
fn seconds_between(started: &str, ended: &str) -> Option<i64> {
    let elapsed = parse_timestamp(ended)? - parse_timestamp(started)?;
    Some(elapsed.whole_seconds().max(0))
}

/// "under 1 s", "42 s", "1 min 12 s", "2 h 5 min", "3 d 4 h": the two largest units, enough
/// to compare operations at a glance.
pub(super) fn duration_words(seconds: i64) -> String {
    let (days, hours, minutes, secs) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    let pair = |big: i64, big_unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big} {big_unit}")
        } else {
            format!("{big} {big_unit} {small} {small_unit}")
        }
    };
    match seconds {
        s if s < 1 => "under 1 s".to_string(),
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => pair(minutes, "min", secs, "s"),
        s if s < 86_400 => pair(hours, "h", minutes, "min"),
        _ => pair(days, "d", hours, "h"),
    }
}

/// The page's URL parameters, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ActivityParams {
    /// The object id of the person who started the operations.
    person: Option<String>,
    /// A part of the compute's name.
    compute: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    /// YYYY-MM-DD, inclusive.
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

/// The parameters, checked: each bad value is refused with the rule it breaks.
#[derive(Debug, Clone, Default, PartialEq)]
struct ActivityView {
    person: String,
    compute: String,
    action: String,
    outcome: String,
    from: String,
    to: String,
    page: i64,
}

impl ActivityView {
    fn parse(params: &ActivityParams) -> Result<ActivityView, AppError> {
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
        let person = text(&params.person);
        if person.len() > 64
            || !person
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(AppError::BadRequest(
                "'person' must be a person's object id.".into(),
            ));
        }
        let compute = text(&params.compute);
        if compute.chars().count() > 100 {
            return Err(AppError::BadRequest(
                "'compute' (name contains) must be at most 100 characters.".into(),
            ));
        }
        let action = text(&params.action);
        if action.len() > 40 || !action.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            return Err(AppError::BadRequest(format!(
                "'action' must be an action such as start or stop, not '{}'.",
                crate::domain::scale::shorten(&action)
            )));
        }
        let outcome = text(&params.outcome);
        if !outcome.is_empty() && !OUTCOMES.contains(&outcome.as_str()) {
            return Err(AppError::BadRequest(format!(
                "'outcome' must be one of {}, not '{}'.",
                OUTCOMES.join(", "),
                crate::domain::scale::shorten(&outcome)
            )));
        }
        let page = match text(&params.page).as_str() {
            "" => 1,
            p => p
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "'page' must be a whole number from 1, not '{}'.",
                        crate::domain::scale::shorten(p)
                    ))
                })?,
        };
        Ok(ActivityView {
            person,
            compute,
            action,
            outcome,
            from: date("from", &text(&params.from))?,
            to: date("to", &text(&params.to))?,
            page,
        })
    }

    fn filter(&self) -> OperationFilter {
        OperationFilter {
            started_by: self.person.clone(),
            compute: self.compute.clone(),
            action: self.action.clone(),
            status: self.outcome.clone(),
            // Stored timestamps are fixed-width UTC text: a day's bounds compare as text.
            from: if self.from.is_empty() {
                String::new()
            } else {
                format!("{}T00:00:00", self.from)
            },
            to: if self.to.is_empty() {
                String::new()
            } else {
                format!("{}T23:59:59.999999Z", self.to)
            },
        }
    }

    fn is_filtered(&self) -> bool {
        self.filter() != OperationFilter::default()
    }

    /// The URL of this view on another page.
    fn url_of_page(&self, page: i64) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("person", &self.person),
            ("compute", &self.compute),
            ("action", &self.action),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                url.append_pair(key, value);
            }
        }
        if page > 1 {
            url.append_pair("page", &page.to_string());
        }
        let query = url.finish();
        if query.is_empty() {
            "/activity".to_string()
        } else {
            format!("/activity?{query}")
        }
    }
}

/// A date as a date input sends it, or nothing.
fn date(name: &str, value: &str) -> Result<String, AppError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if value.is_empty() || time::Date::parse(value, &format).is_ok() {
        Ok(value.to_string())
    } else {
        Err(AppError::BadRequest(format!(
            "'{name}' must be a date like 2026-11-25, not '{}'.",
            crate::domain::scale::shorten(value)
        )))
    }
}

/// A choice of a filter: its value, its words, and whether it is on.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct Pager {
    first: i64,
    last: i64,
    total: i64,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    chrome: Chrome,
    people: Vec<Choice>,
    actions: Vec<Choice>,
    outcomes: Vec<Choice>,
    compute: String,
    from: String,
    to: String,
    filtered: bool,
    operations: Vec<OperationRow>,
    /// The table names each operation's compute (the details page's table does not).
    show_compute: bool,
    pager: Pager,
}

async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ActivityParams>,
) -> Result<Response, AppError> {
    current.require(Permission::ViewCompute, Ownership::NoCompute)?;
    let view = ActivityView::parse(&params)?;
    let filter = view.filter();
    let offset = (view.page - 1) * PAGE_SIZE;
    let records = operations::search(&state.db, &filter, PAGE_SIZE, offset).await?;
    let total = operations::count(&state.db, &filter).await?;
    let people = operations::starters(&state.db)
        .await?
        .into_iter()
        .map(|id| Choice {
            label: person_label(&state, &id),
            selected: id == view.person,
            value: id,
        })
        .collect();
    let actions = operations::actions(&state.db)
        .await?
        .into_iter()
        .map(|action| Choice {
            label: action_label(&action),
            selected: action == view.action,
            value: action,
        })
        .collect();
    let outcomes = OUTCOMES
        .iter()
        .map(|status| Choice {
            value: status.to_string(),
            label: outcome_label(status).to_string(),
            selected: *status == view.outcome,
        })
        .collect();
    let shown = records.len() as i64;
    let page = ActivityPage {
        chrome: state.chrome_for(&current),
        people,
        actions,
        outcomes,
        compute: view.compute.clone(),
        from: view.from.clone(),
        to: view.to.clone(),
        filtered: view.is_filtered(),
        operations: operation_rows(&state, &records),
        show_compute: true,
        pager: Pager {
            first: if shown == 0 { 0 } else { offset + 1 },
            last: offset + shown,
            total,
            previous: (view.page > 1).then(|| view.url_of_page(view.page - 1)),
            next: (offset + shown < total).then(|| view.url_of_page(view.page + 1)),
        },
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_two_units_at_most() {
        let cases = [
            (0, "under 1 s"),
            (42, "42 s"),
            (60, "1 min"),
            (72, "1 min 12 s"),
            (3600, "1 h"),
            (3725, "1 h 2 min"),
            (86_400 * 3 + 3600 * 4 + 5, "3 d 4 h"),
        ];
        for (seconds, words) in cases {
            assert_eq!(duration_words(seconds), words, "{seconds}");
        }
        assert_eq!(
            seconds_between("2026-11-27T10:00:00.000000Z", "2026-11-27T10:01:12.500000Z"),
            Some(72)
        );
        assert_eq!(seconds_between("yesterday", "2026-11-27T10:00:00Z"), None);
    }

    #[test]
    fn parameters_are_checked_and_kept_in_the_url() {
        let params = ActivityParams {
            person: Some("4f1c2a9e-7b6d".into()),
            compute: Some(" cpu ".into()),
            outcome: Some("failed".into()),
            from: Some("2026-11-01".into()),
            page: Some("2".into()),
            ..ActivityParams::default()
        };
        let view = ActivityView::parse(&params).unwrap();
        assert_eq!(view.filter().from, "2026-11-01T00:00:00");
        assert_eq!(view.filter().compute, "cpu");
        assert_eq!(
            view.url_of_page(3),
            "/activity?person=4f1c2a9e-7b6d&compute=cpu&outcome=failed&from=2026-11-01&page=3"
        );
        assert_eq!(
            view.url_of_page(1),
            "/activity?person=4f1c2a9e-7b6d&compute=cpu&outcome=failed&from=2026-11-01"
        );
        assert!(view.is_filtered());
        assert!(
            !ActivityView::parse(&ActivityParams::default())
                .unwrap()
                .is_filtered()
        );
        for bad in [
            ActivityParams {
                outcome: Some("exploded".into()),
                ..ActivityParams::default()
            },
            ActivityParams {
                from: Some("27/11/2026".into()),
                ..ActivityParams::default()
            },
            ActivityParams {
                person: Some("a b".into()),
                ..ActivityParams::default()
            },
            ActivityParams {
                action: Some("DROP TABLE".into()),
                ..ActivityParams::default()
            },
            ActivityParams {
                page: Some("0".into()),
                ..ActivityParams::default()
            },
        ] {
            assert!(ActivityView::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
