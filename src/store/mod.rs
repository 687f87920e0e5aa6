//! The SQLite cache: computes as last seen in Azure, and the operations being followed.
//! Every query is checked at compile time against `migrations/` (offline data in `.sqlx/`).

pub mod audit;
pub mod computes;
pub mod create_requests;
pub mod operations;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;
use time::macros::format_description;

/// Why the database could not be used; each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the database URL '{url}' is not valid: {detail}")]
    BadUrl { url: String, detail: String },
    #[error("the database '{path}' could not be opened: {detail}")]
    CannotOpen { path: String, detail: String },
    #[error(
        "'{path}' is not a Compute Studio database (it holds other tables: {tables}); choose another file with --database-url"
    )]
    NotOurs { path: String, tables: String },
    #[error("the database '{path}' could not be brought up to date: {detail}")]
    Migration { path: String, detail: String },
}

/// Opens (creating if missing) the cache, checks that it is ours, and applies migrations.
pub async fn open(url: &str, max_connections: u32) -> Result<SqlitePool, OpenError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| OpenError::BadUrl {
            url: url.into(),
            detail: e.to_string(),
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let path = options.get_filename().display().to_string();
    let cannot_open = |e: sqlx::Error| OpenError::CannotOpen {
        path: path.clone(),
        detail: e.to_string(),
    };
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections.max(1))
        .connect_with(options)
        .await
        .map_err(cannot_open)?;
    refuse_foreign_database(&pool, &path).await?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .map_err(|e| OpenError::Migration {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    Ok(pool)
}

/// A file with tables but without our migration history belongs to something else: touching it
/// could destroy somebody's data.
async fn refuse_foreign_database(pool: &SqlitePool, path: &str) -> Result<(), OpenError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| OpenError::CannotOpen { path: path.into(), detail: e.to_string() })?;
    let ours = tables.is_empty() || tables.iter().any(|t| t == "_sqlx_migrations");
    if ours {
        return Ok(());
    }
    Err(OpenError::NotOurs {
        path: path.into(),
        tables: tables.join(", "),
    })
}

/// Timestamps are stored as fixed-width UTC text, so that text order is time order.
pub fn timestamp(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000000Z".into())
}

pub fn now() -> String {
    timestamp(OffsetDateTime::now_utc())
}

pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}
