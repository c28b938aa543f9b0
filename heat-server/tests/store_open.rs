//! Opening stores: URLs, errors, SQLite's file settings, and several SQLite handles writing
//! one file at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use heat_core::engine::store::{Change, StackRecord};
use heat_core::engine::{Action, State, Status};
use heat_server::store::{OpenError, OpenOptions, SqliteStore, SqliteSync, open};

fn stack(id: &str, name: &str) -> StackRecord {
    StackRecord {
        id: id.into(),
        name: name.into(),
        project: "p".into(),
        user: "u".into(),
        parent: None,
        description: String::new(),
        template: "heat_template_version: 2018-08-31\n".into(),
        files: Default::default(),
        environments: Vec::new(),
        parameters: Default::default(),
        state: State::new(Action::Create, Status::InProgress),
        status_reason: String::new(),
        disable_rollback: true,
        timeout_mins: 60,
        tags: Vec::new(),
        created_at: Duration::ZERO,
        updated_at: Duration::ZERO,
        deleted: false,
        deleted_at: None,
        previous: None,
        operation: 0,
    }
}

#[tokio::test]
async fn urls_that_name_no_usable_database_are_refused_with_a_reason() {
    let options = OpenOptions::default();
    let err = open("mysql://localhost/heat", &options)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, OpenError::UnsupportedUrl { ref scheme } if scheme == "mysql"));
    assert!(err.to_string().contains("sqlite://PATH"), "{err}");
    let err = open("sqlite::memory:", &options).await.err().unwrap();
    assert!(matches!(err, OpenError::InvalidUrl(_)), "{err}");
    let err = open("sqlite://", &options).await.err().unwrap();
    assert!(matches!(err, OpenError::InvalidUrl(_)), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/heat.db");
    let err = open(&format!("sqlite://{}", missing.display()), &options)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, OpenError::Connect { .. }), "{err}");
    assert!(err.to_string().contains("no/such/dir/heat.db"), "{err}");
}

#[tokio::test]
async fn an_unreachable_postgres_fails_within_the_timeout_without_showing_the_password() {
    let options = OpenOptions {
        lock_timeout: Duration::from_secs(2),
        ..OpenOptions::default()
    };
    // Port 9 (discard) on loopback: nothing listens there.
    let err = open("postgres://heat:s3cr3t-pw@127.0.0.1:9/heat", &options)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, OpenError::Connect { .. }), "{err}");
    let text = err.to_string();
    assert!(!text.contains("s3cr3t-pw"), "{text}");
    assert!(text.contains("127.0.0.1:9"), "{text}");
}

#[tokio::test]
async fn sqlite_files_are_created_in_wal_mode_and_open_again_with_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heat.db");
    let url = format!("sqlite://{}", path.display());
    let store = open(&url, &OpenOptions::default()).await.unwrap();
    store
        .apply(vec![Change::PutStack(Box::new(stack("s1", "web")))])
        .await
        .unwrap();
    drop(store);
    assert!(path.exists());

    // The journal mode is a property of the file.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let mode: (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(mode.0, "wal");
        conn.close().await.unwrap();
    }

    let full = OpenOptions {
        sqlite_sync: SqliteSync::Full,
        ..OpenOptions::default()
    };
    let store = SqliteStore::open(&path, &full).await.unwrap();
    store
        .apply(vec![Change::PutStack(Box::new(stack("s2", "db")))])
        .await
        .unwrap();
    use heat_core::engine::store::Store;
    assert_eq!(store.stacks(false).await.unwrap().len(), 2);
    store.close().await;
}

/// Two handles on one file (as two processes would be) writing at once: SQLite lets one
/// writer in at a time and the other waits (busy timeout), so no batch fails with
/// "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_one_sqlite_file_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("heat.db").display());
    let a = open(&url, &OpenOptions::default()).await.unwrap();
    let b = open(&url, &OpenOptions::default()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let id = format!("s{i}");
            let mut record = stack(&id, &format!("stack-{i}"));
            store
                .apply(vec![Change::PutStack(Box::new(record.clone()))])
                .await?;
            for step in 0..5u64 {
                record.operation = step;
                let first = store.reserve_resource_ids(2).await?;
                let mut resource = heat_core::engine::ResourceRecord {
                    id: first,
                    stack_id: id.as_str().into(),
                    name: format!("r{step}"),
                    resource_type: "OS::Heat::None".into(),
                    physical_id: None,
                    state: State::INIT,
                    status_reason: "".into(),
                    properties: Default::default(),
                    data: Default::default(),
                    metadata: None,
                    idempotency_token: String::new(),
                    replaces: None,
                    deletion_policy: heat_core::template::model::DeletionPolicy::Delete,
                    requires: Vec::new(),
                    target_properties: None,
                    hook: None,
                    operation: step,
                    updated_at: Duration::ZERO,
                };
                store
                    .apply(vec![
                        Change::PutStack(Box::new(record.clone())),
                        Change::PutResource(Arc::new(resource.clone())),
                    ])
                    .await?;
                resource.id = first + 1;
                store
                    .apply(vec![Change::PutResource(Arc::new(resource))])
                    .await?;
            }
            Ok::<String, heat_core::engine::StoreError>(id)
        }));
    }
    for task in tasks {
        let id = task.await.unwrap().unwrap();
        assert_eq!(a.resources(&id).await.unwrap().len(), 10);
    }
    assert_eq!(b.stacks(false).await.unwrap().len(), 40);
}
