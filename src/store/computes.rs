//! The cached computes: written by the sync tasks, read by every page.

use sqlx::SqlitePool;

/// One compute as the cache keeps it: the columns the list needs, and Azure's whole resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeRecord {
    pub name: String,
    pub arm_id: String,
    pub kind: String,
    pub compute_type: String,
    pub state: String,
    pub provisioning_state: Option<String>,
    pub vm_size: Option<String>,
    pub owner_object_id: Option<String>,
    pub owner_tenant_id: Option<String>,
    pub owner_name: Option<String>,
    pub created_by_name: Option<String>,
    pub created_on: Option<String>,
    pub location: Option<String>,
    pub resource_json: String,
}

/// The columns one row of the list shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeRow {
    pub name: String,
    pub kind: String,
    pub compute_type: String,
    pub state: String,
    pub vm_size: Option<String>,
    pub owner_object_id: Option<String>,
    pub owner_name: Option<String>,
    pub created_on: Option<String>,
    pub location: Option<String>,
}

pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Insert or update one compute read from Azure just now. Returns whether the row changed.
pub async fn upsert(
    db: &SqlitePool,
    record: &ComputeRecord,
    synced_at: &str,
) -> sqlx::Result<bool> {
    let mut conn = db.acquire().await?;
    upsert_on(&mut conn, record, synced_at, synced_at).await
}

/// Writes the record unless the cached row is identical or was written at or after
/// `written_before` (a newer read than the one this record comes from).
async fn upsert_on(
    conn: &mut sqlx::SqliteConnection,
    record: &ComputeRecord,
    synced_at: &str,
    written_before: &str,
) -> sqlx::Result<bool> {
    let key = name_key(&record.name);
    let changed = sqlx::query!(
        r#"INSERT INTO computes (name_key, name, arm_id, kind, compute_type, state, provisioning_state,
               vm_size, owner_object_id, owner_tenant_id, owner_name, created_by_name, created_on,
               location, resource_json, last_synced_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (name_key) DO UPDATE SET
               name = excluded.name, arm_id = excluded.arm_id, kind = excluded.kind,
               compute_type = excluded.compute_type, state = excluded.state,
               provisioning_state = excluded.provisioning_state, vm_size = excluded.vm_size,
               owner_object_id = excluded.owner_object_id, owner_tenant_id = excluded.owner_tenant_id,
               owner_name = excluded.owner_name, created_by_name = excluded.created_by_name,
               created_on = excluded.created_on, location = excluded.location,
               resource_json = excluded.resource_json, last_synced_at = excluded.last_synced_at
           WHERE computes.resource_json IS NOT excluded.resource_json
             AND computes.last_synced_at < ?"#,
        key,
        record.name,
        record.arm_id,
        record.kind,
        record.compute_type,
        record.state,
        record.provisioning_state,
        record.vm_size,
        record.owner_object_id,
        record.owner_tenant_id,
        record.owner_name,
        record.created_by_name,
        record.created_on,
        record.location,
        record.resource_json,
        synced_at,
        written_before,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// What a full resync changed in the cache.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// Make the cache equal to a complete listing from Azure, in one transaction.
///
/// Rows written after the listing began (`listing_started_at`) come from a newer read (an
/// action or a poll) and are neither overwritten nor removed.
pub async fn replace_all(
    db: &SqlitePool,
    records: &[ComputeRecord],
    listing_started_at: &str,
    synced_at: &str,
) -> sqlx::Result<Replaced> {
    let mut tx = db.begin().await?;
    let mut replaced = Replaced::default();
    for record in records {
        if upsert_on(&mut tx, record, synced_at, listing_started_at).await? {
            replaced.changed.push(record.name.clone());
        }
    }
    let listed: Vec<String> = records.iter().map(|r| name_key(&r.name)).collect();
    let listed = serde_json::to_string(&listed).unwrap_or_else(|_| "[]".into());
    replaced.removed = sqlx::query_scalar!(
        r#"DELETE FROM computes
           WHERE last_synced_at < ? AND name_key NOT IN (SELECT value FROM json_each(?))
           RETURNING name"#,
        listing_started_at,
        listed
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(replaced)
}

pub async fn remove(db: &SqlitePool, name: &str) -> sqlx::Result<()> {
    let key = name_key(name);
    sqlx::query!("DELETE FROM computes WHERE name_key = ?", key)
        .execute(db)
        .await?;
    Ok(())
}

/// One page of a tab, in name order.
pub async fn list_page(
    db: &SqlitePool,
    kind: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<ComputeRow>> {
    sqlx::query_as!(
        ComputeRow,
        r#"SELECT name, kind, compute_type, state, vm_size, owner_object_id, owner_name, created_on, location
           FROM computes WHERE kind = ? ORDER BY name_key LIMIT ? OFFSET ?"#,
        kind,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

pub async fn get_row(db: &SqlitePool, name: &str) -> sqlx::Result<Option<ComputeRow>> {
    let key = name_key(name);
    sqlx::query_as!(
        ComputeRow,
        r#"SELECT name, kind, compute_type, state, vm_size, owner_object_id, owner_name, created_on, location
           FROM computes WHERE name_key = ?"#,
        key
    )
    .fetch_optional(db)
    .await
}

/// How many computes each tab holds.
pub async fn count_by_kind(db: &SqlitePool) -> sqlx::Result<Vec<(String, i64)>> {
    let rows =
        sqlx::query!(r#"SELECT kind, COUNT(*) AS "count!: i64" FROM computes GROUP BY kind"#)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.count)).collect())
}

/// Computes whose state moves on its own and so must be re-read until it settles.
pub async fn names_in_states(db: &SqlitePool, states: &[&str]) -> sqlx::Result<Vec<String>> {
    // The list of transitional states is short and fixed: a JSON array keeps the query static.
    let states = serde_json::to_string(states).unwrap_or_else(|_| "[]".into());
    sqlx::query_scalar!(
        r#"SELECT name FROM computes WHERE state IN (SELECT value FROM json_each(?)) ORDER BY name_key"#,
        states
    )
    .fetch_all(db)
    .await
}

pub async fn count(db: &SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT COUNT(*) AS "count!: i64" FROM computes"#)
        .fetch_one(db)
        .await
}
