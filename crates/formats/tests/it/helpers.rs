//! Shared helpers: reading a file completely into records and row errors.

use std::path::PathBuf;

use winback_formats::{FileError, Kind, MappingFile, ParsedRow, ReadOptions, Reader, RowError};

/// The copies of the published samples kept in this crate, so a clean clone can test.
pub fn sample(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/samples")).join(name)
}

/// The shared originals outside the repository, when present.
pub fn shared_sample(relative: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples"
    ))
    .join(relative)
}

pub struct Outcome {
    pub rows: Vec<ParsedRow>,
    pub errors: Vec<RowError>,
}

pub fn options(kind: Kind, mapping: Option<&str>) -> ReadOptions {
    let mut opts = ReadOptions::new(kind);
    opts.mapping =
        mapping.map(|text| MappingFile::from_toml_str(text).expect("test mapping parses"));
    opts
}

pub fn drain(reader: Reader) -> Outcome {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for item in reader {
        match item {
            Ok(row) => rows.push(row),
            Err(e) => errors.push(e),
        }
    }
    Outcome { rows, errors }
}

pub fn read_path(
    path: &std::path::Path,
    kind: Kind,
    mapping: Option<&str>,
) -> Result<Outcome, FileError> {
    Reader::open(path, options(kind, mapping)).map(drain)
}

pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    kind: Kind,
    mapping: Option<&str>,
) -> Result<Outcome, FileError> {
    Reader::from_bytes(name, bytes.to_vec(), options(kind, mapping)).map(drain)
}
