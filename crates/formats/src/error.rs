//! The two kinds of failure an import has: a file that cannot be read at all
//! ([`FileError`]), and a row that cannot become a record ([`RowError`]).
//!
//! A bad row is a value, never the end of a read: the reader yields it and keeps going, so
//! one pass gives the whole report. Every message says what is wrong in the user's terms
//! (header text, line number, the value) and what to do about it; none may contain a Rust
//! type name or a debug dump.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use winback_engine::Kind;

/// One row that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The file name as the user gave it.
    pub file: String,
    /// The 1-based physical line where the record starts (the sheet row for XLSX).
    pub line: u64,
    /// The header text of the offending column, when one column is to blame.
    pub column: Option<String>,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(
                f,
                "{}:{}: {}: {}",
                self.file, self.line, column, self.reason
            ),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.reason),
        }
    }
}

impl std::error::Error for RowError {}

fn looks_like_hint(kind: Option<Kind>) -> String {
    match kind {
        Some(kind) => format!("it looks like a {kind} file (try `winback import {kind}`); or "),
        None => String::new(),
    }
}

/// The file itself cannot be read; nothing from it can be imported.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: file not found; check the path", path.display())]
    NotFound { path: PathBuf },

    #[error("{file}: cannot read the file: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{file}: the file is empty; export the data again and check that rows were selected")]
    Empty { file: String },

    #[error(
        "{file}: this is UTF-16 text, which winback does not read; save it as \"CSV UTF-8\" or \"CSV (Trennzeichen-getrennt)\" in Excel"
    )]
    Utf16 { file: String },

    #[error(
        "{file}: this does not look like {article} {kind} file: no line matches the expected column headers.\n  \
         found (line {found_line}): {found}\n  \
         needed: {needed}\n  \
         {}give a mapping file with --mapping FILE to name the columns (see `winback import --help`)",
        looks_like_hint(*looks_like)
    )]
    NotThisKind {
        file: String,
        /// "a" or "an", so the message reads well.
        article: &'static str,
        kind: Kind,
        found_line: u64,
        found: String,
        needed: String,
        /// Another kind whose headers the file matches convincingly.
        looks_like: Option<Kind>,
    },

    #[error(
        "{file}: the {kind} file has no column for {field} (line {header_line} is the header).\n  \
         accepted headers: {accepted}\n  \
         rename the column, or name it in a mapping file given with --mapping FILE: [columns] {field} = \"Your header\""
    )]
    MissingColumn {
        file: String,
        kind: Kind,
        field: String,
        accepted: String,
        header_line: u64,
    },

    #[error(
        "{file}: the mapping file names the column \"{header}\" for {field}, but the header (line {header_line}) has no such column; found: {found}"
    )]
    MappedColumnNotFound {
        file: String,
        field: String,
        header: String,
        header_line: u64,
        found: String,
    },

    #[error(
        "{file}: cannot tell whether dates like \"{example}\" in column \"{column}\" are day/month/year or month/day/year; {detail}put date_order = \"dmy\" (or \"mdy\") under [format] in a mapping file and give it with --mapping FILE"
    )]
    AmbiguousDateOrder {
        file: String,
        column: String,
        example: String,
        detail: String,
    },

    #[error("mapping file: {reason}")]
    Mapping { reason: String },

    #[error(
        "{file}: cannot read the Excel file: {reason}; save it again in Excel as .xlsx, or export it as CSV"
    )]
    Xlsx { file: String, reason: String },

    #[error(
        "{file}: refused: the Excel file unpacks to {declared} bytes{detail}, more than winback reads safely; this is typical of a damaged or malicious file. Export the sheet as CSV instead"
    )]
    ZipBomb {
        file: String,
        declared: u64,
        detail: String,
    },

    #[error(
        "{file}: the file is {size} bytes, more than the {limit} bytes winback reads as Excel; export it as CSV, which is read as a stream"
    )]
    TooLarge { file: String, size: u64, limit: u64 },
}
