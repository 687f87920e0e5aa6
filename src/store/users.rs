//! People who have signed in, and the roles admins set for them.

use sqlx::SqlitePool;

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub object_id: String,
    pub tenant_id: String,
    pub name: String,
    pub email: String,
    pub token_roles: String,
    pub last_seen: String,
    pub role_override: Option<String>,
}

/// Remember a sign-in: who, their current name and e-mail, and the roles their token carried.
pub async fn record_sign_in(
    db: &SqlitePool,
    object_id: &str,
    tenant_id: &str,
    name: &str,
    email: &str,
    token_roles: &[String],
    at: &str,
) -> sqlx::Result<()> {
    let roles = serde_json::to_string(token_roles).unwrap_or_else(|_| "[]".into());
    sqlx::query!(
        r#"INSERT INTO users (object_id, tenant_id, name, email, token_roles, first_seen, last_seen)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (object_id, tenant_id) DO UPDATE SET
               name = excluded.name, email = excluded.email, token_roles = excluded.token_roles,
               last_seen = excluded.last_seen"#,
        object_id,
        tenant_id,
        name,
        email,
        roles,
        at,
        at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Everyone who has signed in, by name.
pub async fn all(db: &SqlitePool) -> sqlx::Result<Vec<UserRecord>> {
    sqlx::query_as!(
        UserRecord,
        r#"SELECT u.object_id, u.tenant_id, u.name, u.email, u.token_roles, u.last_seen,
                  o.role AS role_override
           FROM users u LEFT JOIN role_overrides o
             ON o.object_id = u.object_id AND o.tenant_id = u.tenant_id
           ORDER BY u.name COLLATE NOCASE"#
    )
    .fetch_all(db)
    .await
}

pub async fn find(
    db: &SqlitePool,
    object_id: &str,
    tenant_id: &str,
) -> sqlx::Result<Option<UserRecord>> {
    sqlx::query_as!(
        UserRecord,
        r#"SELECT u.object_id, u.tenant_id, u.name, u.email, u.token_roles, u.last_seen,
                  o.role AS role_override
           FROM users u LEFT JOIN role_overrides o
             ON o.object_id = u.object_id AND o.tenant_id = u.tenant_id
           WHERE u.object_id = ? AND u.tenant_id = ?"#,
        object_id,
        tenant_id
    )
    .fetch_optional(db)
    .await
}

/// The role an admin set for a person, if any.
pub async fn role_override(
    db: &SqlitePool,
    object_id: &str,
    tenant_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT role FROM role_overrides WHERE object_id = ? AND tenant_id = ?",
        object_id,
        tenant_id
    )
    .fetch_optional(db)
    .await
}

/// Set (`Some`) or clear (`None`) a person's role override.
pub async fn set_role_override(
    db: &SqlitePool,
    object_id: &str,
    tenant_id: &str,
    role: Option<&str>,
    set_by: &str,
    at: &str,
) -> sqlx::Result<()> {
    match role {
        Some(role) => {
            sqlx::query!(
                r#"INSERT INTO role_overrides (object_id, tenant_id, role, set_by, set_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (object_id, tenant_id) DO UPDATE SET
                       role = excluded.role, set_by = excluded.set_by, set_at = excluded.set_at"#,
                object_id,
                tenant_id,
                role,
                set_by,
                at
            )
            .execute(db)
            .await?;
        }
        None => {
            sqlx::query!(
                "DELETE FROM role_overrides WHERE object_id = ? AND tenant_id = ?",
                object_id,
                tenant_id
            )
            .execute(db)
            .await?;
        }
    }
    Ok(())
}

/// Display names by object id, for showing owners.
pub async fn names_by_object_id(db: &SqlitePool) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!("SELECT object_id, name FROM users")
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.object_id, r.name)).collect())
}
