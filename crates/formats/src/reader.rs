//! The import reader: opens a CSV or XLSX file, decides its dialect and column mapping once,
//! then streams engine records and row errors.
//!
//! The reader holds one record's bytes at a time (CSV) so memory stays flat however large
//! the file is; XLSX sheets are bounded by the ZIP check in `xlsx.rs`. It must never stop at
//! a bad row (each becomes a [`RowError`] and reading goes on), never yield a record it had
//! to guess at, and never touch a database.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use calamine::{Data, Range};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use winback_engine::{
    Channel, ComplaintRecord, ConsentRecord, ConsentStatus, ContractRecord, CustomerRecord,
    CustomerRef, Kind, Money, OrderLineRecord, OrderRecord, Party, PostalAddress, ProductRecord,
    Record, ReferralRecord, Satisfaction,
};

use crate::detect::{
    self, ColumnMapping, Container, DateOrderDecision, DetectedFormat, FieldPlan, HeaderTable,
    SampleRow, decode_field,
};
use crate::error::{FileError, RowError};
use crate::fields::{
    self, complaints, consents, contracts, customers, normalise_header, order_lines, orders,
    products, referrals,
};
use crate::layouts::{self, Layout};
use crate::mapping::{MappingFile, TextEncoding};
use crate::parse::{
    DateError, DateOrder, DecimalSep, LocalZone, parse_bool, parse_date_time, parse_integer,
    parse_money, parts_to_utc,
};
use crate::tokenizer::{RawRecord, Tokenizer};
use crate::xlsx;

/// What to read and how.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub kind: Kind,
    pub mapping: Option<MappingFile>,
    /// The zone of instants written without an offset.
    pub zone: LocalZone,
}

impl ReadOptions {
    pub fn new(kind: Kind) -> ReadOptions {
        ReadOptions {
            kind,
            mapping: None,
            zone: LocalZone::EuropeBerlin,
        }
    }
}

/// One record and the physical line where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    pub line: u64,
    pub record: Record,
}

enum Source {
    Csv {
        tok: Tokenizer<Box<dyn Read + Send>>,
        rec: RawRecord,
        encoding: TextEncoding,
        ascii_fallback: bool,
        width: usize,
    },
    Xlsx {
        range: Range<Data>,
        next_row: usize,
        first_row: u64,
    },
}

/// Streams the records of one file; see the crate docs.
pub struct Reader {
    format: DetectedFormat,
    mapping: ColumnMapping,
    ctx: Ctx,
    source: Source,
    group: Group,
    total: Option<u64>,
    done: bool,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

fn io_error(file: &str, path: &Path, source: std::io::Error) -> FileError {
    if source.kind() == std::io::ErrorKind::NotFound {
        FileError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        FileError::Io {
            file: file.to_string(),
            source,
        }
    }
}

impl Reader {
    /// Opens a CSV or XLSX file; the type is decided by its first bytes, not its name.
    pub fn open(path: &Path, opts: ReadOptions) -> Result<Reader, FileError> {
        let file = path.display().to_string();
        let mut handle = File::open(path).map_err(|e| io_error(&file, path, e))?;
        let total = handle
            .metadata()
            .map_err(|e| io_error(&file, path, e))?
            .len();
        let mut sample = Vec::with_capacity(detect::SAMPLE_BYTES);
        (&mut handle)
            .take(detect::SAMPLE_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(|e| io_error(&file, path, e))?;
        if sample.starts_with(ZIP_MAGIC) {
            if total > xlsx::MAX_XLSX_FILE {
                return Err(FileError::TooLarge {
                    file,
                    size: total,
                    limit: xlsx::MAX_XLSX_FILE,
                });
            }
            let mut bytes = sample;
            handle
                .read_to_end(&mut bytes)
                .map_err(|e| io_error(&file, path, e))?;
            return Reader::open_xlsx(file, bytes, opts);
        }
        let complete = (sample.len() as u64) >= total;
        Reader::open_csv(file, &sample, complete, handle, Some(total), opts)
    }

    /// Reads from memory (web uploads, tests); `file_name` is used in messages.
    pub fn from_bytes(
        file_name: &str,
        bytes: Vec<u8>,
        opts: ReadOptions,
    ) -> Result<Reader, FileError> {
        if bytes.starts_with(ZIP_MAGIC) {
            if bytes.len() as u64 > xlsx::MAX_XLSX_FILE {
                return Err(FileError::TooLarge {
                    file: file_name.to_string(),
                    size: bytes.len() as u64,
                    limit: xlsx::MAX_XLSX_FILE,
                });
            }
            return Reader::open_xlsx(file_name.to_string(), bytes, opts);
        }
        let total = bytes.len() as u64;
        let n = bytes.len().min(detect::SAMPLE_BYTES);
        let sample = bytes[..n].to_vec();
        let complete = n == bytes.len();
        Reader::open_csv(
            file_name.to_string(),
            &sample,
            complete,
            Cursor::new(bytes),
            Some(total),
            opts,
        )
    }

    /// What was detected about the file.
    pub fn format(&self) -> &DetectedFormat {
        &self.format
    }

    /// Which column feeds which field.
    pub fn mapping(&self) -> &ColumnMapping {
        &self.mapping
    }

    /// Bytes consumed so far and the total, for a progress bar.
    pub fn progress(&self) -> (u64, Option<u64>) {
        match &self.source {
            Source::Csv { tok, .. } => (tok.offset(), self.total),
            Source::Xlsx {
                range, next_row, ..
            } => {
                let total = self.total.unwrap_or(0);
                let height = range.height().max(1) as u64;
                (total * (*next_row as u64).min(height) / height, self.total)
            }
        }
    }

    fn open_csv<R: Read + Seek + Send + 'static>(
        file: String,
        sample: &[u8],
        complete: bool,
        mut input: R,
        total: Option<u64>,
        opts: ReadOptions,
    ) -> Result<Reader, FileError> {
        let kind = opts.kind;
        let mapping = opts.mapping.as_ref();
        let mut guess = detect::sniff_encoding(sample, complete)
            .map_err(|_| FileError::Utf16 { file: file.clone() })?;
        let mut overridden = Vec::new();
        if let Some(encoding) = mapping.and_then(|m| m.encoding) {
            guess.encoding = if guess.skip == 3 {
                TextEncoding::Utf8Bom
            } else {
                encoding
            };
            guess.ascii_only = false;
            overridden.push("encoding");
        }
        if sample[guess.skip..].iter().all(|b| b.is_ascii_whitespace()) {
            return Err(FileError::Empty { file });
        }
        let table = HeaderTable::any_layout(kind, mapping);
        let header_line = mapping.and_then(|m| m.header_line);
        if header_line.is_some() {
            overridden.push("header_line");
        }
        let (delimiter, rows, header_idx) = match mapping.and_then(|m| m.delimiter) {
            Some(d) => {
                overridden.push("delimiter");
                let rows = detect::sample_rows(sample, guess.skip, d, guess.encoding, complete);
                let header = detect::find_header(kind, &rows, &table, header_line);
                (d, rows, header)
            }
            None => detect::choose_delimiter(kind, sample, guess, complete, &table, header_line),
        };
        let Some(h) = header_idx else {
            return Err(detect::not_this_kind(&file, kind, &rows, mapping));
        };
        let header_row = rows[h].clone();
        let decided = decide(
            &file,
            kind,
            &header_row,
            &rows,
            &rows[h + 1..],
            Some(delimiter),
            mapping,
            &mut overridden,
        )?;
        input
            .seek(SeekFrom::Start(header_row.byte))
            .map_err(|source| FileError::Io {
                file: file.clone(),
                source,
            })?;
        let boxed: Box<dyn Read + Send> = Box::new(input);
        let mut tok = Tokenizer::new(boxed, delimiter, header_row.line, header_row.byte);
        let mut rec = RawRecord::default();
        // Re-read the header so the stream continues with the first data row.
        tok.read_record(&mut rec).map_err(|source| FileError::Io {
            file: file.clone(),
            source,
        })?;
        let format = DetectedFormat {
            container: Container::Csv,
            encoding: Some(guess.encoding),
            delimiter: Some(char::from(delimiter)),
            decimal: decided.decimal,
            thousands: decided.thousands,
            date_order: decided.date_order,
            header_line: header_row.line,
            layout: decided.layout,
            sheet: None,
            overridden,
        };
        let ctx = Ctx::new(
            file,
            kind,
            opts.zone,
            &format,
            decided.plans,
            header_row.cells.clone(),
            decided.shop_layout,
        );
        Ok(Reader {
            format,
            mapping: decided.mapping,
            ctx,
            source: Source::Csv {
                tok,
                rec,
                encoding: guess.encoding,
                ascii_fallback: guess.ascii_only,
                width: header_row.cells.len(),
            },
            group: Group::default(),
            total,
            done: false,
        })
    }

    fn open_xlsx(file: String, bytes: Vec<u8>, opts: ReadOptions) -> Result<Reader, FileError> {
        let kind = opts.kind;
        let mapping = opts.mapping.as_ref();
        let total = bytes.len() as u64;
        let mut overridden = Vec::new();
        let sheet_wanted = mapping.and_then(|m| m.sheet.as_deref());
        if sheet_wanted.is_some() {
            overridden.push("sheet");
        }
        let (sheet, range) = xlsx::open_sheet(&file, bytes, sheet_wanted)?;
        if range.is_empty() {
            return Err(FileError::Empty { file });
        }
        let first_row = range.start().map(|(r, _)| u64::from(r)).unwrap_or(0);
        let n_sample = range.height().min(1000);
        let sample = |text_only: bool| -> Vec<SampleRow> {
            range
                .rows()
                .take(n_sample)
                .enumerate()
                .map(|(i, cells)| SampleRow {
                    line: first_row + i as u64 + 1,
                    byte: i as u64,
                    cells: cells
                        .iter()
                        .map(|c| xlsx::cell_text(c, text_only))
                        .collect(),
                })
                .collect()
        };
        let rows = sample(false);
        let text_rows = sample(true);
        let table = HeaderTable::any_layout(kind, mapping);
        let header_line = mapping.and_then(|m| m.header_line);
        if header_line.is_some() {
            overridden.push("header_line");
        }
        let Some(h) = detect::find_header(kind, &rows, &table, header_line) else {
            return Err(detect::not_this_kind(&file, kind, &rows, mapping));
        };
        let header_row = rows[h].clone();
        let decided = decide(
            &file,
            kind,
            &header_row,
            &rows,
            &text_rows[h + 1..],
            None,
            mapping,
            &mut overridden,
        )?;
        let format = DetectedFormat {
            container: Container::Xlsx,
            encoding: None,
            delimiter: None,
            decimal: decided.decimal,
            thousands: decided.thousands,
            date_order: decided.date_order,
            header_line: header_row.line,
            layout: decided.layout,
            sheet: Some(sheet),
            overridden,
        };
        let ctx = Ctx::new(
            file,
            kind,
            opts.zone,
            &format,
            decided.plans,
            header_row.cells.clone(),
            decided.shop_layout,
        );
        Ok(Reader {
            format,
            mapping: decided.mapping,
            ctx,
            source: Source::Xlsx {
                range,
                next_row: h + 1,
                first_row,
            },
            group: Group::default(),
            total: Some(total),
            done: false,
        })
    }
}

/// The decisions shared by CSV and XLSX once the header is known.
struct Decided {
    plans: Vec<FieldPlan>,
    mapping: ColumnMapping,
    layout: Layout,
    shop_layout: Layout,
    decimal: DecimalSep,
    thousands: Option<char>,
    date_order: Option<DateOrder>,
}

#[allow(clippy::too_many_arguments)]
fn decide(
    file: &str,
    kind: Kind,
    header_row: &SampleRow,
    all_rows: &[SampleRow],
    data_rows: &[SampleRow],
    delimiter: Option<u8>,
    mapping: Option<&MappingFile>,
    overridden: &mut Vec<&'static str>,
) -> Result<Decided, FileError> {
    let header = &header_row.cells;
    let normalised: Vec<String> = header.iter().map(|h| normalise_header(h)).collect();
    let shop_layout = layouts::detect(&normalised);
    let (plans, described, used_mapping) =
        detect::build_mapping(file, kind, shop_layout, header, header_row.line, mapping)?;
    detect::check_required(
        file,
        kind,
        &plans,
        header,
        header_row.line,
        all_rows,
        mapping,
    )?;
    let (money, dates) = detect::sample_values(kind, &plans, header, data_rows);
    let (decimal, thousands) = match mapping.and_then(|m| m.decimal) {
        Some(d) => {
            overridden.push("decimal");
            let (_, thousands, _) = detect::sniff_decimal(&money, delimiter);
            (d, thousands.filter(|t| *t != d.as_char()))
        }
        None => {
            let (d, t, _) = detect::sniff_decimal(&money, delimiter);
            (d, t)
        }
    };
    let date_order = match mapping.and_then(|m| m.date_order) {
        Some(order) => {
            overridden.push("date_order");
            Some(order)
        }
        None => match detect::sniff_date_order(&dates) {
            DateOrderDecision::Decided(order) => order,
            DateOrderDecision::Ambiguous {
                column,
                example,
                detail,
            } => {
                return Err(FileError::AmbiguousDateOrder {
                    file: file.to_string(),
                    column,
                    example,
                    detail,
                });
            }
        },
    };
    Ok(Decided {
        plans,
        mapping: described,
        layout: if used_mapping {
            Layout::MappingFile
        } else {
            shop_layout
        },
        shop_layout,
        decimal,
        thousands,
        date_order,
    })
}

impl Iterator for Reader {
    type Item = Result<ParsedRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let Reader {
            ctx,
            source,
            group,
            done,
            ..
        } = self;
        loop {
            if *done {
                return None;
            }
            let (line, row) = match source {
                Source::Csv {
                    tok,
                    rec,
                    encoding,
                    ascii_fallback,
                    width,
                } => {
                    match tok.read_record(rec) {
                        Ok(true) => {}
                        Ok(false) => {
                            *done = true;
                            return None;
                        }
                        Err(e) => {
                            *done = true;
                            return Some(Err(ctx.error(
                                rec.line,
                                None,
                                format!("reading stopped: {e}"),
                            )));
                        }
                    }
                    if rec.unterminated {
                        *done = true;
                        let col = rec.len().checked_sub(1).filter(|c| *c < ctx.headers.len());
                        return Some(Err(ctx.error(
                            rec.line,
                            col,
                            "a quoted field that starts in this record is never closed: the file ends inside \
                             quotes, so the record is incomplete and was not imported; check whether the file \
                             was cut off"
                                .to_string(),
                        )));
                    }
                    if rec.bytes().iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    if rec.len() != *width {
                        return Some(Err(ctx.error(
                            rec.line,
                            None,
                            format!(
                                "this row has {} fields, the header has {}; a delimiter or a quote is probably \
                                 missing or extra in this row",
                                rec.len(),
                                width
                            ),
                        )));
                    }
                    let text = match encoding {
                        TextEncoding::Windows1252 if !rec.bytes().is_ascii() => None,
                        _ => std::str::from_utf8(rec.bytes()).ok(),
                    };
                    (
                        rec.line,
                        RowData::Csv {
                            rec,
                            text,
                            encoding: *encoding,
                            ascii_fallback: *ascii_fallback,
                        },
                    )
                }
                Source::Xlsx {
                    range,
                    next_row,
                    first_row,
                } => {
                    if *next_row >= range.height() {
                        *done = true;
                        return None;
                    }
                    let row = *next_row;
                    *next_row += 1;
                    let line = *first_row + row as u64 + 1;
                    let blank = (0..range.width()).all(|c| match range.get((row, c)) {
                        None | Some(Data::Empty) => true,
                        Some(Data::String(s)) => s.trim().is_empty(),
                        Some(_) => false,
                    });
                    if blank {
                        continue;
                    }
                    (line, RowData::Xlsx { range, row })
                }
            };
            let at = At {
                ctx,
                row: &row,
                line,
            };
            match at.build(group) {
                Ok(Some(record)) => return Some(Ok(ParsedRow { line, record })),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Consecutive rows with the same order number belong to one order (Shopify writes one row
/// per order line and the order's columns only on the first).
#[derive(Default)]
struct Group {
    last: String,
    count: u32,
    active: bool,
}

impl Group {
    /// Whether `id` continues the previous row's group; counts the position within it.
    fn continues(&mut self, id: &str) -> bool {
        if self.active && self.last == id {
            self.count += 1;
            true
        } else {
            self.last.clear();
            self.last.push_str(id);
            self.count = 1;
            self.active = true;
            false
        }
    }
}

/// The file-wide decisions every row is parsed with.
struct Ctx {
    file: String,
    kind: Kind,
    zone: LocalZone,
    decimal: DecimalSep,
    date_order: Option<DateOrder>,
    plans: Vec<FieldPlan>,
    headers: Vec<String>,
    /// WooCommerce writes customer id 0 for guest orders; those refer by e-mail.
    zero_id_is_guest: bool,
}

impl Ctx {
    fn new(
        file: String,
        kind: Kind,
        zone: LocalZone,
        format: &DetectedFormat,
        plans: Vec<FieldPlan>,
        headers: Vec<String>,
        shop_layout: Layout,
    ) -> Ctx {
        Ctx {
            file,
            kind,
            zone,
            decimal: format.decimal,
            date_order: format.date_order,
            plans,
            headers,
            zero_id_is_guest: shop_layout == Layout::WooCommerce,
        }
    }

    fn error(&self, line: u64, col: Option<usize>, reason: String) -> RowError {
        RowError {
            file: self.file.clone(),
            line,
            column: col.and_then(|c| self.headers.get(c).cloned()),
            reason,
        }
    }
}

/// One row's cells, borrowed from the reader.
enum RowData<'a> {
    Csv {
        rec: &'a RawRecord,
        /// The whole record as text when it decodes without per-field work (valid UTF-8 in
        /// a UTF-8 file, or pure ASCII): fields are then slices of it, validated once.
        text: Option<&'a str>,
        encoding: TextEncoding,
        ascii_fallback: bool,
    },
    Xlsx {
        range: &'a Range<Data>,
        row: usize,
    },
}

/// A non-empty cell value.
enum Raw<'a> {
    Text(Cow<'a, str>),
    Number(f64),
    DateTime(NaiveDateTime),
    Bool(bool),
}

/// Characters after which a leading `'` is a formula guard to remove: the OWASP list, plus
/// digits and `(` (Shopify's `'+49…`, `'04754`), plus `'` itself so a guarded guard
/// survives a round trip.
fn is_guarded(c: u8) -> bool {
    matches!(
        c,
        b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n' | 0 | b'(' | b'\'' | b'0'..=b'9'
    )
}

/// Trims and removes exactly one formula-guard apostrophe.
#[inline]
fn clean(s: &str) -> &str {
    // Most cells have nothing to trim; only then pay for Unicode-aware trimming.
    let b = s.as_bytes();
    let plain = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_graphic());
    let t = if plain(b.first()) && plain(b.last()) {
        s
    } else {
        s.trim()
    };
    match t.as_bytes() {
        [b'\'', next, ..] if is_guarded(*next) => t[1..].trim_end(),
        _ => t,
    }
}

#[inline]
fn clean_cow(c: Cow<'_, str>) -> Cow<'_, str> {
    match c {
        Cow::Borrowed(s) => Cow::Borrowed(clean(s)),
        Cow::Owned(s) => {
            let t = clean(&s);
            if t.len() == s.len() {
                Cow::Owned(s)
            } else {
                Cow::Owned(t.to_string())
            }
        }
    }
}

impl<'a> RowData<'a> {
    /// The cell, or `None` when empty; `Err` when it is not valid text in the file's encoding.
    #[inline]
    fn get(&self, col: usize) -> Result<Option<Raw<'a>>, ()> {
        match self {
            RowData::Csv {
                rec,
                text,
                encoding,
                ascii_fallback,
            } => {
                if let Some(text) = text {
                    // Field bounds sit next to ASCII delimiters, so they are char boundaries.
                    let field = rec
                        .range(col)
                        .and_then(|r| text.get(r))
                        .map(clean)
                        .unwrap_or("");
                    return Ok(if field.is_empty() {
                        None
                    } else {
                        Some(Raw::Text(Cow::Borrowed(field)))
                    });
                }
                let Some(bytes) = rec.get(col) else {
                    return Ok(None);
                };
                let text = decode_field(bytes, *encoding, *ascii_fallback).ok_or(())?;
                let text = clean_cow(text);
                Ok(if text.is_empty() {
                    None
                } else {
                    Some(Raw::Text(text))
                })
            }
            RowData::Xlsx { range, row } => Ok(match range.get((*row, col)) {
                None | Some(Data::Empty) | Some(Data::Error(_)) => None,
                Some(Data::String(s)) | Some(Data::DateTimeIso(s)) | Some(Data::DurationIso(s)) => {
                    let t = clean(s);
                    if t.is_empty() {
                        None
                    } else {
                        Some(Raw::Text(Cow::Borrowed(t)))
                    }
                }
                Some(Data::Int(i)) => Some(Raw::Number(*i as f64)),
                Some(Data::Float(f)) => Some(Raw::Number(*f)),
                Some(Data::Bool(b)) => Some(Raw::Bool(*b)),
                Some(Data::DateTime(dt)) => dt.as_datetime().map(Raw::DateTime),
            }),
        }
    }
}

impl Raw<'_> {
    fn text(&self) -> Cow<'_, str> {
        match self {
            Raw::Text(s) => Cow::Borrowed(s.as_ref()),
            Raw::Number(f) => Cow::Owned(xlsx::number_text(*f)),
            Raw::Bool(b) => Cow::Borrowed(if *b { "ja" } else { "nein" }),
            Raw::DateTime(dt) => Cow::Owned(excel_datetime_text(*dt)),
        }
    }
}

/// Excel stores a time of day as a date on 1899-12-30/31; show it as a bare time.
fn excel_datetime_text(dt: NaiveDateTime) -> String {
    use chrono::Datelike;
    if dt.year() < 1900 {
        dt.format("%H:%M:%S").to_string()
    } else if dt.time() == chrono::NaiveTime::MIN {
        dt.format("%Y-%m-%d").to_string()
    } else {
        dt.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// A value as shown in a message: at most 60 characters, control characters as spaces.
fn shown(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(60)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if value.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn date_pattern(value: &str, order: Option<DateOrder>) -> &'static str {
    let b = value.trim().as_bytes();
    let first_sep = b.iter().position(|c| !c.is_ascii_digit());
    match first_sep {
        Some(4) => "yyyy-mm-dd",
        Some(i) if b[i] == b'.' => "dd.mm.yyyy",
        _ => order.map(DateOrder::pattern).unwrap_or("dd.mm.yyyy"),
    }
}

fn date_reason(value: &str, err: DateError, order: Option<DateOrder>) -> String {
    let v = shown(value);
    match err {
        DateError::Date => format!("'{v}' is not a valid date ({})", date_pattern(value, order)),
        DateError::Time => format!("'{v}' is not a valid time (HH:MM:SS)"),
        DateError::AmbiguousOrder => format!(
            "'{v}' could be day/month or month/day; put date_order = \"dmy\" or \"mdy\" under [format] in a mapping file"
        ),
        DateError::Shape => format!(
            "'{v}' is not a date (expected dd.mm.yyyy or yyyy-mm-dd, optionally with a time)"
        ),
    }
}

/// A row being turned into a record.
struct At<'c, 'r> {
    ctx: &'c Ctx,
    row: &'c RowData<'r>,
    line: u64,
}

impl<'r> At<'_, 'r> {
    fn err(&self, col: Option<usize>, reason: String) -> RowError {
        self.ctx.error(self.line, col, reason)
    }

    fn first_col(&self, f: usize) -> Option<usize> {
        self.ctx.plans[f].cols.first().copied()
    }

    /// The first non-empty cell of the field's columns (or the joined cells).
    #[inline]
    fn raw(&self, f: usize) -> Result<Option<(Raw<'r>, usize)>, RowError> {
        let plan = &self.ctx.plans[f];
        if plan.joined {
            let mut joined = String::new();
            for &col in &plan.cols {
                if let Some(raw) = self.row.get(col).map_err(|_| self.encoding_error(col))? {
                    if !joined.is_empty() {
                        joined.push(' ');
                    }
                    joined.push_str(&raw.text());
                }
            }
            return Ok(if joined.is_empty() {
                None
            } else {
                Some((Raw::Text(Cow::Owned(joined)), plan.cols[0]))
            });
        }
        for &col in &plan.cols {
            if let Some(raw) = self.row.get(col).map_err(|_| self.encoding_error(col))? {
                return Ok(Some((raw, col)));
            }
        }
        Ok(None)
    }

    fn encoding_error(&self, col: usize) -> RowError {
        self.err(
            Some(col),
            "is not valid UTF-8 text; save the file as UTF-8, or put encoding = \"windows-1252\" under [format] in a mapping file"
                .to_string(),
        )
    }

    fn missing(&self, f: usize) -> RowError {
        let spec = &fields::fields(self.ctx.kind)[f];
        self.err(
            self.first_col(f),
            format!("is empty, but every row needs a value here ({})", spec.name),
        )
    }

    #[inline]
    fn string(&self, f: usize) -> Result<Option<String>, RowError> {
        Ok(self.raw(f)?.map(|(raw, _)| raw.text().into_owned()))
    }

    fn required_string(&self, f: usize) -> Result<String, RowError> {
        self.string(f)?.ok_or_else(|| self.missing(f))
    }

    fn id(&self, f: usize) -> Result<Option<String>, RowError> {
        let id = self.string(f)?;
        if self.ctx.zero_id_is_guest && id.as_deref() == Some("0") {
            return Ok(None);
        }
        Ok(id)
    }

    fn money(&self, f: usize) -> Result<Option<Money>, RowError> {
        let Some((raw, col)) = self.raw(f)? else {
            return Ok(None);
        };
        match raw {
            Raw::Number(x) => Money::from_units_f64_rounded(x)
                .map(Some)
                .ok_or_else(|| self.err(Some(col), format!("{x} is too large to be an amount"))),
            Raw::Text(s) => parse_money(&s, self.ctx.decimal).map(Some).ok_or_else(|| {
                let example = match self.ctx.decimal {
                    DecimalSep::Comma => "decimal comma, e.g. 1.234,56",
                    DecimalSep::Point => "decimal point, e.g. 1,234.56",
                };
                self.err(
                    Some(col),
                    format!(
                        "'{}' is not an amount in this file's format ({example})",
                        shown(&s)
                    ),
                )
            }),
            other => Err(self.err(
                Some(col),
                format!("'{}' is not an amount", shown(&other.text())),
            )),
        }
    }

    fn required_money(&self, f: usize) -> Result<Money, RowError> {
        self.money(f)?.ok_or_else(|| self.missing(f))
    }

    fn integer(&self, f: usize) -> Result<Option<i64>, RowError> {
        let Some((raw, col)) = self.raw(f)? else {
            return Ok(None);
        };
        let value = match &raw {
            Raw::Number(x) if x.fract() == 0.0 && x.abs() < 1e15 => Some(*x as i64),
            Raw::Text(s) => parse_integer(s, self.ctx.decimal),
            _ => None,
        };
        value.map(Some).ok_or_else(|| {
            self.err(
                Some(col),
                format!("'{}' is not a whole number", shown(&raw.text())),
            )
        })
    }

    fn date(&self, f: usize) -> Result<Option<NaiveDate>, RowError> {
        let Some((raw, col)) = self.raw(f)? else {
            return Ok(None);
        };
        match raw {
            Raw::DateTime(dt) => Ok(Some(dt.date())),
            Raw::Text(s) => parse_date_time(&s, self.ctx.date_order)
                .map(|p| Some(p.date))
                .map_err(|e| self.err(Some(col), date_reason(&s, e, self.ctx.date_order))),
            other => Err(self.err(
                Some(col),
                format!(
                    "'{}' is not a date; format the column as a date in Excel",
                    shown(&other.text())
                ),
            )),
        }
    }

    fn required_date(&self, f: usize) -> Result<NaiveDate, RowError> {
        self.date(f)?.ok_or_else(|| self.missing(f))
    }

    fn instant(&self, f: usize) -> Result<Option<DateTime<Utc>>, RowError> {
        let Some((raw, col)) = self.raw(f)? else {
            return Ok(None);
        };
        match raw {
            Raw::DateTime(dt) => Ok(Some(self.ctx.zone.local_to_utc(dt))),
            Raw::Text(s) => parse_date_time(&s, self.ctx.date_order)
                .map(|p| Some(parts_to_utc(p, self.ctx.zone)))
                .map_err(|e| self.err(Some(col), date_reason(&s, e, self.ctx.date_order))),
            other => Err(self.err(
                Some(col),
                format!(
                    "'{}' is not a date; format the column as a date in Excel",
                    shown(&other.text())
                ),
            )),
        }
    }

    fn required_instant(&self, f: usize) -> Result<DateTime<Utc>, RowError> {
        self.instant(f)?.ok_or_else(|| self.missing(f))
    }

    /// Yes/no; a date or a non-zero amount also means yes (`Cancelled at`, `Refunded Amount`).
    fn flag(&self, f: usize) -> Result<bool, RowError> {
        let Some((raw, col)) = self.raw(f)? else {
            return Ok(false);
        };
        match raw {
            Raw::Bool(b) => Ok(b),
            Raw::Number(x) => Ok(x != 0.0),
            Raw::DateTime(_) => Ok(true),
            Raw::Text(s) => {
                if let Some(b) = parse_bool(&s) {
                    return Ok(b);
                }
                if parse_date_time(&s, self.ctx.date_order).is_ok() {
                    return Ok(true);
                }
                if let Some(m) = parse_money(&s, self.ctx.decimal) {
                    return Ok(m != Money::ZERO);
                }
                Err(self.err(
                    Some(col),
                    format!(
                        "'{}' is not yes or no (ja/nein, yes/no, 1/0, x, or a date)",
                        shown(&s)
                    ),
                ))
            }
        }
    }

    fn email(&self, f: usize) -> Result<Option<String>, RowError> {
        let Some((raw, col)) = self.raw(f)? else {
            return Ok(None);
        };
        let text = raw.text();
        let lower = text.to_lowercase();
        let valid = !lower.chars().any(char::is_whitespace)
            && lower.matches('@').count() == 1
            && lower.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Some(lower))
        } else {
            Err(self.err(
                Some(col),
                format!("'{}' is not an e-mail address", shown(&text)),
            ))
        }
    }

    /// A lookup of a normalised word in a table of accepted spellings.
    fn choice<T: Copy>(
        &self,
        f: usize,
        table: &[(&str, T)],
        what: &str,
    ) -> Result<Option<T>, RowError> {
        let Some((raw, col)) = self.raw(f)? else {
            return Ok(None);
        };
        let text = raw.text();
        let key = normalise_header(&text);
        if let Some((_, value)) = table.iter().find(|(word, _)| *word == key) {
            return Ok(Some(*value));
        }
        let accepted: Vec<&str> = table.iter().map(|(w, _)| *w).take(12).collect();
        Err(self.err(
            Some(col),
            format!(
                "'{}' is not a {what}; accepted: {}",
                shown(&text),
                accepted.join(", ")
            ),
        ))
    }

    fn customer_ref(&self, id_f: usize, email_f: usize) -> Result<CustomerRef, RowError> {
        let id = self.id(id_f)?;
        let email = self.email(email_f)?;
        match (id, email) {
            (Some(id), _) => Ok(CustomerRef::ExternalId(id)),
            (None, Some(email)) => Ok(CustomerRef::Email(email)),
            (None, None) => Err(self.err(
                self.first_col(id_f).or(self.first_col(email_f)),
                "names no customer: every row needs a customer number or an e-mail address"
                    .to_string(),
            )),
        }
    }

    fn person_name(
        &self,
        name: usize,
        first: usize,
        last: usize,
        company: usize,
    ) -> Result<Option<String>, RowError> {
        if let Some(n) = self.string(name)? {
            return Ok(Some(n));
        }
        let joined = match (self.string(first)?, self.string(last)?) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
        Ok(match joined {
            Some(n) => Some(n),
            None => self.string(company)?,
        })
    }

    fn build(&self, group: &mut Group) -> Result<Option<Record>, RowError> {
        match self.ctx.kind {
            Kind::Customers => self.customer().map(|r| Some(Record::Customer(r))),
            Kind::Orders => self.order(group).map(|r| r.map(Record::Order)),
            Kind::OrderLines => self.order_line(group).map(|r| Some(Record::OrderLine(r))),
            Kind::Products => self.product().map(|r| Some(Record::Product(r))),
            Kind::Complaints => self.complaint().map(|r| Some(Record::Complaint(r))),
            Kind::Contracts => self.contract().map(|r| Some(Record::Contract(r))),
            Kind::Consents => self.consent().map(|r| Some(Record::Consent(r))),
            Kind::Referrals => self.referral().map(|r| Some(Record::Referral(r))),
        }
    }

    fn customer(&self) -> Result<CustomerRecord, RowError> {
        use customers::*;
        let id = self.id(EXTERNAL_ID)?;
        let email = self.email(EMAIL)?;
        let external_id = match (id, &email) {
            (Some(id), _) => id,
            (None, Some(email)) => email.clone(),
            (None, None) => {
                return Err(self.err(
                    self.first_col(EXTERNAL_ID).or(self.first_col(EMAIL)),
                    "has neither a customer number nor an e-mail address; every customer needs one of them"
                        .to_string(),
                ));
            }
        };
        Ok(CustomerRecord {
            external_id,
            name: self.person_name(NAME, FIRST_NAME, LAST_NAME, COMPANY)?,
            party: self.choice(PARTY, PARTIES, "customer type (b2b/b2c)")?,
            email,
            phone: self.string(PHONE)?,
            address: PostalAddress {
                street: self.string(STREET)?,
                postal_code: self.string(POSTAL_CODE)?,
                city: self.string(CITY)?,
                country: self.string(COUNTRY)?,
            },
            segment: self.string(SEGMENT)?,
            industry: self.string(INDUSTRY)?,
            account_owner: self.string(ACCOUNT_OWNER)?,
            created_at: self.instant(CREATED_AT)?,
        })
    }

    fn order(&self, group: &mut Group) -> Result<Option<OrderRecord>, RowError> {
        use orders::*;
        let external_id = self.required_string(EXTERNAL_ID)?;
        if group.continues(&external_id) {
            return Ok(None);
        }
        let customer = self.customer_ref(CUSTOMER_ID, CUSTOMER_EMAIL)?;
        let ordered_at = self.required_instant(ORDERED_AT)?;
        let gross = self.required_money(GROSS)?;
        // An order status winback does not know (a shop's own wording) sets no flag.
        let (status_cancelled, status_returned) = match self.string(STATUS)? {
            Some(status) => {
                let key = normalise_header(&status);
                ORDER_STATUSES
                    .iter()
                    .find(|(word, _)| *word == key)
                    .map(|(_, flags)| *flags)
                    .unwrap_or((false, false))
            }
            None => (false, false),
        };
        let email = self.email(CUSTOMER_EMAIL)?;
        let name = self.person_name(
            CUSTOMER_NAME,
            CUSTOMER_FIRST_NAME,
            CUSTOMER_LAST_NAME,
            CUSTOMER_COMPANY,
        )?;
        let phone = self.string(CUSTOMER_PHONE)?;
        let address = PostalAddress {
            street: self.string(CUSTOMER_STREET)?,
            postal_code: self.string(CUSTOMER_POSTAL_CODE)?,
            city: self.string(CUSTOMER_CITY)?,
            country: self.string(CUSTOMER_COUNTRY)?,
        };
        // Details are only worth carrying when they add something to the reference itself.
        let adds = name.is_some()
            || phone.is_some()
            || address != PostalAddress::default()
            || (email.is_some() && matches!(customer, CustomerRef::ExternalId(_)));
        let customer_details = adds.then(|| {
            let mut details = CustomerRecord::new(match &customer {
                CustomerRef::ExternalId(id) => id.clone(),
                CustomerRef::Email(e) => e.clone(),
            });
            details.name = name;
            details.email = email;
            details.phone = phone;
            details.address = address;
            details
        });
        Ok(Some(OrderRecord {
            external_id,
            customer,
            ordered_at,
            gross,
            margin: self.money(MARGIN)?,
            cost: self.money(COST)?,
            discount: self.money(DISCOUNT)?.unwrap_or(Money::ZERO),
            voucher_code: self.string(VOUCHER_CODE)?,
            delivery_promised_on: self.date(DELIVERY_PROMISED_ON)?,
            delivered_on: self.date(DELIVERED_ON)?,
            channel: self.string(CHANNEL)?,
            currency: self.string(CURRENCY)?,
            returned: self.flag(RETURNED)? || status_returned,
            cancelled: self.flag(CANCELLED)? || status_cancelled,
            customer_details,
        }))
    }

    fn order_line(&self, group: &mut Group) -> Result<OrderLineRecord, RowError> {
        use order_lines::*;
        let order_external_id = self.required_string(ORDER_EXTERNAL_ID)?;
        group.continues(&order_external_id);
        let line_no = match self.integer(LINE_NO)? {
            Some(n) => u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
                self.err(
                    self.first_col(LINE_NO),
                    format!("{n} is not a line position (1, 2, 3, …)"),
                )
            })?,
            None => group.count,
        };
        let quantity = self
            .integer(QUANTITY)?
            .ok_or_else(|| self.missing(QUANTITY))?;
        Ok(OrderLineRecord {
            order_external_id,
            line_no,
            sku: self.string(SKU)?,
            product_name: self.string(PRODUCT_NAME)?,
            quantity,
            unit_price: self.required_money(UNIT_PRICE)?,
            discount: self.money(DISCOUNT)?.unwrap_or(Money::ZERO),
        })
    }

    fn product(&self) -> Result<ProductRecord, RowError> {
        use products::*;
        Ok(ProductRecord {
            sku: self.required_string(SKU)?,
            name: self.string(NAME)?,
            category: self.string(CATEGORY)?,
            price: self.money(PRICE)?,
            delisted_on: self.date(DELISTED_ON)?,
        })
    }

    fn complaint(&self) -> Result<ComplaintRecord, RowError> {
        use complaints::*;
        Ok(ComplaintRecord {
            external_id: self.required_string(EXTERNAL_ID)?,
            customer: self.customer_ref(CUSTOMER_ID, CUSTOMER_EMAIL)?,
            order_external_id: self.string(ORDER_EXTERNAL_ID)?,
            opened_at: self.required_instant(OPENED_AT)?,
            first_response_at: self.instant(FIRST_RESPONSE_AT)?,
            resolved_at: self.instant(RESOLVED_AT)?,
            satisfied: self
                .choice(SATISFIED, SATISFACTIONS, "satisfaction (ja/nein/unbekannt)")?
                .unwrap_or(Satisfaction::Unknown),
            category: self.string(CATEGORY)?,
            text: self.string(TEXT)?,
        })
    }

    fn contract(&self) -> Result<ContractRecord, RowError> {
        use contracts::*;
        Ok(ContractRecord {
            external_id: self.required_string(EXTERNAL_ID)?,
            customer: self.customer_ref(CUSTOMER_ID, CUSTOMER_EMAIL)?,
            product: self.string(PRODUCT)?,
            started_on: self.required_date(STARTED_ON)?,
            ends_on: self.date(ENDS_ON)?,
            renewal_on: self.date(RENEWAL_ON)?,
            monthly_value: self.money(MONTHLY_VALUE)?,
            cancellation_received_at: self.instant(CANCELLATION_RECEIVED_AT)?,
            cancellation_effective_on: self.date(CANCELLATION_EFFECTIVE_ON)?,
            cancellation_reason: self.string(CANCELLATION_REASON)?,
        })
    }

    fn consent(&self) -> Result<ConsentRecord, RowError> {
        use consents::*;
        Ok(ConsentRecord {
            customer: self.customer_ref(CUSTOMER_ID, CUSTOMER_EMAIL)?,
            channel: self
                .choice(CHANNEL, CHANNELS, "contact channel")?
                .ok_or_else(|| self.missing(CHANNEL))?,
            status: self
                .choice(STATUS, CONSENT_STATUSES, "consent status")?
                .ok_or_else(|| self.missing(STATUS))?,
            recorded_at: self.required_instant(RECORDED_AT)?,
            source: self.string(SOURCE)?,
            proof: self.string(PROOF)?,
        })
    }

    fn referral(&self) -> Result<ReferralRecord, RowError> {
        use referrals::*;
        Ok(ReferralRecord {
            referrer: self.customer_ref(REFERRER_ID, REFERRER_EMAIL)?,
            referred: self.customer_ref(REFERRED_ID, REFERRED_EMAIL)?,
            referred_on: self.required_date(REFERRED_ON)?,
            thanked_at: self.instant(THANKED_AT)?,
        })
    }
}

// The accepted spellings below are normalised (lower case, letters and digits only).

const PARTIES: &[(&str, Party)] = &[
    ("b2b", Party::Business),
    ("b2c", Party::Consumer),
    ("firma", Party::Business),
    ("privat", Party::Consumer),
    ("business", Party::Business),
    ("consumer", Party::Consumer),
    ("geschaeftskunde", Party::Business),
    ("privatkunde", Party::Consumer),
    ("firmenkunde", Party::Business),
    ("verbraucher", Party::Consumer),
    ("gewerblich", Party::Business),
    ("unternehmen", Party::Business),
    ("company", Party::Business),
    ("private", Party::Consumer),
    ("person", Party::Consumer),
];

const CHANNELS: &[(&str, Channel)] = &[
    ("email", Channel::Email),
    ("telefon", Channel::Phone),
    ("phone", Channel::Phone),
    ("post", Channel::Post),
    ("brief", Channel::Post),
    ("messenger", Channel::Messenger),
    ("whatsapp", Channel::Messenger),
    ("mail", Channel::Email),
    ("newsletter", Channel::Email),
    ("tel", Channel::Phone),
    ("telephone", Channel::Phone),
    ("anruf", Channel::Phone),
    ("briefpost", Channel::Post),
    ("letter", Channel::Post),
    ("postal", Channel::Post),
    ("signal", Channel::Messenger),
    ("telegram", Channel::Messenger),
    ("threema", Channel::Messenger),
];

const CONSENT_STATUSES: &[(&str, ConsentStatus)] = &[
    ("granted", ConsentStatus::Granted),
    ("erteilt", ConsentStatus::Granted),
    ("ja", ConsentStatus::Granted),
    ("optin", ConsentStatus::Granted),
    ("revoked", ConsentStatus::Revoked),
    ("widerrufen", ConsentStatus::Revoked),
    ("optout", ConsentStatus::Revoked),
    ("objection", ConsentStatus::Objection),
    ("widerspruch", ConsentStatus::Objection),
    ("sperre", ConsentStatus::Objection),
    ("yes", ConsentStatus::Granted),
    ("doubleoptin", ConsentStatus::Granted),
    ("zugestimmt", ConsentStatus::Granted),
    ("withdrawn", ConsentStatus::Revoked),
    ("abgemeldet", ConsentStatus::Revoked),
    ("unsubscribed", ConsentStatus::Revoked),
    ("gesperrt", ConsentStatus::Objection),
    ("blocked", ConsentStatus::Objection),
    ("widersprochen", ConsentStatus::Objection),
];

const SATISFACTIONS: &[(&str, Satisfaction)] = &[
    ("ja", Satisfaction::Yes),
    ("nein", Satisfaction::No),
    ("unbekannt", Satisfaction::Unknown),
    ("yes", Satisfaction::Yes),
    ("no", Satisfaction::No),
    ("unknown", Satisfaction::Unknown),
    ("zufrieden", Satisfaction::Yes),
    ("unzufrieden", Satisfaction::No),
    ("satisfied", Satisfaction::Yes),
    ("unsatisfied", Satisfaction::No),
    ("dissatisfied", Satisfaction::No),
    ("true", Satisfaction::Yes),
    ("false", Satisfaction::No),
    ("1", Satisfaction::Yes),
    ("0", Satisfaction::No),
    ("j", Satisfaction::Yes),
    ("n", Satisfaction::No),
];

/// Shop order statuses as (cancelled, returned); any other status sets neither flag.
const ORDER_STATUSES: &[(&str, (bool, bool))] = &[
    ("storniert", (true, false)),
    ("cancelled", (true, false)),
    ("erstattet", (false, true)),
    ("refunded", (false, true)),
    ("canceled", (true, false)),
    ("storno", (true, false)),
    ("voided", (true, false)),
    ("failed", (true, false)),
    ("wccancelled", (true, false)),
    ("wcfailed", (true, false)),
    ("wcrefunded", (false, true)),
    ("partiallyrefunded", (false, true)),
    ("teilerstattet", (false, true)),
    ("retoure", (false, true)),
    ("returned", (false, true)),
    ("zurueckerstattet", (false, true)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_formula_guard_apostrophe_is_removed() {
        let cases: &[(&str, &str)] = &[
            ("'+49 967 76316919", "+49 967 76316919"),
            ("'3565933522401", "3565933522401"),
            ("'04754", "04754"),
            ("'=SUM(1)", "=SUM(1)"),
            ("''=SUM(1)", "'=SUM(1)"),
            ("'Tis the season", "'Tis the season"),
            ("  Erika  ", "Erika"),
            ("'", "'"),
            ("O'Brien", "O'Brien"),
        ];
        for (input, expected) in cases {
            assert_eq!(clean(input), *expected, "input {input:?}");
        }
    }
}
