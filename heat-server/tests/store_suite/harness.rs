//! The databases the suite runs on: a temporary SQLite file, a throw-away PostgreSQL
//! database, or any store made fresh by a function (an in-memory one).

use std::sync::Arc;

use async_trait::async_trait;
use heat_server::store::{OpenOptions, ServerStore, open};

/// A database the suite's cases run against.
#[async_trait]
pub trait Database: Send + Sync {
    /// A handle on the database: a new one each call for a real database (sharing its
    /// data with the others), the same store for an in-memory one.
    async fn open(&self) -> Arc<dyn ServerStore>;
}

/// A store that exists only in memory: every `open` returns the same one.
pub struct Fresh(Arc<dyn ServerStore>);

impl Fresh {
    /// A database that is this store.
    #[allow(dead_code)]
    pub fn new(store: impl ServerStore + 'static) -> Fresh {
        Fresh(Arc::new(store))
    }
}

#[async_trait]
impl Database for Fresh {
    async fn open(&self) -> Arc<dyn ServerStore> {
        self.0.clone()
    }
}

/// A SQLite file in a temporary directory (removed with it).
pub struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    /// A new, empty database file.
    pub async fn new() -> Sqlite {
        Sqlite {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("heat.db").display())
    }
}

#[async_trait]
impl Database for Sqlite {
    async fn open(&self) -> Arc<dyn ServerStore> {
        open(&self.url(), &OpenOptions::default())
            .await
            .expect("open the SQLite store")
    }
}

/// Where the suite's PostgreSQL is: `HEAT_TEST_POSTGRES_URL`, else the local server as
/// `postgres`, else as `root` (trust authentication), database `test`.
fn admin_urls() -> Vec<String> {
    match std::env::var("HEAT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => vec![url],
        _ => vec![
            "postgres://postgres@127.0.0.1:5432/test".to_string(),
            "postgres://root@127.0.0.1:5432/test".to_string(),
        ],
    }
}

/// A PostgreSQL database made for one test (`heat_test_<random>`), dropped afterwards.
pub struct Postgres {
    admin: String,
    name: String,
    url: String,
}

impl Postgres {
    /// Creates the database. Fails the test, saying how to start PostgreSQL, when the
    /// server cannot be reached.
    pub async fn new() -> Postgres {
        use sqlx::Connection;
        let mut errors = Vec::new();
        for admin in admin_urls() {
            match sqlx::PgConnection::connect(&admin).await {
                Ok(mut conn) => {
                    let mut bytes = [0u8; 8];
                    getrandom::fill(&mut bytes).expect("random bytes");
                    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                    let name = format!("heat_test_{suffix}");
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut conn)
                        .await
                        .expect("CREATE DATABASE");
                    let _ = conn.close().await;
                    let url = match admin.rsplit_once('/') {
                        Some((server, _)) => format!("{server}/{name}"),
                        None => panic!("the admin URL {admin} names no database"),
                    };
                    return Postgres { admin, name, url };
                }
                Err(e) => errors.push(format!("{admin}: {e}")),
            }
        }
        panic!(
            "PostgreSQL is not reachable for the store tests ({}).\n\
             Start it with:  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
             (or point HEAT_TEST_POSTGRES_URL at a server with trust authentication)",
            errors.join("; ")
        );
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Drop the database from a thread of its own (Drop cannot await); FORCE ends the
        // connections a failed test may have left open.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .map_err(std::io::Error::other)?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .map_err(std::io::Error::other)?;
                let _ = conn.close().await;
                Ok::<(), std::io::Error>(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

#[async_trait]
impl Database for Postgres {
    async fn open(&self) -> Arc<dyn ServerStore> {
        open(&self.url, &OpenOptions::default())
            .await
            .expect("open the PostgreSQL store")
    }
}
