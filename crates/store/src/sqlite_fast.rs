//! The SQLite bulk path: prepared-statement inserts through SQLite's C API.
//!
//! sqlx hands every statement to a worker thread (tens of microseconds per round trip), and
//! staging plus set-based merging costs three passes over the rows; that caps an import near
//! 160,000 rows/s. When the target table is empty at the start of the import (a first
//! import, the demo, a migration), nothing has to be merged, so rows go straight into their
//! table with one prepared `INSERT` reused for every row, references resolved by sub-selects
//! on the unique indexes, and constraint failures turned into row problems:
//! NOT NULL on a resolved reference = unknown customer/order, UNIQUE = the same key twice in
//! the file. The statement runs on the import's own connection and transaction (sqlx's
//! `lock_handle`), so atomicity is unchanged: nothing is visible before the commit.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_int};
use std::ptr;

use libsqlite3_sys as ffi;
use sqlx::sqlite::SqliteConnection;

use crate::import::{RowProblem, V};
use crate::{Error, Result};

/// How a failed row is reported.
pub(crate) struct Messages {
    /// Column and reason prefix for an unresolved reference, e.g. ("customer", "unknown customer").
    pub reference_column: &'static str,
    pub reference_reason: &'static str,
    pub reference_hint: &'static str,
    /// Index (into a row's values) of the values naming the reference, for the message.
    pub reference_values: &'static [usize],
    pub key_column: &'static str,
    pub key_values: &'static [usize],
}

fn text_of(values: &[V], idx: &[usize]) -> String {
    idx.iter()
        .filter_map(|&i| match &values[i] {
            V::Text(Some(s)) => Some(s.clone()),
            V::Fixed(f) => Some(f.as_str().to_owned()),
            V::Int(Some(n)) => Some(n.to_string()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Inserts `rows` with the prepared statement `sql` (parameters `?1..?N` = the row's values
/// in order). Returns the number of rows inserted; failed rows are appended to `problems`.
pub(crate) async fn insert_rows(
    conn: &mut SqliteConnection,
    sql: &CStr,
    rows: Vec<(u64, Vec<V>)>,
    messages: &Messages,
    problems: &mut Vec<RowProblem>,
) -> Result<u64> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    // SAFETY: `db` is the live connection handle, locked for us by sqlx for as long as
    // `handle` lives; `sql` is a NUL-terminated string; `stmt` is finalized below on every path.
    let rc = unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, ptr::null_mut()) };
    if rc != ffi::SQLITE_OK {
        return Err(Error::Sqlite(error_message(db)));
    }
    // Staged values past the statement's last parameter (such as the customer columns an
    // order file carries for `--create-customers`) are not bound.
    // SAFETY: `stmt` is a valid prepared statement.
    let n_params = unsafe { ffi::sqlite3_bind_parameter_count(stmt) }.max(0) as usize;
    let mut inserted = 0u64;
    let mut result = Ok(());
    // The row bound before this one: its texts stay alive until every parameter has been
    // bound anew (SQLITE_STATIC), so no binding ever points at freed memory, without
    // clearing the bindings after each row.
    let mut bound: Option<Vec<V>> = None;
    for (line, values) in rows {
        // SAFETY: `stmt` is a valid prepared statement of this connection; every bound text
        // is borrowed (SQLITE_STATIC) from `values`, which is kept in `bound` until the next
        // row has rebound every parameter, or the bindings are cleared below.
        let rc = unsafe {
            let mut rc = ffi::SQLITE_OK;
            for (idx, value) in values.iter().take(n_params).enumerate() {
                let param = idx as c_int + 1;
                rc = match value {
                    V::Text(Some(s)) => bind_text(stmt, param, s),
                    V::Fixed(f) => bind_text(stmt, param, f.as_str()),
                    V::Int(Some(n)) => ffi::sqlite3_bind_int64(stmt, param, *n),
                    V::Bool(b) => ffi::sqlite3_bind_int64(stmt, param, i64::from(*b)),
                    // The same text encodings sqlx uses, so both paths store identical
                    // values; these temporaries are copied (SQLITE_TRANSIENT). `stage_row`
                    // renders dates as text already, so this is only a fallback.
                    V::Date(Some(d)) => bind_text_copy(stmt, param, &d.format("%F").to_string()),
                    V::Instant(Some(t)) => bind_text_copy(
                        stmt,
                        param,
                        &t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                    ),
                    V::Text(None) | V::Int(None) | V::Date(None) | V::Instant(None) => {
                        ffi::sqlite3_bind_null(stmt, param)
                    }
                };
                if rc != ffi::SQLITE_OK {
                    break;
                }
            }
            if rc == ffi::SQLITE_OK {
                rc = ffi::sqlite3_step(stmt);
                ffi::sqlite3_reset(stmt);
            }
            rc
        };
        let values = bound.insert(values);
        if rc == ffi::SQLITE_DONE {
            inserted += 1;
            continue;
        }
        // SAFETY: reading the error code of the live connection.
        let extended = unsafe { ffi::sqlite3_extended_errcode(db) };
        match extended {
            ffi::SQLITE_CONSTRAINT_NOTNULL | ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                problems.push(RowProblem {
                    line,
                    column: messages.reference_column,
                    reason: format!(
                        "{} {}{}",
                        messages.reference_reason,
                        text_of(values, messages.reference_values),
                        messages.reference_hint
                    ),
                })
            }
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                problems.push(RowProblem {
                    line,
                    column: messages.key_column,
                    reason: format!(
                        "duplicate: {} {} appears earlier in the file",
                        messages.key_column,
                        text_of(values, messages.key_values)
                    ),
                })
            }
            _ => {
                result = Err(Error::Sqlite(error_message(db)));
                break;
            }
        }
    }
    // SAFETY: `stmt` came from sqlite3_prepare_v2 above and is finalized exactly once; the
    // bindings are cleared while the texts they point at are still alive.
    unsafe {
        ffi::sqlite3_clear_bindings(stmt);
        ffi::sqlite3_finalize(stmt);
    }
    drop(bound);
    result.map(|()| inserted)
}

/// # Safety
/// `stmt` must be a valid prepared statement, and `s` must stay alive and unchanged until
/// the parameter is bound again, the bindings are cleared or the statement is finalized
/// (SQLite reads it in place: SQLITE_STATIC, no copy).
unsafe fn bind_text(stmt: *mut ffi::sqlite3_stmt, param: c_int, s: &str) -> c_int {
    // SAFETY: the caller guarantees `stmt` and the lifetime of `s`; the pointer and length
    // describe `s`.
    unsafe { ffi::sqlite3_bind_text(stmt, param, s.as_ptr().cast(), s.len() as c_int, None) }
}

/// # Safety
/// `stmt` must be a valid prepared statement.
unsafe fn bind_text_copy(stmt: *mut ffi::sqlite3_stmt, param: c_int, s: &str) -> c_int {
    // SAFETY: the caller guarantees `stmt`; SQLite copies `s` (SQLITE_TRANSIENT).
    unsafe {
        ffi::sqlite3_bind_text(
            stmt,
            param,
            s.as_ptr().cast(),
            s.len() as c_int,
            ffi::SQLITE_TRANSIENT(),
        )
    }
}

fn error_message(db: *mut ffi::sqlite3) -> String {
    // SAFETY: `db` is a live connection; sqlite3_errmsg returns a NUL-terminated string
    // owned by SQLite, copied here before any further call.
    unsafe {
        CStr::from_ptr(ffi::sqlite3_errmsg(db))
            .to_string_lossy()
            .into_owned()
    }
}

pub(crate) fn c_sql(sql: String) -> CString {
    CString::new(sql).expect("generated SQL has no NUL byte")
}

/// The current row of a statement being stepped by [`for_each_row`].
pub(crate) struct RawRow {
    stmt: *mut ffi::sqlite3_stmt,
}

impl RawRow {
    /// An integer column (NULL reads as 0; callers use it for NOT NULL columns).
    pub(crate) fn int(&self, col: c_int) -> i64 {
        // SAFETY: `stmt` has a current row (we are inside `for_each_row`'s SQLITE_ROW).
        unsafe { ffi::sqlite3_column_int64(self.stmt, col) }
    }

    pub(crate) fn opt_int(&self, col: c_int) -> Option<i64> {
        // SAFETY: as in `int`.
        let null = unsafe { ffi::sqlite3_column_type(self.stmt, col) == ffi::SQLITE_NULL };
        (!null).then(|| self.int(col))
    }

    /// A text column, `None` for NULL; text that is not UTF-8 is an error.
    pub(crate) fn text(&self, col: c_int) -> Result<Option<&str>> {
        // SAFETY: as in `int`; sqlite3_column_text returns a pointer valid until the next
        // step or reset, and the returned &str borrows `self`, which lives only for one row.
        unsafe {
            let ptr = ffi::sqlite3_column_text(self.stmt, col);
            if ptr.is_null() {
                return Ok(None);
            }
            let len = ffi::sqlite3_column_bytes(self.stmt, col) as usize;
            let bytes = std::slice::from_raw_parts(ptr, len);
            std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|_| Error::Sqlite(format!("column {col} holds text that is not UTF-8")))
        }
    }
}

/// Runs the query `sql` on the connection and calls `each` with every row, without sqlx's
/// hand-over of each row between its worker thread and ours (which costs more than reading
/// the row: loading 10 million orders for an analysis). Runs inside `block_in_place` on a
/// multi-threaded runtime, so the other tasks keep their threads.
pub(crate) async fn for_each_row(
    conn: &mut SqliteConnection,
    sql: &CStr,
    mut each: impl FnMut(&RawRow) -> Result<()>,
) -> Result<()> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut run = move || -> Result<()> {
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        // SAFETY: `db` is the live connection handle, locked for us by sqlx for as long as
        // `handle` lives; `sql` is NUL-terminated; `stmt` is finalized below on every path.
        let rc =
            unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, ptr::null_mut()) };
        if rc != ffi::SQLITE_OK {
            return Err(Error::Sqlite(error_message(db)));
        }
        let row = RawRow { stmt };
        let result = loop {
            // SAFETY: `stmt` is a valid prepared statement of this connection.
            match unsafe { ffi::sqlite3_step(stmt) } {
                ffi::SQLITE_ROW => {
                    if let Err(e) = each(&row) {
                        break Err(e);
                    }
                }
                ffi::SQLITE_DONE => break Ok(()),
                _ => break Err(Error::Sqlite(error_message(db))),
            }
        };
        // SAFETY: `stmt` came from sqlite3_prepare_v2 above and is finalized exactly once.
        unsafe { ffi::sqlite3_finalize(stmt) };
        result
    };
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    let result = if multi_thread {
        tokio::task::block_in_place(run)
    } else {
        run()
    };
    drop(handle);
    result
}
