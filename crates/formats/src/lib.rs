//! winback-formats: import files in, engine records and row errors out; German Excel CSV
//! files out for exports and the demo company.
//!
//! A [`Reader`] opens a CSV or XLSX export (from a shop, ERP or Excel), decides its
//! encoding, delimiter, header line, decimal separator, date order and column mapping once
//! from the first 64 KiB (all shown by [`DetectedFormat::describe`] and
//! [`ColumnMapping::describe`], all overridable by a [`MappingFile`]), and then streams
//! `Result<ParsedRow, RowError>`: one bad row never stops the read, so one pass gives the
//! whole report. [`GermanCsvWriter`] writes what German Excel opens directly, and the reader
//! reads it back unchanged.
//!
//! Shopify's `Accepts Email Marketing` / `Accepts SMS Marketing` columns are not read as
//! consents: they are the shop's claim, not proof of consent. Consents come only from
//! explicit consent files (`winback import consents`).
//!
//! Architecture invariant: pure functions over files, readers and writers. No database, no
//! network, no clock, and no panics on user input.
#![forbid(unsafe_code)]

mod detect;
mod error;
pub mod export;
mod fields;
mod layouts;
mod mapping;
pub mod parse;
mod reader;
mod tokenizer;
mod writer;
mod xlsx;

pub use detect::{ColumnMapping, Container, DetectedFormat, MappedColumn, MappedField};
pub use error::{FileError, RowError};
pub use fields::{FieldSpec, FieldType, fields, normalise_header};
pub use layouts::Layout;
pub use mapping::{MappingFile, TextEncoding};
pub use parse::{DateOrder, DecimalSep, LocalZone};
pub use reader::{ParsedRow, ReadOptions, Reader};
pub use winback_engine::{Kind, Record};
pub use writer::{GermanCsvWriter, escape_formula};
