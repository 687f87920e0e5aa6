//! The audit log: every state-changing action, who did it, to what, when, with what outcome and
//! from where. Never a secret or a token.

use sqlx::SqlitePool;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
    pub source: String,
}

/// An entry to write.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry<'a> {
    pub actor_id: &'a str,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
    pub source: &'a str,
}

pub async fn record(db: &SqlitePool, entry: &NewAuditEntry<'_>, at: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO audit_log (at, actor_id, actor_name, action, target, outcome, detail, source)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)"#,
        at,
        entry.actor_id,
        entry.actor_name,
        entry.action,
        entry.target,
        entry.outcome,
        entry.detail,
        entry.source
    )
    .execute(db)
    .await?;
    Ok(())
}

/// What the audit page filters by; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: String,
    pub target: String,
    pub action: String,
    pub from: String,
    pub to: String,
}

/// Matching entries, newest first.
pub async fn search(
    db: &SqlitePool,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    let actor = format!("%{}%", filter.actor);
    let target = format!("%{}%", filter.target);
    sqlx::query_as!(
        AuditEntry,
        r#"SELECT id AS "id!", at, actor_id, actor_name, action, target, outcome, detail, source
           FROM audit_log
           WHERE (? = '%%' OR actor_name LIKE ? OR actor_id LIKE ?)
             AND (? = '%%' OR target LIKE ?)
             AND (? = '' OR action = ?)
             AND (? = '' OR at >= ?)
             AND (? = '' OR at <= ?)
           ORDER BY id DESC LIMIT ? OFFSET ?"#,
        actor,
        actor,
        actor,
        target,
        target,
        filter.action,
        filter.action,
        filter.from,
        filter.from,
        filter.to,
        filter.to,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

/// The actions that occur in the log, for the filter's choices.
pub async fn actions(db: &SqlitePool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT DISTINCT action FROM audit_log ORDER BY action")
        .fetch_all(db)
        .await
}
