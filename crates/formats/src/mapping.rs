//! The user's mapping file (TOML): format overrides and column names for a file the
//! automatic detection cannot read, or reads wrongly.
//!
//! ```toml
//! [format]
//! delimiter = ";"            # ";", ",", "tab", "|"
//! decimal = ","              # "," or "."
//! date_order = "dmy"         # "dmy", "mdy" or "ymd", for dates like 03/04/2022
//! encoding = "windows-1252"  # or "utf-8"
//! header_line = 13           # the physical line of the header
//! sheet = "Bestellungen"     # XLSX only; default: the first sheet
//!
//! [columns]
//! external_id = "Transaktionscode"
//! ordered_at = ["Datum", "Uhrzeit"]   # a list joins the cells with a space
//! ```
//!
//! This module only parses and checks the file; it must never decide anything about the
//! data file itself. Field names are checked against the kind when the reader opens a file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::FileError;
use crate::parse::{DateOrder, DecimalSep};

/// The character encoding of a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    Utf8,
    /// UTF-8 with a byte-order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// Windows-1252, which also covers ISO-8859-1 text (Excel's "CSV (Trennzeichen-getrennt)").
    Windows1252,
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 with BOM",
            TextEncoding::Windows1252 => "Windows-1252",
        }
    }
}

/// A parsed and checked mapping file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MappingFile {
    pub delimiter: Option<u8>,
    pub decimal: Option<DecimalSep>,
    pub date_order: Option<DateOrder>,
    pub encoding: Option<TextEncoding>,
    pub header_line: Option<u64>,
    pub sheet: Option<String>,
    /// Canonical field name -> header texts (more than one: joined with a space).
    pub columns: Vec<(String, Vec<String>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    format: RawFormat,
    #[serde(default)]
    columns: toml::Table,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFormat {
    delimiter: Option<String>,
    decimal: Option<String>,
    date_order: Option<String>,
    encoding: Option<String>,
    header_line: Option<i64>,
    sheet: Option<String>,
}

fn bad(reason: impl Into<String>) -> FileError {
    FileError::Mapping {
        reason: reason.into(),
    }
}

impl MappingFile {
    pub fn from_toml_str(text: &str) -> Result<MappingFile, FileError> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut mapping = MappingFile::default();
        if let Some(d) = raw.format.delimiter {
            mapping.delimiter = Some(match d.as_str() {
                "tab" | "\t" | "\\t" => b'\t',
                s if s.len() == 1 && s.is_ascii() && s != "\"" => s.as_bytes()[0],
                other => {
                    return Err(bad(format!(
                        "delimiter = \"{other}\" is not one character; use \";\", \",\", \"tab\" or \"|\""
                    )));
                }
            });
        }
        if let Some(d) = raw.format.decimal {
            mapping.decimal = Some(
                DecimalSep::parse(&d)
                    .ok_or_else(|| bad(format!("decimal = \"{d}\" is neither \",\" nor \".\"")))?,
            );
        }
        if let Some(o) = raw.format.date_order {
            mapping.date_order = Some(DateOrder::parse(&o).ok_or_else(|| {
                bad(format!(
                    "date_order = \"{o}\" is not one of \"dmy\", \"mdy\", \"ymd\""
                ))
            })?);
        }
        if let Some(e) = raw.format.encoding {
            mapping.encoding = Some(match e.to_ascii_lowercase().replace('_', "-").as_str() {
                "utf-8" | "utf8" => TextEncoding::Utf8,
                "windows-1252" | "cp1252" | "iso-8859-1" | "latin1" | "latin-1" | "ansi" => {
                    TextEncoding::Windows1252
                }
                _ => {
                    return Err(bad(format!(
                        "encoding = \"{e}\" is not supported; use \"utf-8\" or \"windows-1252\""
                    )));
                }
            });
        }
        if let Some(line) = raw.format.header_line {
            if line < 1 {
                return Err(bad("header_line counts from 1"));
            }
            mapping.header_line = Some(line as u64);
        }
        mapping.sheet = raw.format.sheet;
        for (field, value) in raw.columns {
            let headers = match value {
                toml::Value::String(s) => vec![s],
                toml::Value::Array(items) => {
                    let mut headers = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            toml::Value::String(s) => headers.push(s),
                            _ => {
                                return Err(bad(format!(
                                    "[columns] {field}: list items must be header texts in quotes"
                                )));
                            }
                        }
                    }
                    if headers.is_empty() {
                        return Err(bad(format!("[columns] {field}: the list is empty")));
                    }
                    headers
                }
                _ => {
                    return Err(bad(format!(
                        "[columns] {field} must be a header text in quotes, or a list of them"
                    )));
                }
            };
            mapping.columns.push((field, headers));
        }
        Ok(mapping)
    }

    pub fn load(path: &Path) -> Result<MappingFile, FileError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                FileError::NotFound {
                    path: path.to_path_buf(),
                }
            } else {
                FileError::Io {
                    file: path.display().to_string(),
                    source,
                }
            }
        })?;
        MappingFile::from_toml_str(&text)
    }

    /// The header texts the mapping file gives for a field.
    pub fn headers_for(&self, field: &str) -> Option<&[String]> {
        self.columns
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, headers)| headers.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_mapping_file_parses() {
        let m = MappingFile::from_toml_str(
            r#"
            [format]
            delimiter = "tab"
            decimal = ","
            date_order = "mdy"
            encoding = "Windows-1252"
            header_line = 13
            sheet = "Tabelle1"
            [columns]
            external_id = "Nr."
            ordered_at = ["Datum", "Uhrzeit"]
            "#,
        )
        .unwrap();
        assert_eq!(m.delimiter, Some(b'\t'));
        assert_eq!(m.decimal, Some(DecimalSep::Comma));
        assert_eq!(m.date_order, Some(DateOrder::Mdy));
        assert_eq!(m.encoding, Some(TextEncoding::Windows1252));
        assert_eq!(m.header_line, Some(13));
        assert_eq!(m.headers_for("ordered_at").unwrap(), ["Datum", "Uhrzeit"]);
    }

    #[test]
    fn mistakes_in_a_mapping_file_are_explained() {
        let cases = [
            ("[format]\ndecimal = \";\"", "decimal"),
            ("[format]\ndate_order = \"dd.mm\"", "date_order"),
            ("[format]\nencoding = \"utf-16\"", "encoding"),
            ("[format]\ndelimiter = \";;\"", "delimiter"),
            ("[format]\nheader_line = 0", "header_line"),
            ("[columns]\ngross = 5", "gross"),
            ("[colums]\ngross = \"x\"", "colums"),
        ];
        for (text, needle) in cases {
            let err = MappingFile::from_toml_str(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?} gave {err}");
        }
    }
}
