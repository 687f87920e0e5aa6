//! Claims on create forms: the first submission of a form's token goes to Azure, every later
//! one is told what became of it.

use sqlx::SqlitePool;

/// How a submission stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This submission is the first: it may ask Azure.
    First,
    /// The form was already submitted; Azure accepted it when `operation_id` is set.
    AlreadySubmitted {
        compute_name: String,
        operation_id: Option<String>,
    },
}

/// Claims a form token for one create. Atomic: of two racing submissions exactly one gets
/// `First`.
pub async fn claim(
    db: &SqlitePool,
    form_token: &str,
    requested_by: &str,
    compute_name: &str,
    now: &str,
) -> sqlx::Result<Claim> {
    let inserted = sqlx::query!(
        r#"INSERT INTO create_requests (form_token, requested_by, compute_name, claimed_at)
           VALUES (?, ?, ?, ?) ON CONFLICT (form_token) DO NOTHING"#,
        form_token,
        requested_by,
        compute_name,
        now
    )
    .execute(db)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::First);
    }
    let earlier = sqlx::query!(
        r#"SELECT compute_name, operation_id FROM create_requests WHERE form_token = ?"#,
        form_token
    )
    .fetch_one(db)
    .await?;
    Ok(Claim::AlreadySubmitted {
        compute_name: earlier.compute_name,
        operation_id: earlier.operation_id,
    })
}

/// Azure accepted the create: later submissions of the form point at its operation.
pub async fn accepted(db: &SqlitePool, form_token: &str, operation_id: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE create_requests SET operation_id = ? WHERE form_token = ?",
        operation_id,
        form_token
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Azure refused (or could not be asked): the person may fix the form and submit it again.
pub async fn release(db: &SqlitePool, form_token: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM create_requests WHERE form_token = ? AND operation_id IS NULL",
        form_token
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Claims older than a day protect nothing any more (a form is not resubmitted a day later).
pub async fn forget_before(db: &SqlitePool, cutoff: &str) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM create_requests WHERE claimed_at < ?", cutoff)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test]
    async fn one_submission_wins(db: SqlitePool) {
        let now = "2026-11-26T10:00:00Z";
        assert_eq!(
            claim(&db, "t1", "ada", "ci-a", now).await.unwrap(),
            Claim::First
        );
        assert_eq!(
            claim(&db, "t1", "ada", "ci-a", now).await.unwrap(),
            Claim::AlreadySubmitted {
                compute_name: "ci-a".into(),
                operation_id: None
            }
        );
        accepted(&db, "t1", "op-1").await.unwrap();
        release(&db, "t1").await.unwrap();
        assert_eq!(
            claim(&db, "t1", "ada", "ci-b", now).await.unwrap(),
            Claim::AlreadySubmitted {
                compute_name: "ci-a".into(),
                operation_id: Some("op-1".into())
            },
            "an accepted create is never released"
        );
        assert_eq!(
            claim(&db, "t2", "ada", "ci-c", now).await.unwrap(),
            Claim::First
        );
        release(&db, "t2").await.unwrap();
        assert_eq!(
            claim(&db, "t2", "ada", "ci-c", now).await.unwrap(),
            Claim::First,
            "a refused create may be retried"
        );
        assert_eq!(forget_before(&db, "2026-11-27T00:00:00Z").await.unwrap(), 2);
    }
}
