//! Operations the dashboard started and follows to their end. A row is written before Azure is
//! called, so nothing is lost if the process dies at any point afterwards.

use sqlx::SqlitePool;

/// Statuses of the `operations.status` column.
pub mod status {
    pub const REQUESTED: &str = "requested";
    pub const IN_PROGRESS: &str = "in_progress";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    pub const CANCELED: &str = "canceled";
    /// The process died after asking Azure and before hearing back; the resource tells the rest.
    pub const UNKNOWN: &str = "unknown";
}

#[derive(Debug, Clone, PartialEq)]
pub struct OperationRecord {
    pub id: String,
    pub compute_name: String,
    pub action: String,
    pub status: String,
    pub polling_kind: Option<String>,
    pub polling_url: Option<String>,
    pub next_poll_at: Option<String>,
    pub started_by: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Record an operation about to be sent to Azure; returns its id.
///
/// `give_up_at` is when the poller takes the request for lost if Azure's answer was never
/// recorded (the process died while asking); it must lie beyond the longest possible call.
pub async fn insert_requested(
    db: &SqlitePool,
    compute_name: &str,
    action: &str,
    started_by: &str,
    started_at: &str,
    give_up_at: &str,
) -> sqlx::Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query!(
        r#"INSERT INTO operations (id, compute_name, action, status, started_by, started_at, next_poll_at)
           VALUES (?, ?, ?, 'requested', ?, ?, ?)"#,
        id,
        compute_name,
        action,
        started_by,
        started_at,
        give_up_at
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// Azure accepted the request: remember how to follow it and when to look first.
pub async fn mark_in_progress(
    db: &SqlitePool,
    id: &str,
    polling_kind: &str,
    polling_url: &str,
    next_poll_at: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE operations SET status = 'in_progress', polling_kind = ?, polling_url = ?, next_poll_at = ?
           WHERE id = ? AND ended_at IS NULL"#,
        polling_kind,
        polling_url,
        next_poll_at,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn reschedule(db: &SqlitePool, id: &str, next_poll_at: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE operations SET next_poll_at = ? WHERE id = ? AND ended_at IS NULL",
        next_poll_at,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Record the outcome. An operation ends once: a second call changes nothing.
pub async fn finish(
    db: &SqlitePool,
    id: &str,
    final_status: &str,
    ended_at: &str,
    error: Option<(&str, &str)>,
) -> sqlx::Result<bool> {
    let (code, message) = error.unzip();
    let changed = sqlx::query!(
        r#"UPDATE operations SET status = ?, ended_at = ?, error_code = ?, error_message = ?, next_poll_at = NULL
           WHERE id = ? AND ended_at IS NULL"#,
        final_status,
        ended_at,
        code,
        message,
        id
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Unfinished operations whose next look is due.
pub async fn due(db: &SqlitePool, now: &str, limit: i64) -> sqlx::Result<Vec<OperationRecord>> {
    sqlx::query_as!(
        OperationRecord,
        r#"SELECT id, compute_name, action, status, polling_kind, polling_url, next_poll_at, started_by,
                  started_at, ended_at, error_code, error_message
           FROM operations
           WHERE ended_at IS NULL AND (next_poll_at IS NULL OR next_poll_at <= ?)
           ORDER BY next_poll_at LIMIT ?"#,
        now,
        limit
    )
    .fetch_all(db)
    .await
}

/// Requests whose answer was never recorded, sent before `before`.
pub async fn unanswered_before(
    db: &SqlitePool,
    before: &str,
) -> sqlx::Result<Vec<OperationRecord>> {
    sqlx::query_as!(
        OperationRecord,
        r#"SELECT id, compute_name, action, status, polling_kind, polling_url, next_poll_at, started_by,
                  started_at, ended_at, error_code, error_message
           FROM operations WHERE ended_at IS NULL AND polling_url IS NULL AND started_at < ?"#,
        before
    )
    .fetch_all(db)
    .await
}

/// When the earliest unfinished operation wants its next look.
pub async fn next_due_at(db: &SqlitePool) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        r#"SELECT MIN(next_poll_at) AS "next?: String" FROM operations WHERE ended_at IS NULL"#
    )
    .fetch_one(db)
    .await
}

pub async fn get(db: &SqlitePool, id: &str) -> sqlx::Result<Option<OperationRecord>> {
    sqlx::query_as!(
        OperationRecord,
        r#"SELECT id, compute_name, action, status, polling_kind, polling_url, next_poll_at, started_by,
                  started_at, ended_at, error_code, error_message
           FROM operations WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Operations of one compute, newest first.
pub async fn for_compute(
    db: &SqlitePool,
    compute_name: &str,
    limit: i64,
) -> sqlx::Result<Vec<OperationRecord>> {
    sqlx::query_as!(
        OperationRecord,
        r#"SELECT id, compute_name, action, status, polling_kind, polling_url, next_poll_at, started_by,
                  started_at, ended_at, error_code, error_message
           FROM operations WHERE compute_name = ? COLLATE NOCASE ORDER BY started_at DESC LIMIT ?"#,
        compute_name,
        limit
    )
    .fetch_all(db)
    .await
}
