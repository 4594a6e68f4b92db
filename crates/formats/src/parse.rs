//! Amounts, whole numbers, dates, times and yes/no values parsed by hand from the text of
//! one cell, plus the local time zone that turns a wall-clock time into an instant.
//!
//! This is the hot path of every import, so the functions work on `&str` slices and do
//! not allocate. They must never panic on any input (a proptest feeds them arbitrary
//! strings), and they must never guess: a value that is ambiguous under the file's
//! decimal separator or date order is rejected, not reinterpreted. They know nothing about
//! files or columns; the reader turns a `None` or `Err` into a row error with a reason.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc,
};
use serde::Serialize;
use winback_engine::Money;

/// The character between the whole units and the cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecimalSep {
    /// `1.234,56` (German).
    Comma,
    /// `1,234.56` (English).
    Point,
}

impl DecimalSep {
    pub fn as_char(self) -> char {
        match self {
            DecimalSep::Comma => ',',
            DecimalSep::Point => '.',
        }
    }

    fn byte(self) -> u8 {
        self.as_char() as u8
    }

    /// The other of `.` and `,`, which can only be a thousands separator.
    fn other(self) -> u8 {
        match self {
            DecimalSep::Comma => b'.',
            DecimalSep::Point => b',',
        }
    }

    pub fn parse(s: &str) -> Option<DecimalSep> {
        match s.trim() {
            "," | "comma" => Some(DecimalSep::Comma),
            "." | "point" => Some(DecimalSep::Point),
            _ => None,
        }
    }
}

/// The order of day, month and year in dates written with `/` or `-` and a short first
/// part (`03/04/2022`). Dates with dots are always day first, four-digit years first are
/// always ISO, so this only matters for the slash forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    Dmy,
    Mdy,
    Ymd,
}

impl DateOrder {
    pub fn parse(s: &str) -> Option<DateOrder> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dmy" => Some(DateOrder::Dmy),
            "mdy" => Some(DateOrder::Mdy),
            "ymd" => Some(DateOrder::Ymd),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
            DateOrder::Ymd => "ymd",
        }
    }

    /// How a user would write the pattern, for messages.
    pub fn pattern(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dd/mm/yyyy",
            DateOrder::Mdy => "mm/dd/yyyy",
            DateOrder::Ymd => "yyyy-mm-dd",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Amounts and whole numbers
// ---------------------------------------------------------------------------------------

/// A decimal number read as integer hundredths, and whether rounding was needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hundredths {
    value: i64,
    exact: bool,
}

const CURRENCY_TOKENS: [&str; 8] = ["€", "$", "£", "EUR", "USD", "CHF", "GBP", "Fr."];

fn strip_currency(s: &str) -> &str {
    // The common case, a bare number, has a digit (or sign/separator) at both ends.
    let numeric = |c: Option<&u8>| {
        c.is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b',' | b'.'))
    };
    if numeric(s.as_bytes().first()) && numeric(s.as_bytes().last()) {
        return s;
    }
    let mut t = s;
    for token in CURRENCY_TOKENS {
        if let Some(rest) = t.strip_prefix(token) {
            t = rest.trim_start();
        }
        if let Some(rest) = t.strip_suffix(token) {
            t = rest.trim_end();
        }
    }
    t
}

/// Splits a leading or trailing sign (`-12,50`, `12,50-`, `−12,50`) and currency symbols or
/// codes on either side (`€ 12,50`, `12.50 USD`) from the number itself.
fn split_sign(s: &str) -> (bool, &str) {
    let mut t = strip_currency(s.trim());
    let mut negative = false;
    if let Some(rest) = t.strip_prefix('-').or_else(|| t.strip_prefix('−')) {
        negative = true;
        t = rest;
    } else if let Some(rest) = t.strip_prefix('+') {
        t = rest;
    } else if let Some(rest) = t.strip_suffix('-') {
        negative = true;
        t = rest;
    }
    (negative, strip_currency(t.trim()))
}

/// The byte length of a thousands separator at the start of `b`, if there is one. Besides
/// the other of `.`/`,` Excel and banks use spaces, no-break spaces and apostrophes.
fn group_separator_len(b: &[u8], other: u8) -> Option<usize> {
    match b {
        [c, ..] if *c == other || *c == b' ' || *c == b'\'' => Some(1),
        [0xC2, 0xA0, ..] => Some(2), // U+00A0 no-break space
        [0xE2, 0x80, 0xAF | 0x89 | 0x99, ..] => Some(3), // narrow nbsp, thin space, ’
        _ => None,
    }
}

fn parse_hundredths(s: &str, dec: DecimalSep) -> Option<Hundredths> {
    let (negative, body) = split_sign(s);
    let b = body.as_bytes();
    let d = dec.byte();
    let other = dec.other();
    let mut i = 0;
    let mut whole: i64 = 0;
    let mut n_digits = 0usize;
    let mut group_len = 0usize;
    let mut separator: Option<&[u8]> = None;
    let mut n_groups = 0usize;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            n_digits += 1;
            if n_digits > 15 {
                return None;
            }
            whole = whole * 10 + i64::from(c - b'0');
            group_len += 1;
            i += 1;
        } else if c == d {
            break;
        } else if let Some(len) = group_separator_len(&b[i..], other) {
            let sep = &b[i..i + len];
            if group_len == 0 {
                return None;
            }
            match separator {
                None if group_len <= 3 => separator = Some(sep),
                // Every group after the first has exactly three digits, all with one separator.
                Some(prev) if prev == sep && group_len == 3 => {}
                _ => return None,
            }
            n_groups += 1;
            group_len = 0;
            i += len;
        } else {
            return None;
        }
    }
    if n_groups > 0 && group_len != 3 {
        return None;
    }
    let mut cents: i64 = 0;
    let mut exact = true;
    let mut n_fraction = 0usize;
    if i < b.len() {
        // At the decimal separator.
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            let digit = i64::from(b[i] - b'0');
            match n_fraction {
                0 => cents += digit * 10,
                1 => cents += digit,
                // Commercial rounding: the third digit decides, half away from zero.
                2 => {
                    if digit >= 5 {
                        cents += 1;
                    }
                    if digit != 0 {
                        exact = false;
                    }
                }
                _ => {
                    if digit != 0 {
                        exact = false;
                    }
                }
            }
            n_fraction += 1;
            i += 1;
        }
        if i == start || i != b.len() || n_fraction > 12 {
            return None;
        }
    }
    if n_digits == 0 && n_fraction == 0 {
        return None;
    }
    let value = whole * 100 + cents;
    Some(Hundredths {
        value: if negative { -value } else { value },
        exact,
    })
}

/// Parses an amount such as `1.234,56`, `1 234,56`, `-41,00`, `€ 12,50` (with
/// [`DecimalSep::Comma`]) or `1,234.56`, `125.40` (with [`DecimalSep::Point`]) into exact
/// cents. More than two decimals are rounded half away from zero. Thousands separators
/// must group by three, so under a decimal comma `1.5` is rejected rather than read as
/// fifteen.
pub fn parse_money(s: &str, dec: DecimalSep) -> Option<Money> {
    parse_hundredths(s, dec).map(|h| Money::from_cents(h.value))
}

/// Parses a whole number (`3`, `1.000`, `2,00` under a decimal comma). A fraction other than
/// zero is rejected.
pub fn parse_integer(s: &str, dec: DecimalSep) -> Option<i64> {
    let h = parse_hundredths(s, dec)?;
    if h.exact && h.value % 100 == 0 {
        Some(h.value / 100)
    } else {
        None
    }
}

fn format_grouped(m: Money, dec: DecimalSep, grouping: Option<char>) -> String {
    let cents = m.cents();
    let abs = cents.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut out = String::with_capacity(whole.len() + 8);
    if cents < 0 {
        out.push('-');
    }
    for (idx, ch) in whole.chars().enumerate() {
        if let Some(g) = grouping
            && idx > 0
            && (whole.len() - idx).is_multiple_of(3)
        {
            out.push(g);
        }
        out.push(ch);
    }
    out.push(dec.as_char());
    let fraction = abs % 100;
    out.push(char::from(b'0' + (fraction / 10) as u8));
    out.push(char::from(b'0' + (fraction % 10) as u8));
    out
}

/// `1.234,56` — German with thousands separators.
pub fn format_money_de(m: Money) -> String {
    format_grouped(m, DecimalSep::Comma, Some('.'))
}

/// `1,234.56` — English with thousands separators.
pub fn format_money_en(m: Money) -> String {
    format_grouped(m, DecimalSep::Point, Some(','))
}

/// `1234,56` — as Excel writes a plain number cell into a German CSV.
pub fn format_money_plain(m: Money, dec: DecimalSep) -> String {
    format_grouped(m, dec, None)
}

// ---------------------------------------------------------------------------------------
// Dates and times
// ---------------------------------------------------------------------------------------

/// Why a date or time did not parse; the reader turns it into a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not shaped like any date the importer knows.
    Shape,
    /// Shaped like a date, but the day does not exist (`31.02.2022`).
    Date,
    /// The date is fine, the time does not exist (`29:18:53`).
    Time,
    /// `03/04/2022` with no file-wide date order to decide it.
    AmbiguousOrder,
}

/// A date, an optional wall-clock time and an optional UTC offset in seconds, exactly as
/// written in the cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeParts {
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub offset_secs: Option<i32>,
    /// Which separator and order the date used, for the file-wide date-order decision.
    pub shape: DateShape,
}

/// How the date part of a value was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateShape {
    /// `11.01.2022` or `11.01.22`.
    Dotted,
    /// `2022-01-11` or `2022/01/11`.
    YearFirst,
    /// `11/01/2022` or `11-01-2022`: needs a date order.
    Slashed { first: u32, second: u32 },
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    /// Reads up to `max` ASCII digits; returns the value and how many were read.
    fn digits(&mut self, max: usize) -> (u32, usize) {
        let mut value = 0u32;
        let mut n = 0;
        while n < max {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    value = value * 10 + u32::from(c - b'0');
                    n += 1;
                    self.i += 1;
                }
                _ => break,
            }
        }
        (value, n)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) -> usize {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        self.i - start
    }

    fn rest(&self) -> &[u8] {
        &self.b[self.i.min(self.b.len())..]
    }
}

/// Two-digit years: `00`–`69` are 2000–2069, `70`–`99` are 1970–1999.
fn expand_year(yy: u32) -> i32 {
    if yy < 70 {
        2000 + yy as i32
    } else {
        1900 + yy as i32
    }
}

/// Parses `dd.mm.yyyy`, `dd.mm.yy`, ISO 8601 (`2022-01-11`, `2022-01-11T04:32:31Z`,
/// `2022-01-11 04:32:31 -0500`, `+01:00`), and `d/m/y` or `m/d/y` with the given order,
/// each with or without a time (`HH:MM` or `HH:MM:SS[.fff]`) and offset.
pub fn parse_date_time(s: &str, order: Option<DateOrder>) -> Result<DateTimeParts, DateError> {
    let mut c = Cursor {
        b: s.trim().as_bytes(),
        i: 0,
    };
    let (n1, l1) = c.digits(4);
    let sep = match c.peek() {
        Some(sep @ (b'.' | b'-' | b'/')) if l1 > 0 => sep,
        _ => return Err(DateError::Shape),
    };
    c.i += 1;
    let (n2, l2) = c.digits(2);
    if l2 == 0 || !c.eat(sep) {
        return Err(DateError::Shape);
    }
    let (n3, l3) = c.digits(4);
    let (year, month, day, shape) = if l1 == 4 {
        if l3 == 0 || l3 > 2 {
            return Err(DateError::Shape);
        }
        (n1 as i32, n2, n3, DateShape::YearFirst)
    } else {
        if l1 > 2 {
            return Err(DateError::Shape);
        }
        let year = match l3 {
            2 => expand_year(n3),
            4 => n3 as i32,
            _ => return Err(DateError::Shape),
        };
        if sep == b'.' {
            (year, n2, n1, DateShape::Dotted)
        } else {
            let shape = DateShape::Slashed {
                first: n1,
                second: n2,
            };
            match order {
                Some(DateOrder::Dmy) => (year, n2, n1, shape),
                Some(DateOrder::Mdy) => (year, n1, n2, shape),
                // A file-wide order of "ymd" says nothing about `03/04/2022`; decide by value.
                Some(DateOrder::Ymd) | None => {
                    if n1 > 12 && n2 <= 12 {
                        (year, n2, n1, shape)
                    } else if n2 > 12 && n1 <= 12 {
                        (year, n1, n2, shape)
                    } else if n1 > 12 {
                        return Err(DateError::Date);
                    } else {
                        return Err(DateError::AmbiguousOrder);
                    }
                }
            }
        }
    };
    // A trailing dot after the year (`11.01.2022.`) is not a date.
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or(DateError::Date)?;
    let mut parts = DateTimeParts {
        date,
        time: None,
        offset_secs: None,
        shape,
    };
    if c.at_end() {
        return Ok(parts);
    }
    let n_spaces = c.skip_spaces();
    if n_spaces == 0 && !c.eat(b'T') {
        return Err(DateError::Shape);
    }
    if c.at_end() {
        return Ok(parts);
    }
    let (hour, lh) = c.digits(2);
    if lh == 0 || !c.eat(b':') {
        return Err(DateError::Shape);
    }
    let (minute, lm) = c.digits(2);
    if lm != 2 {
        return Err(DateError::Shape);
    }
    let mut second = 0;
    let mut nanos = 0u32;
    if c.eat(b':') {
        let (sec, ls) = c.digits(2);
        if ls != 2 {
            return Err(DateError::Shape);
        }
        second = sec;
        if c.peek() == Some(b'.') || c.peek() == Some(b',') {
            c.i += 1;
            let (fraction, lf) = c.digits(9);
            if lf == 0 {
                return Err(DateError::Shape);
            }
            nanos = fraction * 10u32.pow(9 - lf as u32);
            // Digits beyond nanoseconds carry no meaning for an import.
            while matches!(c.peek(), Some(d) if d.is_ascii_digit()) {
                c.i += 1;
            }
        }
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos).ok_or(DateError::Time)?;
    parts.time = Some(time);
    c.skip_spaces();
    if c.at_end() {
        return Ok(parts);
    }
    parts.offset_secs = Some(parse_offset(c.rest()).ok_or(DateError::Shape)?);
    Ok(parts)
}

/// `Z`, `+01:00`, `-0500`, `+01`, and the zone names German exports print (`CET`, `MESZ`).
fn parse_offset(b: &[u8]) -> Option<i32> {
    match b {
        b"Z" | b"UTC" | b"GMT" => return Some(0),
        b"CET" | b"MEZ" => return Some(3600),
        b"CEST" | b"MESZ" => return Some(7200),
        _ => {}
    }
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let mut c = Cursor { b, i: 1 };
    let (hours, lh) = c.digits(2);
    if lh != 2 {
        return None;
    }
    c.eat(b':');
    let (minutes, lm) = c.digits(2);
    if !(lm == 0 || lm == 2) || !c.at_end() || hours > 14 || minutes > 59 {
        return None;
    }
    Some(sign * (hours as i32 * 3600 + minutes as i32 * 60))
}

/// A calendar date; a time, if written, is ignored (calendar-date fields stay dates).
pub fn parse_date(s: &str, order: Option<DateOrder>) -> Result<NaiveDate, DateError> {
    parse_date_time(s, order).map(|p| p.date)
}

/// An instant in UTC. A value without an offset is wall-clock time in `zone`; a date
/// without a time is local midnight.
pub fn parse_instant(
    s: &str,
    order: Option<DateOrder>,
    zone: LocalZone,
) -> Result<DateTime<Utc>, DateError> {
    parse_date_time(s, order).map(|p| parts_to_utc(p, zone))
}

pub fn parts_to_utc(p: DateTimeParts, zone: LocalZone) -> DateTime<Utc> {
    let local = p.date.and_time(p.time.unwrap_or(NaiveTime::MIN));
    match p.offset_secs {
        Some(offset) => (local - TimeDelta::seconds(i64::from(offset))).and_utc(),
        None => zone.local_to_utc(local),
    }
}

/// `dd.mm.yyyy`.
pub fn format_date_de(d: NaiveDate) -> String {
    format!("{:02}.{:02}.{:04}", d.day(), d.month(), d.year())
}

/// `dd.mm.yyyy HH:MM:SS` in the given zone's wall-clock time.
pub fn format_instant_de(t: DateTime<Utc>, zone: LocalZone) -> String {
    let local = zone.utc_to_local(t);
    format!(
        "{} {:02}:{:02}:{:02}",
        format_date_de(local.date()),
        local.hour(),
        local.minute(),
        local.second()
    )
}

// ---------------------------------------------------------------------------------------
// Time zone
// ---------------------------------------------------------------------------------------

/// The zone in which instants without an offset were written.
///
/// `EuropeBerlin` applies the EU summer-time rule by hand (from the last Sunday of March,
/// 01:00 UTC, to the last Sunday of October, 01:00 UTC), which has held since 1996; it is
/// applied to earlier years as well. In the autumn hour that occurs twice, the earlier
/// (summer-time) instant is chosen; a time in the skipped spring hour is read as winter time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocalZone {
    #[default]
    EuropeBerlin,
    Utc,
    Fixed(FixedOffset),
}

fn last_sunday_0100_utc(year: i32, month: u32) -> Option<NaiveDateTime> {
    // A closed form for the last Sunday of March/October, exact for 1900–2099 (a test checks
    // it against the calendar); it saves a calendar computation per imported instant.
    if (1900..2100).contains(&year) && (month == 3 || month == 10) {
        let shift = if month == 3 { 4 } else { 1 };
        let day = 31 - ((5 * year / 4 + shift) % 7) as u32;
        return NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(1, 0, 0);
    }
    let last_day = NaiveDate::from_ymd_opt(year, month, 31)?;
    let back = last_day.weekday().num_days_from_sunday();
    let sunday = last_day - TimeDelta::days(i64::from(back));
    sunday.and_hms_opt(1, 0, 0)
}

/// Whether EU summer time is in force at this UTC instant.
fn is_eu_summer_time(utc: NaiveDateTime) -> bool {
    let year = utc.year();
    match (
        last_sunday_0100_utc(year, 3),
        last_sunday_0100_utc(year, 10),
    ) {
        (Some(start), Some(end)) => start <= utc && utc < end,
        _ => false,
    }
}

impl LocalZone {
    /// `Europe/Berlin`, `UTC` (or `Z`), or a fixed offset such as `+02:00`.
    pub fn parse(s: &str) -> Option<LocalZone> {
        let t = s.trim();
        match t {
            "Europe/Berlin" => Some(LocalZone::EuropeBerlin),
            "UTC" | "Etc/UTC" | "Z" => Some(LocalZone::Utc),
            _ => {
                let secs = parse_offset(t.as_bytes())?;
                FixedOffset::east_opt(secs).map(LocalZone::Fixed)
            }
        }
    }

    /// The offset from UTC in seconds at a UTC instant.
    pub fn offset_secs_at_utc(self, utc: NaiveDateTime) -> i32 {
        match self {
            LocalZone::EuropeBerlin => {
                if is_eu_summer_time(utc) {
                    7200
                } else {
                    3600
                }
            }
            LocalZone::Utc => 0,
            LocalZone::Fixed(offset) => offset.local_minus_utc(),
        }
    }

    pub fn local_to_utc(self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            LocalZone::EuropeBerlin => {
                let summer = local - TimeDelta::hours(2);
                if is_eu_summer_time(summer) {
                    summer.and_utc()
                } else {
                    (local - TimeDelta::hours(1)).and_utc()
                }
            }
            LocalZone::Utc => local.and_utc(),
            LocalZone::Fixed(offset) => {
                (local - TimeDelta::seconds(i64::from(offset.local_minus_utc()))).and_utc()
            }
        }
    }

    pub fn utc_to_local(self, utc: DateTime<Utc>) -> NaiveDateTime {
        let naive = utc.naive_utc();
        naive + TimeDelta::seconds(i64::from(self.offset_secs_at_utc(naive)))
    }
}

impl FromStr for LocalZone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LocalZone::parse(s).ok_or_else(|| {
            format!("'{s}' is not a time zone winback knows; use Europe/Berlin, UTC or an offset like +02:00")
        })
    }
}

impl fmt::Display for LocalZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalZone::EuropeBerlin => f.write_str("Europe/Berlin"),
            LocalZone::Utc => f.write_str("UTC"),
            LocalZone::Fixed(offset) => write!(f, "{offset}"),
        }
    }
}

impl Serialize for LocalZone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

// ---------------------------------------------------------------------------------------
// Yes/no
// ---------------------------------------------------------------------------------------

/// `ja/nein`, `yes/no`, `true/false`, `wahr/falsch`, `j/n`, `y/n`, `1/0`, `x` (ticked).
pub fn parse_bool(s: &str) -> Option<bool> {
    const TRUE: [&str; 9] = ["ja", "j", "yes", "y", "true", "wahr", "1", "x", "✓"];
    const FALSE: [&str; 8] = ["nein", "n", "no", "false", "falsch", "0", "-", "keine"];
    let t = s.trim();
    if TRUE.iter().any(|w| t.eq_ignore_ascii_case(w)) {
        Some(true)
    } else if FALSE.iter().any(|w| t.eq_ignore_ascii_case(w)) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(s: &str, dec: DecimalSep) -> Option<i64> {
        parse_money(s, dec).map(Money::cents)
    }

    #[test]
    fn amounts_parse_under_a_decimal_comma() {
        use DecimalSep::Comma;
        let cases: &[(&str, Option<i64>)] = &[
            ("1.234,56", Some(123456)),
            ("1234,56", Some(123456)),
            ("1 234,56", Some(123456)),
            ("1\u{a0}234,56", Some(123456)),
            ("-41,00", Some(-4100)),
            ("41,00-", Some(-4100)),
            ("−5,5", Some(-550)),
            ("+3", Some(300)),
            ("€ 12,50", Some(1250)),
            ("12,50 €", Some(1250)),
            ("EUR 1.000,00", Some(100000)),
            ("0,005", Some(1)),
            ("0,004", Some(0)),
            ("-0,005", Some(-1)),
            (",5", Some(50)),
            ("1.234", Some(123400)),
            ("1.234.567", Some(123456700)),
            ("12.34", None),
            ("1.5", None),
            ("1,2,3", None),
            ("1.23.456", None),
            ("1.234 567", None),
            ("", None),
            ("-", None),
            ("abc", None),
            ("12,", None),
            ("12,5a", None),
            ("1234567890123456", None),
        ];
        for (input, expected) in cases {
            assert_eq!(money(input, Comma), *expected, "input {input:?}");
        }
    }

    #[test]
    fn amounts_parse_under_a_decimal_point() {
        use DecimalSep::Point;
        let cases: &[(&str, Option<i64>)] = &[
            ("1,234.56", Some(123456)),
            ("125.40", Some(12540)),
            ("1,234", Some(123400)),
            ("$95.4", Some(9540)),
            ("1'234.50", Some(123450)),
            ("12,5", None),
            ("1.234,56", None),
            ("0.00", Some(0)),
        ];
        for (input, expected) in cases {
            assert_eq!(money(input, Point), *expected, "input {input:?}");
        }
    }

    #[test]
    fn whole_numbers_reject_fractions() {
        let cases: &[(&str, DecimalSep, Option<i64>)] = &[
            ("3", DecimalSep::Comma, Some(3)),
            ("2,00", DecimalSep::Comma, Some(2)),
            ("2,004", DecimalSep::Comma, None),
            ("2,5", DecimalSep::Comma, None),
            ("1.000", DecimalSep::Comma, Some(1000)),
            ("-4", DecimalSep::Point, Some(-4)),
        ];
        for (input, dec, expected) in cases {
            assert_eq!(parse_integer(input, *dec), *expected, "input {input:?}");
        }
    }

    #[test]
    fn amounts_format_in_both_locales() {
        let m = Money::from_cents(-123456789);
        assert_eq!(format_money_de(m), "-1.234.567,89");
        assert_eq!(format_money_en(m), "-1,234,567.89");
        assert_eq!(
            format_money_plain(Money::from_cents(5), DecimalSep::Comma),
            "0,05"
        );
        assert_eq!(format_money_de(Money::from_cents(100000)), "1.000,00");
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_parse_in_every_supported_shape() {
        let cases: &[(&str, Option<DateOrder>, Result<NaiveDate, DateError>)] = &[
            ("11.01.2022", None, Ok(ymd(2022, 1, 11))),
            ("1.1.2022", None, Ok(ymd(2022, 1, 1))),
            ("11.01.22", None, Ok(ymd(2022, 1, 11))),
            ("11.01.69", None, Ok(ymd(2069, 1, 11))),
            ("11.01.70", None, Ok(ymd(1970, 1, 11))),
            ("2022-01-11", None, Ok(ymd(2022, 1, 11))),
            ("2022/01/11", None, Ok(ymd(2022, 1, 11))),
            ("03/04/2022", Some(DateOrder::Dmy), Ok(ymd(2022, 4, 3))),
            ("03/04/2022", Some(DateOrder::Mdy), Ok(ymd(2022, 3, 4))),
            ("03/04/2022", None, Err(DateError::AmbiguousOrder)),
            ("13/04/2022", None, Ok(ymd(2022, 4, 13))),
            ("04/13/2022", None, Ok(ymd(2022, 4, 13))),
            ("31.02.2022", None, Err(DateError::Date)),
            ("29.02.2024", None, Ok(ymd(2024, 2, 29))),
            ("29.02.2023", None, Err(DateError::Date)),
            ("2022-13-01", None, Err(DateError::Date)),
            ("11.01.2022 29:18:53", None, Err(DateError::Time)),
            ("11.01.2022 12:60", None, Err(DateError::Time)),
            ("11.01.2022x", None, Err(DateError::Shape)),
            ("11.01.202", None, Err(DateError::Shape)),
            ("2022-01", None, Err(DateError::Shape)),
            ("", None, Err(DateError::Shape)),
            ("heute", None, Err(DateError::Shape)),
            ("11-01-2022", Some(DateOrder::Dmy), Ok(ymd(2022, 1, 11))),
        ];
        for (input, order, expected) in cases {
            assert_eq!(parse_date(input, *order), *expected, "input {input:?}");
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn instants_respect_offsets_and_the_local_zone() {
        let berlin = LocalZone::EuropeBerlin;
        let cases: &[(&str, &str)] = &[
            ("2022-01-11 04:32:31 -0500", "2022-01-11T09:32:31Z"),
            ("2022-01-11T04:32:31Z", "2022-01-11T04:32:31Z"),
            ("2022-01-11T04:32:31+01:00", "2022-01-11T03:32:31Z"),
            ("2022-01-11T04:32:31.250+0100", "2022-01-11T03:32:31.250Z"),
            ("11.01.2022 10:00:00", "2022-01-11T09:00:00Z"),
            ("11.07.2022 10:00", "2022-07-11T08:00:00Z"),
            ("11.07.2022", "2022-07-10T22:00:00Z"),
            ("15.10.2019 20:32:01 CEST", "2019-10-15T18:32:01Z"),
            // Last Sunday of March 2022 is the 27th: 02:30 does not exist, read as winter time.
            ("27.03.2022 02:30:00", "2022-03-27T01:30:00Z"),
            ("27.03.2022 01:59:59", "2022-03-27T00:59:59Z"),
            ("27.03.2022 03:00:00", "2022-03-27T01:00:00Z"),
            // Last Sunday of October 2022 is the 30th: 02:30 happens twice, the first is taken.
            ("30.10.2022 02:30:00", "2022-10-30T00:30:00Z"),
            ("30.10.2022 03:00:00", "2022-10-30T02:00:00Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_instant(input, None, berlin),
                Ok(utc(expected)),
                "input {input:?}"
            );
        }
        assert_eq!(
            parse_instant("11.01.2022 10:00:00", None, LocalZone::Utc),
            Ok(utc("2022-01-11T10:00:00Z"))
        );
        assert_eq!(
            parse_instant(
                "11.01.2022 10:00:00",
                None,
                LocalZone::parse("+02:00").unwrap()
            ),
            Ok(utc("2022-01-11T08:00:00Z"))
        );
    }

    #[test]
    fn berlin_wall_clock_formatting_follows_summer_time() {
        let z = LocalZone::EuropeBerlin;
        assert_eq!(
            format_instant_de(utc("2022-07-11T08:00:00Z"), z),
            "11.07.2022 10:00:00"
        );
        assert_eq!(
            format_instant_de(utc("2022-01-11T08:00:00Z"), z),
            "11.01.2022 09:00:00"
        );
        assert_eq!(
            format_instant_de(utc("2022-03-27T00:59:59Z"), z),
            "27.03.2022 01:59:59"
        );
        assert_eq!(
            format_instant_de(utc("2022-03-27T01:00:00Z"), z),
            "27.03.2022 03:00:00"
        );
    }

    #[test]
    fn the_closed_form_last_sunday_matches_the_calendar() {
        for year in 1900..2100 {
            for month in [3, 10] {
                let last_day = NaiveDate::from_ymd_opt(year, month, 31).unwrap();
                let back = last_day.weekday().num_days_from_sunday();
                let expected = (last_day - TimeDelta::days(i64::from(back))).and_hms_opt(1, 0, 0);
                assert_eq!(
                    last_sunday_0100_utc(year, month),
                    expected,
                    "{year}-{month}"
                );
            }
        }
    }

    #[test]
    fn zones_parse_from_their_names() {
        assert_eq!(
            LocalZone::parse("Europe/Berlin"),
            Some(LocalZone::EuropeBerlin)
        );
        assert_eq!(LocalZone::parse("UTC"), Some(LocalZone::Utc));
        assert_eq!(
            LocalZone::parse("-05:30").map(|z| z.to_string()),
            Some("-05:30".to_string())
        );
        assert_eq!(LocalZone::parse("Mars/Olympus"), None);
    }

    #[test]
    fn booleans_accept_german_and_english_words() {
        let cases: &[(&str, Option<bool>)] = &[
            ("ja", Some(true)),
            ("JA", Some(true)),
            ("Yes", Some(true)),
            ("x", Some(true)),
            ("1", Some(true)),
            ("wahr", Some(true)),
            ("nein", Some(false)),
            ("no", Some(false)),
            ("0", Some(false)),
            ("FALSE", Some(false)),
            ("vielleicht", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_bool(input), *expected, "input {input:?}");
        }
    }
}
