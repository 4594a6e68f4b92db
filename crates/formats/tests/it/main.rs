//! The integration suite of winback-formats: real sample exports, round trips through the
//! German CSV writer, XLSX, and properties of the number and date parsers.

mod helpers;
mod proptests;
mod reader_cases;
mod round_trip;
mod samples;
mod xlsx;
