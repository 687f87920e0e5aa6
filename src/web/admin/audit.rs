//! `/admin/audit`: every state-changing action, filtered by person, target, action and time,
//! and exported as CSV.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::domain::roles::{Ownership, Permission};
use crate::error::AppError;
use crate::store::audit::{self, AuditEntry, AuditFilter};
use crate::web::auth::CurrentUser;
use crate::web::{AppState, Chrome};

const PAGE_SIZE: i64 = 100;
const EXPORT_LIMIT: i64 = 100_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(page))
        .route("/admin/audit.csv", get(export))
}

#[derive(Debug, Default, Deserialize)]
struct AuditParams {
    actor: Option<String>,
    target: Option<String>,
    action: Option<String>,
    /// YYYY-MM-DD, inclusive.
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

impl AuditParams {
    fn filter(&self) -> Result<AuditFilter, AppError> {
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
        let date = |name: &str, v: &Option<String>| -> Result<String, AppError> {
            let v = text(v);
            let ok = v.is_empty()
                || time::Date::parse(
                    &v,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .is_ok();
            if ok {
                Ok(v)
            } else {
                Err(AppError::BadRequest(format!(
                    "'{name}' must be a date like 2026-11-25, not '{v}'."
                )))
            }
        };
        let from = date("from", &self.from)?;
        let to = date("to", &self.to)?;
        Ok(AuditFilter {
            actor: text(&self.actor),
            target: text(&self.target),
            action: text(&self.action),
            from: if from.is_empty() {
                from
            } else {
                format!("{from}T00:00:00")
            },
            // Inclusive: everything on that day.
            to: if to.is_empty() {
                to
            } else {
                format!("{to}T23:59:59.999999Z")
            },
        })
    }

    fn page(&self) -> Result<i64, AppError> {
        match self
            .page
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => Ok(1),
            Some(p) => p
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "'page' must be a whole number from 1, not '{p}'."
                    ))
                }),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<AuditEntry>,
    actions: Vec<String>,
    actor: String,
    target: String,
    action: String,
    from: String,
    to: String,
    export_url: String,
    next_url: Option<String>,
    previous_url: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<AuditParams>,
) -> Result<Response, AppError> {
    current.require(Permission::ViewAudit, Ownership::NoCompute)?;
    let filter = params.filter()?;
    let page = params.page()?;
    let mut entries =
        audit::search(&state.db, &filter, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE).await?;
    let more = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    let query = |page: Option<i64>| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("actor", &params.actor),
            ("target", &params.target),
            ("action", &params.action),
            ("from", &params.from),
            ("to", &params.to),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                url.append_pair(key, value);
            }
        }
        if let Some(page) = page {
            url.append_pair("page", &page.to_string());
        }
        url.finish()
    };
    let view = AuditPage {
        chrome: state.chrome_for(&current),
        actions: audit::actions(&state.db).await?,
        actor: params.actor.clone().unwrap_or_default(),
        target: params.target.clone().unwrap_or_default(),
        action: params.action.clone().unwrap_or_default(),
        from: params.from.clone().unwrap_or_default(),
        to: params.to.clone().unwrap_or_default(),
        export_url: format!("/admin/audit.csv?{}", query(None)),
        next_url: more.then(|| format!("/admin/audit?{}", query(Some(page + 1)))),
        previous_url: (page > 1).then(|| format!("/admin/audit?{}", query(Some(page - 1)))),
        entries,
    };
    Ok(Html(view.render()?).into_response())
}

async fn export(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<AuditParams>,
) -> Result<Response, AppError> {
    current.require(Permission::ViewAudit, Ownership::NoCompute)?;
    let entries = audit::search(&state.db, &params.filter()?, EXPORT_LIMIT, 0).await?;
    let mut csv = String::from("time,actor,actor_id,action,target,outcome,detail,source\r\n");
    for e in &entries {
        let fields = [
            &e.at,
            &e.actor_name,
            &e.actor_id,
            &e.action,
            &e.target,
            &e.outcome,
            &e.detail,
            &e.source,
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"compute-studio-audit.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// RFC 4180 quoting, and a leading apostrophe for values a spreadsheet would run as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\r', '\n']) || value.starts_with('\'') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }
}
