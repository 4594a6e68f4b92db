//! The database handle: a pool on one of the two backends.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{Error, Result, migrate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL whose `Display` and `Debug` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl(String);

impl DbUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DbUrl(url.into())
    }

    /// The full URL, password included: pass it only to the driver.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn backend(&self) -> Result<Backend> {
        if self.0.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if self.0.starts_with("postgres://") || self.0.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::UnsupportedUrl(self.to_string()))
        }
    }

    fn redacted(&self) -> String {
        // postgres://user:secret@host/db -> postgres://user:***@host/db
        if let Some(scheme_end) = self.0.find("://") {
            let rest = &self.0[scheme_end + 3..];
            if let Some(at) = rest.find('@') {
                let userinfo = &rest[..at];
                if let Some(colon) = userinfo.find(':') {
                    return format!(
                        "{}{}:***{}",
                        &self.0[..scheme_end + 3],
                        &userinfo[..colon],
                        &rest[at..]
                    );
                }
            }
        }
        self.0.clone()
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({})", self.redacted())
    }
}

/// A connection pool on SQLite or PostgreSQL, migrated to the current schema.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// SQLite's `threads` for sorting: the cores of the machine, at most four.
fn sort_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

impl Db {
    /// Opens (creating a SQLite file if needed) and migrates the database, with a pool for a
    /// server: several connections.
    pub async fn connect(url: &DbUrl) -> Result<Db> {
        Db::connect_with(url, 4).await
    }

    /// [`Db::connect`] with one connection (on SQLite; PostgreSQL keeps its pool), for a
    /// command-line process that runs one statement at a time: with no second connection of
    /// its own on the file, a first import can take the file for itself
    /// ([`crate::ImportOptions::sole_writer`]).
    pub async fn connect_single(url: &DbUrl) -> Result<Db> {
        Db::connect_with(url, 1).await
    }

    async fn connect_with(url: &DbUrl, sqlite_connections: u32) -> Result<Db> {
        let connect_error = |source| Error::Connect {
            url: url.to_string(),
            source,
        };
        let db = match url.backend()? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url.expose())
                    .map_err(connect_error)?
                    .create_if_missing(true)
                    // 32 KiB pages for new files (an existing file keeps its page size): an
                    // import of 10 million orders writes and checkpoints 8x fewer pages than
                    // with the 4 KiB default (35 s -> 28 s) and page latency is unchanged
                    // (BENCHMARKS.md). Must come before WAL mode, which sqlx orders so.
                    .page_size(32_768)
                    // WAL: readers (the web pages) never wait for an import; a killed
                    // process leaves the last committed state, NORMAL is crash-safe in WAL.
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(30))
                    // 64 MiB page cache per connection.
                    .pragma("cache_size", "-65536")
                    // Temporary tables and the sorter of CREATE INDEX spill to files: the
                    // bundled SQLite keeps them in memory by default, which made an import's
                    // memory grow with the file (860 MiB for 10 million orders).
                    .pragma("temp_store", "file")
                    // Large sorts (CREATE INDEX after a bulk import, ORDER BY over millions
                    // of rows) may use helper threads, one per core up to four.
                    .pragma("threads", sort_threads().to_string())
                    // Loading every history is one long streaming statement by design:
                    // only report statements slow enough to be a real problem.
                    .log_slow_statements(log::LevelFilter::Info, Duration::from_secs(60));
                let pool = SqlitePoolOptions::new()
                    .max_connections(sqlite_connections)
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                Db::Sqlite(pool)
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url.expose())
                    .map_err(connect_error)?
                    .log_slow_statements(log::LevelFilter::Info, Duration::from_secs(60));
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                Db::Postgres(pool)
            }
        };
        migrate::run(&db).await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_never_show_their_password() {
        let url = DbUrl::new("postgres://winback:s3cret@db.example.org:5432/winback");
        assert_eq!(
            url.to_string(),
            "postgres://winback:***@db.example.org:5432/winback"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            DbUrl::new("sqlite://winback.db").to_string(),
            "sqlite://winback.db"
        );
        assert_eq!(
            DbUrl::new("postgres://u@h/d").to_string(),
            "postgres://u@h/d"
        );
    }

    #[test]
    fn the_backend_follows_the_scheme() {
        assert_eq!(
            DbUrl::new("sqlite://x.db").backend().unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            DbUrl::new("postgresql://h/d").backend().unwrap(),
            Backend::Postgres
        );
        assert!(DbUrl::new("mysql://h/d").backend().is_err());
    }
}
