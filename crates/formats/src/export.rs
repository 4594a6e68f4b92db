//! Table exports for people who open them in Excel: CSV (German or English dialect, UTF-8
//! with BOM so Excel detects the encoding), XLSX and JSON.
//!
//! Every text cell goes through [`escape_formula`]: a cell starting with `=`, `+`, `-`,
//! `@`, TAB, CR, LF or NUL gets a leading `'`, so an exported name can never run as a
//! formula in a spreadsheet (OWASP "CSV injection"). Numbers and dates are written as
//! values, never as text that could be mistaken for a formula.

use std::io::{self, Write};

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde_json::{Map, Value};
use winback_engine::Money;

use crate::escape_formula;

/// The export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// `;`, decimal comma, `dd.mm.yyyy`.
    CsvGerman,
    /// `,`, decimal point, ISO dates.
    CsvEnglish,
    Xlsx,
    /// An array of objects keyed by the column names.
    Json,
}

/// One exported value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    Money(Money),
    Date(NaiveDate),
    Empty,
}

impl From<Option<String>> for Cell {
    fn from(value: Option<String>) -> Cell {
        value.map_or(Cell::Empty, Cell::Text)
    }
}

impl From<Option<NaiveDate>> for Cell {
    fn from(value: Option<NaiveDate>) -> Cell {
        value.map_or(Cell::Empty, Cell::Date)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("cannot write the Excel file: {0}")]
    Xlsx(#[from] XlsxError),
    #[error(
        "an Excel sheet holds at most 1,048,575 data rows; this export has {0}: use CSV or JSON"
    )]
    TooManyRows(usize),
}

fn csv_quote(text: &str, delimiter: char) -> String {
    if text.contains([delimiter, '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn csv_cell(cell: &Cell, format: TableFormat, delimiter: char) -> String {
    let german = format == TableFormat::CsvGerman;
    match cell {
        Cell::Text(text) => csv_quote(&escape_formula(text), delimiter),
        Cell::Int(n) => n.to_string(),
        Cell::Float(x) if x.is_finite() => {
            let text = format!("{x}");
            if german { text.replace('.', ",") } else { text }
        }
        Cell::Float(_) | Cell::Empty => String::new(),
        Cell::Money(m) => {
            let text = m.to_string();
            if german { text.replace('.', ",") } else { text }
        }
        Cell::Date(d) => {
            if german {
                d.format("%d.%m.%Y").to_string()
            } else {
                d.format("%Y-%m-%d").to_string()
            }
        }
    }
}

fn json_cell(cell: &Cell) -> Value {
    match cell {
        Cell::Text(text) => Value::String(text.clone()),
        Cell::Int(n) => Value::from(*n),
        Cell::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        // Money as a decimal string keeps it exact ("1234.56").
        Cell::Money(m) => Value::String(m.to_string()),
        Cell::Date(d) => Value::String(d.format("%Y-%m-%d").to_string()),
        Cell::Empty => Value::Null,
    }
}

/// Writes `rows` under `headers` in `format`. CSV and JSON stream; XLSX is built in memory
/// (rust_xlsxwriter) and written at the end.
pub fn write_table<W: Write>(
    format: TableFormat,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell>>,
    mut out: W,
) -> Result<W, ExportError> {
    match format {
        TableFormat::CsvGerman | TableFormat::CsvEnglish => {
            let delimiter = if format == TableFormat::CsvGerman {
                ';'
            } else {
                ','
            };
            // The BOM makes Excel read the file as UTF-8.
            out.write_all("\u{feff}".as_bytes())?;
            let header: Vec<String> = headers
                .iter()
                .map(|h| csv_quote(&escape_formula(h), delimiter))
                .collect();
            write!(out, "{}\r\n", header.join(&delimiter.to_string()))?;
            for row in rows {
                let cells: Vec<String> =
                    row.iter().map(|c| csv_cell(c, format, delimiter)).collect();
                write!(out, "{}\r\n", cells.join(&delimiter.to_string()))?;
            }
        }
        TableFormat::Json => {
            out.write_all(b"[")?;
            for (idx, row) in rows.into_iter().enumerate() {
                let object: Map<String, Value> = headers
                    .iter()
                    .zip(&row)
                    .map(|(h, c)| ((*h).to_owned(), json_cell(c)))
                    .collect();
                if idx > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(b"\n")?;
                serde_json::to_writer(&mut out, &Value::Object(object)).map_err(|e| {
                    // Keep the kind of a failed write (a closed pipe, a full disk).
                    io::Error::new(e.io_error_kind().unwrap_or(io::ErrorKind::Other), e)
                })?;
            }
            out.write_all(b"\n]\n")?;
        }
        TableFormat::Xlsx => {
            let mut workbook = Workbook::new();
            let sheet = workbook.add_worksheet();
            let bold = Format::new().set_bold();
            let money = Format::new().set_num_format("#,##0.00");
            let date = Format::new().set_num_format("yyyy-mm-dd");
            for (col, header) in headers.iter().enumerate() {
                sheet.write_string_with_format(0, col as u16, *header, &bold)?;
            }
            for (idx, row) in rows.into_iter().enumerate() {
                let r = idx + 1;
                if r > 1_048_575 {
                    return Err(ExportError::TooManyRows(r));
                }
                let r = r as u32;
                for (col, cell) in row.iter().enumerate() {
                    let col = col as u16;
                    match cell {
                        // write_string never creates a formula; the guard also protects
                        // anyone who copies the cell into a CSV later.
                        Cell::Text(text) => {
                            sheet.write_string(r, col, escape_formula(text).as_ref())?;
                        }
                        Cell::Int(n) => {
                            sheet.write_number(r, col, *n as f64)?;
                        }
                        Cell::Float(x) if x.is_finite() => {
                            sheet.write_number(r, col, *x)?;
                        }
                        Cell::Money(m) => {
                            sheet.write_number_with_format(r, col, m.to_units_f64(), &money)?;
                        }
                        Cell::Date(d) => {
                            sheet.write_date_with_format(r, col, d, &date)?;
                        }
                        Cell::Float(_) | Cell::Empty => {}
                    }
                }
            }
            sheet.autofit();
            let buffer = workbook.save_to_buffer()?;
            out.write_all(&buffer)?;
        }
    }
    out.flush()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<Cell>> {
        vec![
            vec![
                Cell::Text("=HYPERLINK(\"http://evil\")".into()),
                Cell::Money(Money::from_cents(123_456)),
                Cell::Date(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()),
                Cell::Float(0.25),
            ],
            vec![
                Cell::Text("Müller; \"Zoë\"".into()),
                Cell::Money(Money::from_cents(-5)),
                Cell::Empty,
                Cell::Int(3),
            ],
        ]
    }

    #[test]
    fn german_csv_escapes_formulas_and_uses_decimal_commas() {
        let out = write_table(
            TableFormat::CsvGerman,
            &["Name", "Wert", "Datum", "P"],
            rows(),
            Vec::new(),
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert_eq!(lines[0], "Name;Wert;Datum;P");
        assert_eq!(
            lines[1],
            "\"'=HYPERLINK(\"\"http://evil\"\")\";1234,56;24.11.2026;0,25"
        );
        assert_eq!(lines[2], "\"Müller; \"\"Zoë\"\"\";-0,05;;3");
    }

    #[test]
    fn english_csv_and_json_keep_values_exact() {
        let out = write_table(
            TableFormat::CsvEnglish,
            &["n", "v", "d", "p"],
            rows(),
            Vec::new(),
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains(",1234.56,2026-11-24,0.25"), "{text}");
        let out =
            write_table(TableFormat::Json, &["n", "v", "d", "p"], rows(), Vec::new()).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value[0]["v"], "1234.56");
        assert_eq!(value[1]["d"], Value::Null);
        assert_eq!(value[1]["p"], 3);
    }

    #[test]
    fn xlsx_cells_read_back_with_the_formula_guard() {
        use calamine::{Data, Reader, Xlsx};
        let out = write_table(
            TableFormat::Xlsx,
            &["Name", "Wert", "Datum", "P"],
            rows(),
            Vec::new(),
        )
        .unwrap();
        let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(out)).unwrap();
        let range = workbook.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(
            range.get((1, 0)),
            Some(&Data::String("'=HYPERLINK(\"http://evil\")".into()))
        );
        assert_eq!(range.get((1, 1)), Some(&Data::Float(1234.56)));
    }
}
