//! Start-up refuses what it cannot use, and says why in words that name the path.

use compute_studio::startup::{Application, Overrides};

use crate::helpers::{empty_config, settings, spawn_emulator};

async fn start_error(database_url: &str) -> String {
    let emulator = spawn_emulator(empty_config()).await;
    let overrides = Overrides {
        emulator_at: Some((
            emulator.base_url.clone(),
            emulator.emulator.config().clone(),
        )),
        ..Overrides::default()
    };
    match Application::build_with(settings(database_url), overrides).await {
        Ok(_) => panic!("start-up should have been refused"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "these are my notes, not a database ".repeat(100)).unwrap();

    let error = start_error(&format!("sqlite://{}", path.display())).await;

    assert!(error.contains(&path.display().to_string()), "{error}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap().len(),
        3500,
        "the file is untouched"
    );
}

#[tokio::test]
async fn somebody_elses_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let url = format!("sqlite://{}", path.display());
    {
        use sqlx::ConnectOptions;
        let mut conn = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO invoices (amount) VALUES (12.5)")
            .execute(&mut conn)
            .await
            .unwrap();
    }

    let error = start_error(&url).await;

    assert!(
        error.contains(&path.display().to_string())
            && error.contains("not a Compute Studio database"),
        "{error}"
    );
    assert!(error.contains("invoices"));
}

#[tokio::test]
async fn a_directory_that_does_not_exist_is_named() {
    let error = start_error("sqlite:///no/such/dir/cache.db").await;
    assert!(error.contains("/no/such/dir/cache.db"), "{error}");
}
