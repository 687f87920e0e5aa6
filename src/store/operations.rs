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

/// An operation Azure ran on its own (a schedule, idle shutdown), recorded once, when it is
/// seen ended. Its id is made from the compute, action and time Azure gives it, so seeing it
/// again (the next resync, a restart) records nothing new.
pub struct ObservedOperation<'a> {
    pub compute_name: &'a str,
    pub action: &'a str,
    /// `schedule` or `idle-shutdown`: who started it, in the column that holds people's ids.
    pub started_by: &'a str,
    pub started_at: &'a str,
    pub status: &'a str,
    /// When the dashboard saw it ended (Azure does not say when it ended).
    pub seen_ended_at: &'a str,
}

pub async fn record_observed(db: &SqlitePool, op: &ObservedOperation<'_>) -> sqlx::Result<bool> {
    let id = format!(
        "observed:{}:{}:{}",
        op.compute_name.to_ascii_lowercase(),
        op.action,
        op.started_at
    );
    let inserted = sqlx::query!(
        r#"INSERT INTO operations (id, compute_name, action, status, started_by, started_at, ended_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"#,
        id,
        op.compute_name,
        op.action,
        op.status,
        op.started_by,
        op.started_at,
        op.seen_ended_at
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
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

/// What the activity page filters by; an empty field does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationFilter {
    /// The object id of the person who started it, exactly.
    pub started_by: String,
    /// A part of the compute's name, in any letter case.
    pub compute: String,
    /// An action as recorded (`start`, `update`, …), exactly.
    pub action: String,
    /// A status as recorded (`failed`, …), exactly.
    pub status: String,
    /// Earliest `started_at`, inclusive: a stored timestamp or a prefix of one (`2026-11-27T00:00:00`).
    pub from: String,
    /// Latest `started_at`, inclusive.
    pub to: String,
}

/// `LIKE` pattern for "contains `text`", with the pattern's own wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Matching operations, newest first.
pub async fn search(
    db: &SqlitePool,
    filter: &OperationFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<OperationRecord>> {
    let compute = contains_pattern(&filter.compute);
    sqlx::query_as!(
        OperationRecord,
        r#"SELECT id, compute_name, action, status, polling_kind, polling_url, next_poll_at, started_by,
                  started_at, ended_at, error_code, error_message
           FROM operations
           WHERE (? = '' OR started_by = ?)
             AND (? = '%%' OR compute_name LIKE ? ESCAPE '\')
             AND (? = '' OR action = ?)
             AND (? = '' OR status = ?)
             AND (? = '' OR started_at >= ?)
             AND (? = '' OR started_at <= ?)
           ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?"#,
        filter.started_by,
        filter.started_by,
        compute,
        compute,
        filter.action,
        filter.action,
        filter.status,
        filter.status,
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

/// How many operations match (for "51–100 of 230").
pub async fn count(db: &SqlitePool, filter: &OperationFilter) -> sqlx::Result<i64> {
    let compute = contains_pattern(&filter.compute);
    sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "count!: i64"
           FROM operations
           WHERE (? = '' OR started_by = ?)
             AND (? = '%%' OR compute_name LIKE ? ESCAPE '\')
             AND (? = '' OR action = ?)
             AND (? = '' OR status = ?)
             AND (? = '' OR started_at >= ?)
             AND (? = '' OR started_at <= ?)"#,
        filter.started_by,
        filter.started_by,
        compute,
        compute,
        filter.action,
        filter.action,
        filter.status,
        filter.status,
        filter.from,
        filter.from,
        filter.to,
        filter.to,
    )
    .fetch_one(db)
    .await
}

/// The object ids of everybody who started an operation, for the person filter.
pub async fn starters(db: &SqlitePool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT DISTINCT started_by FROM operations ORDER BY started_by")
        .fetch_all(db)
        .await
}

/// The actions that occur, for the action filter.
pub async fn actions(db: &SqlitePool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT DISTINCT action FROM operations ORDER BY action")
        .fetch_all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn started(db: &SqlitePool, compute: &str, action: &str, by: &str, at: &str) -> String {
        insert_requested(db, compute, action, by, at, at)
            .await
            .unwrap()
    }

    fn ids(found: Vec<OperationRecord>) -> Vec<String> {
        found.into_iter().map(|o| o.id).collect()
    }

    #[sqlx::test]
    async fn search_filters_and_orders_newest_first(db: SqlitePool) {
        let a = started(
            &db,
            "alan-notebooks",
            "stop",
            "alan",
            "2026-11-01T10:00:00.000000Z",
        )
        .await;
        let b = started(
            &db,
            "cpu_cluster",
            "update",
            "grace",
            "2026-11-02T10:00:00.000000Z",
        )
        .await;
        let c = started(
            &db,
            "cpu-cluster",
            "delete",
            "grace",
            "2026-11-03T10:00:00.000000Z",
        )
        .await;
        finish(
            &db,
            &c,
            status::FAILED,
            "2026-11-03T10:00:05.000000Z",
            Some(("Conflict", "busy")),
        )
        .await
        .unwrap();
        let all = OperationFilter::default();
        assert_eq!(
            ids(search(&db, &all, 10, 0).await.unwrap()),
            [c.as_str(), b.as_str(), a.as_str()]
        );
        assert_eq!(ids(search(&db, &all, 1, 1).await.unwrap()), [b.as_str()]);
        assert_eq!(count(&db, &all).await.unwrap(), 3);

        let cases = [
            (
                OperationFilter {
                    started_by: "grace".into(),
                    ..all.clone()
                },
                vec![&c, &b],
            ),
            (
                OperationFilter {
                    compute: "CLUSTER".into(),
                    ..all.clone()
                },
                vec![&c, &b],
            ),
            // `_` is a character to look for, not LIKE's "any character".
            (
                OperationFilter {
                    compute: "_".into(),
                    ..all.clone()
                },
                vec![&b],
            ),
            (
                OperationFilter {
                    action: "stop".into(),
                    ..all.clone()
                },
                vec![&a],
            ),
            (
                OperationFilter {
                    status: "failed".into(),
                    ..all.clone()
                },
                vec![&c],
            ),
            (
                OperationFilter {
                    from: "2026-11-02T00:00:00".into(),
                    ..all.clone()
                },
                vec![&c, &b],
            ),
            (
                OperationFilter {
                    to: "2026-11-02T23:59:59.999999Z".into(),
                    ..all.clone()
                },
                vec![&b, &a],
            ),
        ];
        for (filter, expected) in cases {
            let found = ids(search(&db, &filter, 10, 0).await.unwrap());
            assert_eq!(found.iter().collect::<Vec<_>>(), expected, "{filter:?}");
            assert_eq!(
                count(&db, &filter).await.unwrap(),
                expected.len() as i64,
                "{filter:?}"
            );
        }
        assert_eq!(starters(&db).await.unwrap(), ["alan", "grace"]);
        assert_eq!(actions(&db).await.unwrap(), ["delete", "stop", "update"]);
    }
}
