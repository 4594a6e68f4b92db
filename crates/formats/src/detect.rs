//! Sniffing a file's dialect from its first 64 KiB: encoding, delimiter, header line,
//! shop layout, column mapping, decimal separator and date order.
//!
//! Every decision is made once per file from a sample, reported in [`DetectedFormat`] and
//! [`ColumnMapping`] so the user can check it, and overridable by a mapping file. Nothing
//! here may guess per row: an ambiguous decision is either made file-wide or refused with a
//! [`FileError`] that says which setting to give.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;
use winback_engine::Kind;

use crate::error::FileError;
use crate::fields::{FieldSpec, FieldType, accepted_names, fields, normalise_header};
use crate::layouts::{self, Layout};
use crate::mapping::{MappingFile, TextEncoding};
use crate::parse::{DateError, DateOrder, DateShape, DecimalSep, parse_date_time};
use crate::tokenizer::{RawRecord, Tokenizer};

/// How many bytes are looked at to decide the dialect.
pub(crate) const SAMPLE_BYTES: usize = 64 * 1024;
/// How many records of the sample are searched for the header.
const MAX_HEADER_SEARCH: usize = 200;

/// The container a file was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    Csv,
    Xlsx,
}

/// What the reader decided about a file, for the user to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectedFormat {
    pub container: Container,
    /// `None` for XLSX.
    pub encoding: Option<TextEncoding>,
    /// `None` for XLSX.
    pub delimiter: Option<char>,
    pub decimal: DecimalSep,
    pub thousands: Option<char>,
    /// The order used for `03/04/2022`-style dates; `None` when the file has none.
    pub date_order: Option<DateOrder>,
    /// The 1-based physical line (sheet row for XLSX) of the header.
    pub header_line: u64,
    pub layout: Layout,
    /// XLSX: the sheet read.
    pub sheet: Option<String>,
    /// Which of the above came from the mapping file rather than from the data.
    pub overridden: Vec<&'static str>,
}

impl DetectedFormat {
    /// A multi-line description for the CLI.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let by = |what: &str| {
            if self.overridden.contains(&what) {
                " (mapping file)"
            } else {
                ""
            }
        };
        match self.container {
            Container::Csv => {
                let _ = writeln!(out, "  file type:  CSV");
                if let Some(e) = self.encoding {
                    let _ = writeln!(out, "  encoding:   {}{}", e.as_str(), by("encoding"));
                }
                if let Some(d) = self.delimiter {
                    let shown = match d {
                        '\t' => "tab".to_string(),
                        c => format!("'{c}'"),
                    };
                    let _ = writeln!(out, "  delimiter:  {shown}{}", by("delimiter"));
                }
            }
            Container::Xlsx => {
                let _ = writeln!(out, "  file type:  Excel (XLSX)");
                if let Some(sheet) = &self.sheet {
                    let _ = writeln!(out, "  sheet:      \"{sheet}\"{}", by("sheet"));
                }
            }
        }
        let example = match self.decimal {
            DecimalSep::Comma => "1.234,56",
            DecimalSep::Point => "1,234.56",
        };
        let _ = writeln!(
            out,
            "  decimal:    '{}' (e.g. {example}){}",
            self.decimal.as_char(),
            by("decimal")
        );
        if let Some(t) = self.thousands {
            let shown = if t == ' ' || t == '\u{a0}' {
                "space".to_string()
            } else {
                format!("'{t}'")
            };
            let _ = writeln!(out, "  thousands:  {shown}");
        }
        if let Some(order) = self.date_order {
            let _ = writeln!(out, "  dates:      {}{}", order.pattern(), by("date_order"));
        }
        let _ = writeln!(
            out,
            "  header:     line {}{}",
            self.header_line,
            by("header_line")
        );
        let _ = write!(out, "  layout:     {}", self.layout.as_str());
        out
    }
}

/// One column of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappedColumn {
    /// 0-based column index.
    pub index: usize,
    /// The header text as written in the file.
    pub header: String,
}

/// A canonical field and the column(s) it is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappedField {
    pub field: &'static str,
    /// Best first. Without `joined`, later columns are fallbacks used when the first is
    /// empty (Shopify's `Billing Phone`, then `Phone`).
    pub columns: Vec<MappedColumn>,
    /// The cells are joined with a space (a date column and a time column).
    pub joined: bool,
}

/// Which column feeds which field, and which columns are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnMapping {
    pub fields: Vec<MappedField>,
    pub ignored: Vec<MappedColumn>,
}

impl ColumnMapping {
    /// The first column read for a field.
    pub fn get(&self, field: &str) -> Option<&MappedColumn> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .and_then(|f| f.columns.first())
    }

    /// A multi-line description for the CLI, e.g. `  "Bestellnummer" -> external_id`.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for mapped in &self.fields {
            let headers: Vec<String> = mapped
                .columns
                .iter()
                .map(|c| format!("\"{}\"", c.header))
                .collect();
            if mapped.joined {
                let _ = writeln!(out, "  {} -> {}", headers.join(" + "), mapped.field);
            } else {
                let _ = write!(out, "  {} -> {}", headers[0], mapped.field);
                if headers.len() > 1 {
                    let _ = write!(out, " (if empty: {})", headers[1..].join(", "));
                }
                out.push('\n');
            }
        }
        if !self.ignored.is_empty() {
            let names: Vec<String> = self
                .ignored
                .iter()
                .map(|c| format!("\"{}\"", c.header))
                .collect();
            let _ = write!(out, "  ignored: {}", names.join(", "));
        }
        out.trim_end().to_string()
    }
}

/// The internal form of a mapping: per field (by index in `fields(kind)`), the columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldPlan {
    pub cols: Vec<usize>,
    pub joined: bool,
}

/// The decided encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EncodingGuess {
    pub encoding: TextEncoding,
    /// Bytes to skip (a BOM).
    pub skip: usize,
    /// The sample was plain ASCII, so UTF-8 is only a default; a later record that is not
    /// valid UTF-8 is decoded as Windows-1252 instead of being rejected.
    pub ascii_only: bool,
}

/// Decides the encoding from the sample. `complete` says whether the sample is the whole
/// file; if not, a multi-byte character cut at the sample's end is not held against UTF-8.
pub(crate) fn sniff_encoding(sample: &[u8], complete: bool) -> Result<EncodingGuess, &'static str> {
    if sample.starts_with(&[0xFF, 0xFE]) || sample.starts_with(&[0xFE, 0xFF]) {
        return Err("utf-16");
    }
    let (skip, rest) = match sample.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (3, rest),
        None => (0, sample),
    };
    let ascii_only = rest.is_ascii();
    let utf8 = match std::str::from_utf8(rest) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    };
    let encoding = match (skip, utf8) {
        (3, _) => TextEncoding::Utf8Bom,
        (_, true) => TextEncoding::Utf8,
        (_, false) => TextEncoding::Windows1252,
    };
    Ok(EncodingGuess {
        encoding,
        skip,
        ascii_only,
    })
}

/// Decodes one field; `None` when it is not valid in the file's encoding.
pub(crate) fn decode_field(
    bytes: &[u8],
    encoding: TextEncoding,
    ascii_fallback: bool,
) -> Option<Cow<'_, str>> {
    match encoding {
        TextEncoding::Windows1252 => {
            if bytes.is_ascii() {
                std::str::from_utf8(bytes).ok().map(Cow::Borrowed)
            } else {
                Some(
                    encoding_rs::WINDOWS_1252
                        .decode_without_bom_handling(bytes)
                        .0,
                )
            }
        }
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => match std::str::from_utf8(bytes) {
            Ok(s) => Some(Cow::Borrowed(s)),
            Err(_) if ascii_fallback => Some(
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0,
            ),
            Err(_) => None,
        },
    }
}

/// A decoded row of the sample with its position.
#[derive(Debug, Clone)]
pub(crate) struct SampleRow {
    pub line: u64,
    pub byte: u64,
    pub cells: Vec<String>,
}

/// Tokenizes the sample with one delimiter. A last record cut by the sample's end is dropped.
pub(crate) fn sample_rows(
    sample: &[u8],
    skip: usize,
    delimiter: u8,
    encoding: TextEncoding,
    complete: bool,
) -> Vec<SampleRow> {
    let mut tok = Tokenizer::new(&sample[skip..], delimiter, 1, skip as u64);
    let mut rec = RawRecord::default();
    let mut rows = Vec::new();
    while let Ok(true) = tok.read_record(&mut rec) {
        if rows.len() >= 1000 {
            break;
        }
        let cells = rec
            .iter()
            .map(|f| match decode_field(f, encoding, true) {
                Some(s) => s.trim().to_string(),
                None => String::from_utf8_lossy(f).trim().to_string(),
            })
            .collect();
        rows.push(SampleRow {
            line: rec.line,
            byte: rec.byte,
            cells,
        });
    }
    if !complete && rows.len() > 1 {
        rows.pop();
    }
    rows
}

/// Normalised header text -> field index, for one kind, layout and mapping file.
pub(crate) struct HeaderTable {
    map: HashMap<String, usize>,
}

impl HeaderTable {
    /// Everything any layout or the mapping file could call a field of `kind`; used to find
    /// the header line before the layout is known.
    pub fn any_layout(kind: Kind, mapping: Option<&MappingFile>) -> HeaderTable {
        let specs = fields(kind);
        let mut map = HashMap::new();
        for (idx, spec) in specs.iter().enumerate() {
            for synonym in spec.synonyms {
                map.entry(normalise_header(synonym)).or_insert(idx);
            }
        }
        for layout in [Layout::Shopify, Layout::WooCommerce, Layout::Shopware6] {
            for (name, headers) in layouts::overrides(layout, kind) {
                if let Some(idx) = specs.iter().position(|s| s.name == *name) {
                    for h in *headers {
                        map.entry(normalise_header(h)).or_insert(idx);
                    }
                }
            }
        }
        if let Some(m) = mapping {
            for (name, headers) in &m.columns {
                if let Some(idx) = specs.iter().position(|s| s.name == name) {
                    for h in headers {
                        map.insert(normalise_header(h), idx);
                    }
                }
            }
        }
        HeaderTable { map }
    }

    /// How many distinct fields the cells name, and whether the required ones are covered.
    pub fn score(&self, kind: Kind, cells: &[String]) -> (usize, bool) {
        let specs = fields(kind);
        let mut hit = vec![false; specs.len()];
        for cell in cells {
            if let Some(&idx) = self.map.get(&normalise_header(cell)) {
                hit[idx] = true;
            }
        }
        let n = hit.iter().filter(|h| **h).count();
        (n, missing_required(specs, |idx| hit[idx]).is_empty())
    }
}

/// Fields that are required (or one-of groups with no member) and not covered.
pub(crate) fn missing_required(
    all: &'static [FieldSpec],
    covered: impl Fn(usize) -> bool,
) -> Vec<&'static FieldSpec> {
    let mut missing: Vec<&'static FieldSpec> = Vec::new();
    let mut groups_seen: Vec<&str> = Vec::new();
    for (idx, spec) in all.iter().enumerate() {
        if spec.required && !covered(idx) {
            missing.push(spec);
        }
        if let Some(group) = spec.one_of {
            if groups_seen.contains(&group) {
                continue;
            }
            groups_seen.push(group);
            let any = all
                .iter()
                .enumerate()
                .any(|(i, s)| s.one_of == Some(group) && covered(i));
            if !any {
                missing.push(spec);
            }
        }
    }
    missing
}

/// A header line qualifies when it names at least two fields, or all required ones.
pub(crate) fn qualifies(score: (usize, bool)) -> bool {
    score.0 >= 2 || (score.0 >= 1 && score.1)
}

/// Finds the header among the sample rows: the mapping file's line, or the first row that
/// qualifies. Returns its index in `rows`.
pub(crate) fn find_header(
    kind: Kind,
    rows: &[SampleRow],
    table: &HeaderTable,
    header_line: Option<u64>,
) -> Option<usize> {
    if let Some(line) = header_line {
        return rows.iter().position(|r| r.line == line);
    }
    rows.iter()
        .take(MAX_HEADER_SEARCH)
        .position(|r| qualifies(table.score(kind, &r.cells)))
}

/// The row most likely meant as a header (the first with the most non-empty cells), for
/// messages about files that do not match.
pub(crate) fn likely_header(rows: &[SampleRow]) -> Option<&SampleRow> {
    let mut best: Option<&SampleRow> = None;
    for row in rows.iter().take(MAX_HEADER_SEARCH) {
        let n = row.cells.iter().filter(|c| !c.is_empty()).count();
        if best.is_none_or(|b| n > b.cells.iter().filter(|c| !c.is_empty()).count()) {
            best = Some(row);
        }
    }
    best
}

pub(crate) fn list_cells(cells: &[String]) -> String {
    let shown: Vec<String> = cells
        .iter()
        .filter(|c| !c.is_empty())
        .take(25)
        .map(|c| format!("\"{c}\""))
        .collect();
    if shown.is_empty() {
        "(nothing)".to_string()
    } else {
        shown.join(", ")
    }
}

fn describe_needed(kind: Kind) -> String {
    let specs = fields(kind);
    let mut parts = Vec::new();
    let mut groups: Vec<&str> = Vec::new();
    for spec in specs {
        if spec.required {
            parts.push(format!("{} ({})", spec.name, accepted_names(spec)));
        } else if let Some(group) = spec.one_of {
            if groups.contains(&group) {
                continue;
            }
            groups.push(group);
            let members: Vec<String> = specs
                .iter()
                .filter(|s| s.one_of == Some(group))
                .map(|s| format!("{} ({})", s.name, accepted_names(s)))
                .collect();
            parts.push(format!("one of {}", members.join(" or ")));
        }
    }
    parts.join("; ")
}

/// The error for a file whose header does not match `kind`.
pub(crate) fn not_this_kind(
    file: &str,
    kind: Kind,
    rows: &[SampleRow],
    mapping: Option<&MappingFile>,
) -> FileError {
    let (found_line, found) = match likely_header(rows) {
        Some(row) => (row.line, list_cells(&row.cells)),
        None => (1, "(nothing)".to_string()),
    };
    // Say so when the header fits another kind: the user picked the wrong import.
    let mut best: Option<(Kind, usize)> = None;
    for other in Kind::ALL {
        if other == kind {
            continue;
        }
        let table = HeaderTable::any_layout(other, mapping);
        for row in rows.iter().take(MAX_HEADER_SEARCH) {
            let score = table.score(other, &row.cells);
            let n_headers = row.cells.iter().filter(|c| !c.is_empty()).count();
            // Only a convincing match is worth a hint: required fields and a third of the columns.
            let convincing = score.1 && qualifies(score) && score.0 * 3 >= n_headers;
            if convincing && best.is_none_or(|(_, n)| score.0 > n) {
                best = Some((other, score.0));
            }
        }
    }
    FileError::NotThisKind {
        file: file.to_string(),
        article: if kind.as_str().starts_with('o') {
            "an"
        } else {
            "a"
        },
        kind,
        found_line,
        found,
        needed: describe_needed(kind),
        looks_like: best.map(|(other, _)| other),
    }
}

/// Builds the column mapping for a header: mapping file first, then layout overrides, then
/// the generic synonyms.
pub(crate) fn build_mapping(
    file: &str,
    kind: Kind,
    layout: Layout,
    header: &[String],
    header_line: u64,
    mapping: Option<&MappingFile>,
) -> Result<(Vec<FieldPlan>, ColumnMapping, bool), FileError> {
    let specs = fields(kind);
    let normalised: Vec<String> = header.iter().map(|h| normalise_header(h)).collect();
    let mut plans = vec![FieldPlan::default(); specs.len()];
    let mut fixed = vec![false; specs.len()];
    let mut taken = vec![false; header.len()];
    let mut used_mapping = false;

    if let Some(m) = mapping {
        for (name, headers) in &m.columns {
            let Some(idx) = specs.iter().position(|s| s.name == name) else {
                let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
                return Err(FileError::Mapping {
                    reason: format!(
                        "[columns] {name}: {kind} files have no field of that name; known fields: {}",
                        known.join(", ")
                    ),
                });
            };
            for wanted in headers {
                let key = normalise_header(wanted);
                let col = (0..header.len()).find(|&c| !taken[c] && normalised[c] == key);
                let Some(col) = col else {
                    return Err(FileError::MappedColumnNotFound {
                        file: file.to_string(),
                        field: name.clone(),
                        header: wanted.clone(),
                        header_line,
                        found: list_cells(header),
                    });
                };
                taken[col] = true;
                plans[idx].cols.push(col);
            }
            plans[idx].joined = headers.len() > 1;
            fixed[idx] = true;
            used_mapping = true;
        }
    }

    for (name, names) in layouts::overrides(layout, kind) {
        let Some(idx) = specs.iter().position(|s| s.name == *name) else {
            continue;
        };
        if fixed[idx] {
            continue;
        }
        for wanted in *names {
            let key = normalise_header(wanted);
            if let Some(col) = (0..header.len()).find(|&c| !taken[c] && normalised[c] == key) {
                taken[col] = true;
                plans[idx].cols.push(col);
            }
        }
    }

    let mut generic: HashMap<String, (usize, usize)> = HashMap::new();
    for (idx, spec) in specs.iter().enumerate() {
        for (rank, synonym) in spec.synonyms.iter().enumerate() {
            generic
                .entry(normalise_header(synonym))
                .or_insert((idx, rank));
        }
    }
    let mut candidates: Vec<(usize, usize, usize)> = Vec::new();
    for (col, key) in normalised.iter().enumerate() {
        if taken[col] || key.is_empty() {
            continue;
        }
        if let Some(&(idx, rank)) = generic.get(key)
            && !fixed[idx]
        {
            candidates.push((idx, rank, col));
        }
    }
    candidates.sort_unstable();
    for (idx, _, col) in candidates {
        taken[col] = true;
        plans[idx].cols.push(col);
    }

    let column = |c: usize| MappedColumn {
        index: c,
        header: header[c].clone(),
    };
    let described = ColumnMapping {
        fields: specs
            .iter()
            .zip(&plans)
            .filter(|(_, p)| !p.cols.is_empty())
            .map(|(spec, p)| MappedField {
                field: spec.name,
                columns: p.cols.iter().map(|&c| column(c)).collect(),
                joined: p.joined,
            })
            .collect(),
        ignored: (0..header.len())
            .filter(|&c| !taken[c] && !header[c].is_empty())
            .map(column)
            .collect(),
    };
    Ok((plans, described, used_mapping))
}

/// Checks the required fields after mapping: a missing one is `MissingColumn`, or
/// `NotThisKind` when so little matched that the file is probably something else.
pub(crate) fn check_required(
    file: &str,
    kind: Kind,
    plans: &[FieldPlan],
    header: &[String],
    header_line: u64,
    rows: &[SampleRow],
    mapping: Option<&MappingFile>,
) -> Result<(), FileError> {
    let specs = fields(kind);
    let missing = missing_required(specs, |idx| !plans[idx].cols.is_empty());
    let Some(first) = missing.first() else {
        return Ok(());
    };
    let n_mapped: usize = plans.iter().map(|p| p.cols.len()).sum();
    let n_headers = header.iter().filter(|h| !h.is_empty()).count();
    if n_mapped * 3 < n_headers {
        return Err(not_this_kind(file, kind, rows, mapping));
    }
    let field = match first.one_of {
        Some(group) => specs
            .iter()
            .filter(|s| s.one_of == Some(group))
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(" or "),
        None => first.name.to_string(),
    };
    let accepted = match first.one_of {
        Some(group) => specs
            .iter()
            .filter(|s| s.one_of == Some(group))
            .map(accepted_names)
            .collect::<Vec<_>>()
            .join("; or "),
        None => accepted_names(first),
    };
    Err(FileError::MissingColumn {
        file: file.to_string(),
        kind,
        field,
        accepted,
        header_line,
    })
}

/// Decides the decimal separator and thousands separator from the money columns of the
/// sample. One value like `1,234` decides nothing; a conflict is settled by the majority,
/// and the minority rows then fail with a row error instead of silently changing meaning.
pub(crate) fn sniff_decimal(
    values: &[&str],
    delimiter: Option<u8>,
) -> (DecimalSep, Option<char>, bool) {
    let mut comma = 0usize;
    let mut point = 0usize;
    let mut thousands: HashMap<char, usize> = HashMap::new();
    for raw in values {
        let v: String = raw
            .chars()
            .filter(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '\u{a0}' | '\''))
            .collect();
        let v = v.trim();
        let last_comma = v.rfind(',');
        let last_point = v.rfind('.');
        for sep in [' ', '\u{a0}', '\''] {
            if v.contains(sep) {
                *thousands.entry(sep).or_default() += 1;
            }
        }
        match (last_comma, last_point) {
            (Some(c), Some(p)) => {
                if c > p {
                    comma += 1;
                    *thousands.entry('.').or_default() += 1;
                } else {
                    point += 1;
                    *thousands.entry(',').or_default() += 1;
                }
            }
            (Some(c), None) => {
                let digits_after = v.len() - c - 1;
                if v.matches(',').count() > 1 {
                    point += 1;
                    *thousands.entry(',').or_default() += 1;
                } else if digits_after != 3 {
                    comma += 1;
                }
            }
            (None, Some(p)) => {
                let digits_after = v.len() - p - 1;
                if v.matches('.').count() > 1 {
                    comma += 1;
                    *thousands.entry('.').or_default() += 1;
                } else if digits_after != 3 {
                    point += 1;
                }
            }
            (None, None) => {}
        }
    }
    let decided = comma + point > 0;
    let decimal = if comma > point {
        DecimalSep::Comma
    } else if point > comma {
        DecimalSep::Point
    } else if delimiter == Some(b';') {
        // No evidence: semicolon files come from German Excel, which writes decimal commas.
        DecimalSep::Comma
    } else {
        DecimalSep::Point
    };
    let thousands = thousands
        .into_iter()
        .filter(|(c, _)| *c != decimal.as_char())
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c);
    (decimal, thousands, decided)
}

/// The result of looking at the date columns of the sample.
pub(crate) enum DateOrderDecision {
    Decided(Option<DateOrder>),
    Ambiguous {
        column: String,
        example: String,
        detail: String,
    },
}

/// Decides the order for slashed dates from the sample: a first part above 12 means day
/// first, a second part above 12 means month first; neither leaves it open.
pub(crate) fn sniff_date_order(columns: &[(String, Vec<&str>)]) -> DateOrderDecision {
    let mut dmy: Option<(String, String)> = None;
    let mut mdy: Option<(String, String)> = None;
    let mut open: Option<(String, String)> = None;
    let mut dotted = false;
    let mut iso = false;
    for (column, values) in columns {
        for value in values {
            let shape = match parse_date_time(value, None) {
                Ok(p) => p.shape,
                Err(DateError::AmbiguousOrder) => {
                    open.get_or_insert_with(|| (column.clone(), value.to_string()));
                    continue;
                }
                Err(_) => continue,
            };
            match shape {
                DateShape::Dotted => dotted = true,
                DateShape::YearFirst => iso = true,
                DateShape::Slashed { first, second } => {
                    if first > 12 {
                        dmy.get_or_insert_with(|| (column.clone(), value.to_string()));
                    } else if second > 12 {
                        mdy.get_or_insert_with(|| (column.clone(), value.to_string()));
                    }
                }
            }
        }
    }
    match (dmy, mdy, open) {
        (Some((column, a)), Some((_, b)), _) => DateOrderDecision::Ambiguous {
            column,
            example: a.clone(),
            detail: format!("the file has both \"{a}\" (day first) and \"{b}\" (month first); "),
        },
        (Some(_), None, _) => DateOrderDecision::Decided(Some(DateOrder::Dmy)),
        (None, Some(_), _) => DateOrderDecision::Decided(Some(DateOrder::Mdy)),
        (None, None, Some((column, example))) => DateOrderDecision::Ambiguous {
            column,
            example,
            detail: "no day above 12 in the first rows decides it; ".to_string(),
        },
        (None, None, None) => DateOrderDecision::Decided(if dotted {
            Some(DateOrder::Dmy)
        } else if iso {
            Some(DateOrder::Ymd)
        } else {
            None
        }),
    }
}

/// Picks the delimiter: the one under which a header is found, preferring more matched
/// fields, then rows whose width equals the header's.
pub(crate) fn choose_delimiter(
    kind: Kind,
    sample: &[u8],
    guess: EncodingGuess,
    complete: bool,
    table: &HeaderTable,
    header_line: Option<u64>,
) -> (u8, Vec<SampleRow>, Option<usize>) {
    type Candidate = ((bool, usize, usize), u8, Vec<SampleRow>, Option<usize>);
    let mut best: Option<Candidate> = None;
    for delimiter in [b';', b',', b'\t', b'|'] {
        let rows = sample_rows(sample, guess.skip, delimiter, guess.encoding, complete);
        let header = find_header(kind, &rows, table, header_line);
        let key = match header {
            Some(h) => {
                let width = rows[h].cells.len();
                let score = table.score(kind, &rows[h].cells).0;
                let consistent = rows[h + 1..]
                    .iter()
                    .filter(|r| r.cells.len() == width)
                    .count();
                (true, score * 1000 + consistent.min(999), width)
            }
            None => {
                let widest = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
                (false, 0, widest)
            }
        };
        if best.as_ref().is_none_or(|(k, ..)| key > *k) {
            best = Some((key, delimiter, rows, header));
        }
    }
    let (_, delimiter, rows, header) = best.expect("four delimiters were tried");
    (delimiter, rows, header)
}

/// The money and date values of the sample rows after the header, per column, for the
/// decimal and date-order decisions.
pub(crate) fn sample_values<'a>(
    kind: Kind,
    plans: &[FieldPlan],
    header: &[String],
    data: &'a [SampleRow],
) -> (Vec<&'a str>, Vec<(String, Vec<&'a str>)>) {
    let specs = fields(kind);
    let mut money = Vec::new();
    let mut dates = Vec::new();
    for (idx, spec) in specs.iter().enumerate() {
        for &col in &plans[idx].cols {
            let values = data
                .iter()
                .filter_map(|r| r.cells.get(col))
                .map(|s| s.trim_start_matches('\''))
                .filter(|s| !s.is_empty());
            match spec.ty {
                FieldType::Money => money.extend(values),
                FieldType::Date | FieldType::Instant if !plans[idx].joined => {
                    dates.push((
                        header.get(col).cloned().unwrap_or_default(),
                        values.collect(),
                    ));
                }
                _ => {}
            }
        }
    }
    (money, dates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_told_apart_by_utf8_validity() {
        let cases: &[(&[u8], bool, TextEncoding, bool)] = &[
            (b"Name;Ort\nA;B\n", true, TextEncoding::Utf8, true),
            ("Name;Straße\n".as_bytes(), true, TextEncoding::Utf8, false),
            (b"\xEF\xBB\xBFName\n", true, TextEncoding::Utf8Bom, true),
            (b"Name;Stra\xDFe\n", true, TextEncoding::Windows1252, false),
            // A multi-byte character cut at the end of the sample is still UTF-8 ...
            (b"Name;Stra\xC3", false, TextEncoding::Utf8, false),
            // ... but not when the file really ends there.
            (b"Name;Stra\xC3", true, TextEncoding::Windows1252, false),
        ];
        for (sample, complete, encoding, ascii) in cases {
            let guess = sniff_encoding(sample, *complete).unwrap();
            assert_eq!(guess.encoding, *encoding, "{sample:?}");
            assert_eq!(guess.ascii_only, *ascii, "{sample:?}");
        }
        assert!(sniff_encoding(b"\xFF\xFEN\0", true).is_err());
    }

    #[test]
    fn windows_1252_fields_decode_to_the_right_characters() {
        let cases: &[(&[u8], &str)] = &[
            (b"Stra\xDFe", "Straße"),
            (b"\x80 5", "€ 5"),
            (b"M\xFCller", "Müller"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                decode_field(bytes, TextEncoding::Windows1252, false).unwrap(),
                *expected
            );
        }
        assert_eq!(decode_field(b"M\xFCller", TextEncoding::Utf8, false), None);
        assert_eq!(
            decode_field(b"M\xFCller", TextEncoding::Utf8, true).unwrap(),
            "Müller"
        );
    }

    #[test]
    fn the_decimal_separator_is_decided_from_all_money_values() {
        type Case<'a> = (&'a [&'a str], Option<u8>, DecimalSep, Option<char>, bool);
        let cases: &[Case] = &[
            (
                &["1.234,56", "12,00"],
                Some(b','),
                DecimalSep::Comma,
                Some('.'),
                true,
            ),
            (
                &["1,234.56", "12.00"],
                Some(b';'),
                DecimalSep::Point,
                Some(','),
                true,
            ),
            (
                &["1 234,56"],
                Some(b','),
                DecimalSep::Comma,
                Some(' '),
                true,
            ),
            (
                &["-41,00", "63,89"],
                Some(b','),
                DecimalSep::Comma,
                None,
                true,
            ),
            (
                &["125.40", "1,234"],
                Some(b','),
                DecimalSep::Point,
                None,
                true,
            ),
            (
                &["1,234", "1,234"],
                Some(b';'),
                DecimalSep::Comma,
                None,
                false,
            ),
            (&["1,234"], Some(b','), DecimalSep::Point, None, false),
            (
                &["1.234.567"],
                Some(b','),
                DecimalSep::Comma,
                Some('.'),
                true,
            ),
            (&["12"], None, DecimalSep::Point, None, false),
        ];
        for (values, delimiter, decimal, thousands, decided) in cases {
            let got = sniff_decimal(values, *delimiter);
            assert_eq!(got, (*decimal, *thousands, *decided), "{values:?}");
        }
    }

    #[test]
    fn the_date_order_is_decided_from_the_data_or_refused() {
        let col = |values: &[&'static str]| vec![("Datum".to_string(), values.to_vec())];
        let decided = |values: &[&'static str]| match sniff_date_order(&col(values)) {
            DateOrderDecision::Decided(order) => Some(order),
            DateOrderDecision::Ambiguous { .. } => None,
        };
        assert_eq!(
            decided(&["03/04/2022", "13/04/2022"]),
            Some(Some(DateOrder::Dmy))
        );
        assert_eq!(
            decided(&["03/04/2022", "04/13/2022"]),
            Some(Some(DateOrder::Mdy))
        );
        assert_eq!(decided(&["03/04/2022"]), None);
        assert_eq!(decided(&["13/04/2022", "04/13/2022"]), None);
        assert_eq!(decided(&["11.01.2022"]), Some(Some(DateOrder::Dmy)));
        assert_eq!(decided(&["2022-01-11"]), Some(Some(DateOrder::Ymd)));
        assert_eq!(decided(&[]), Some(None));
    }

    #[test]
    fn the_header_is_found_after_a_preamble_and_with_the_right_delimiter() {
        let text = "Export vom 01.02.2022\n\nKundennummer;Name;E-Mail\n1;A;a@example.com\n";
        let guess = sniff_encoding(text.as_bytes(), true).unwrap();
        let table = HeaderTable::any_layout(Kind::Customers, None);
        let (delimiter, rows, header) =
            choose_delimiter(Kind::Customers, text.as_bytes(), guess, true, &table, None);
        assert_eq!(delimiter, b';');
        assert_eq!(rows[header.unwrap()].line, 3);

        let text = "Order ID\tEmail\tOrder Date\tTotal\n1\ta@example.com\t2022-01-01\t5.00\n";
        let guess = sniff_encoding(text.as_bytes(), true).unwrap();
        let table = HeaderTable::any_layout(Kind::Orders, None);
        let (delimiter, rows, header) =
            choose_delimiter(Kind::Orders, text.as_bytes(), guess, true, &table, None);
        assert_eq!(delimiter, b'\t');
        assert_eq!(rows[header.unwrap()].line, 1);
    }
}
