//! winback's storage: the only crate that knows SQL.
//!
//! One API over two backends: SQLite (a file, the embedded default that needs no setup) and
//! PostgreSQL (the server database). Queries are plain SQL checked at run time by the
//! integration tests, which run against both backends; where the dialects differ, the
//! code branches on [`Backend`].
//!
//! Architecture invariant: this crate takes and returns engine types; it knows nothing of
//! files, CSV, HTTP or the command line.
// Unsafe code is denied everywhere but in `sqlite_fast`, the one FFI hot path.
#![deny(unsafe_code)]

pub mod analysis;
pub mod customers;
mod db;
pub mod import;
mod migrate;
pub mod results;
mod sessions;
mod sqlite_fast;
mod staff;
pub mod stats;
pub mod testing;
mod users;

pub use customers::{CustomerDetail, CustomerQuery, CustomerSummary, Overview};
pub use db::{Backend, Db, DbUrl};
pub use import::{ImportCounts, ImportMeta, ImportOptions, ImportSession, RowProblem};
pub use results::{
    AlertChange, AlertEvent, AlertQuery, AlertView, CustomerStatus, DataVersion, HistoryPoint,
    LostMonth, RunInfo, RunSummary, StatusListRow, StatusQuery,
};
pub use sessions::{ApiTokenInfo, SessionRecord, TokenUse};
pub use staff::StaffUser;
pub use users::User;

/// Errors a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported database URL (use sqlite://PATH or postgres://USER@HOST/DB): {0}")]
    UnsupportedUrl(String),
    #[error("cannot open the database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("while applying migration {version} ({name}): {source}")]
    Migration {
        version: i64,
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "the database has schema version {found}, newer than this winback knows ({known}); upgrade winback"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("SQLite: {0}")]
    Sqlite(String),
    /// A task of ours that read beside the caller panicked or was cancelled.
    #[error("{0}")]
    Task(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
