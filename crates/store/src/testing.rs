//! Fresh, empty databases for tests on both backends.
//!
//! PostgreSQL: a new database named by process id and a counter on the server that
//! `WINBACK_TEST_PG_URL` names (default `postgres://postgres@127.0.0.1:5432/test`, trust
//! auth, as `.ci/run` sets up). There is deliberately no skip: a test suite that silently
//! tests one backend is how the other one breaks unnoticed.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::{Backend, DbUrl};

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database that exists for one test. PostgreSQL databases are dropped when the guard
/// goes out of scope (best effort); SQLite files live in a temporary directory.
pub struct TestDatabase {
    pub url: DbUrl,
    pub backend: Backend,
    _dir: Option<tempfile_dir::Dir>,
    pg_name: Option<String>,
}

/// A tiny temporary directory (no dependency on `tempfile` outside tests).
mod tempfile_dir {
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

pub fn admin_url() -> String {
    std::env::var("WINBACK_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(unique_name("winback_test"));
                std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
                let url = DbUrl::new(format!("sqlite://{}", dir.join("winback.db").display()));
                TestDatabase {
                    url,
                    backend,
                    _dir: Some(tempfile_dir::Dir(dir)),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let admin = admin_url();
                let name = unique_name("winback_test");
                let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is needed for the test suite and is not reachable at {admin}: {e}\n\
                         start it (see README, 'Running the tests') or set WINBACK_TEST_PG_URL"
                    )
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("the test role may create databases");
                let _ = conn.close().await;
                let options = PgConnectOptions::from_str(&admin)
                    .expect("a valid admin URL")
                    .database(&name);
                let url = DbUrl::new(format!(
                    "postgres://{}@{}:{}/{name}",
                    options.get_username(),
                    options.get_host(),
                    options.get_port()
                ));
                TestDatabase {
                    url,
                    backend,
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop in a thread of its own: Drop cannot be async, and the test's runtime may
            // be shutting down.
            let admin = admin_url();
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async {
                        if let Ok(mut conn) = PgConnection::connect(&admin).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "drop database if exists {name} with (force)"
                            )))
                            .execute(&mut conn)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

impl crate::Db {
    /// The tables of the schema (without the migration log), sorted.
    pub async fn tables(&self) -> crate::Result<Vec<String>> {
        let mut tables: Vec<String> = match self {
            crate::Db::Sqlite(pool) => {
                sqlx::query_scalar("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
                    .fetch_all(pool)
                    .await?
            }
            crate::Db::Postgres(pool) => {
                sqlx::query_scalar("select table_name::text from information_schema.tables where table_schema = 'public'")
                    .fetch_all(pool)
                    .await?
            }
        };
        tables.retain(|t| t != "schema_migrations");
        tables.sort();
        Ok(tables)
    }

    /// The columns of `table` in declaration order.
    pub async fn columns(&self, table: &str) -> crate::Result<Vec<String>> {
        Ok(match self {
            crate::Db::Sqlite(pool) => {
                sqlx::query_scalar("select name from pragma_table_info($1) order by cid")
                    .bind(table.to_owned())
                    .fetch_all(pool)
                    .await?
            }
            crate::Db::Postgres(pool) => {
                sqlx::query_scalar(
                    "select column_name::text from information_schema.columns
                     where table_schema = 'public' and table_name = $1 order by ordinal_position",
                )
                .bind(table.to_owned())
                .fetch_all(pool)
                .await?
            }
        })
    }

    /// Every row of `table` as text, sorted: two snapshots are equal exactly when
    /// nothing in the table changed.
    pub async fn snapshot(&self, table: &str) -> crate::Result<Vec<String>> {
        let columns = self.columns(table).await?;
        let cells: Vec<String> = columns
            .iter()
            .map(|c| format!("coalesce(cast({c} as text), '<null>')"))
            .collect();
        let statement = sqlx::AssertSqlSafe(format!(
            "select {} from {table} order by 1",
            cells.join(" || '|' || ")
        ));
        Ok(match self {
            crate::Db::Sqlite(pool) => sqlx::query_scalar(statement).fetch_all(pool).await?,
            crate::Db::Postgres(pool) => sqlx::query_scalar(statement).fetch_all(pool).await?,
        })
    }

    /// Snapshots of every table.
    pub async fn snapshot_all(&self) -> crate::Result<Vec<(String, Vec<String>)>> {
        let mut out = Vec::new();
        for table in self.tables().await? {
            let rows = self.snapshot(&table).await?;
            out.push((table, rows));
        }
        Ok(out)
    }
}
