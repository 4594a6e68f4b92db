//! German and English: message catalogues (`i18n/de.toml`, `i18n/en.toml`, embedded) and
//! the number, money and date formats of each language.
//!
//! Every UI string comes from a catalogue through [`Tr::t`]; a missing key shows the key
//! itself (visible, never a panic) and fails the tidy tests, which check that both
//! catalogues hold the same keys with the same placeholders and that every key a template
//! or handler uses exists.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use winback_formats::LocalZone;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The best language for an `Accept-Language` header (German when none fits: the
    /// product's home market).
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.unwrap_or("").split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary)
                && best.is_none_or(|(best_q, _)| q > best_q)
            {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::De, |(_, lang)| lang)
    }
}

pub const DE_TOML: &str = include_str!("../i18n/de.toml");
pub const EN_TOML: &str = include_str!("../i18n/en.toml");

pub type Catalogue = BTreeMap<String, String>;

/// A piece of a message template: literal text or a `{name}` placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Name(&'a str),
}

/// Splits a template at its `{name}` placeholders (a name is letters, digits and `_`; any
/// other brace is text).
pub fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut at = 0;
    while let Some(open) = template[at..].find('{').map(|i| at + i) {
        let close = template[open + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map(|i| open + 1 + i);
        match close {
            Some(close) if close > open + 1 && template[close..].starts_with('}') => {
                if open > text_start {
                    out.push(Piece::Text(&template[text_start..open]));
                }
                out.push(Piece::Name(&template[open + 1..close]));
                text_start = close + 1;
                at = close + 1;
            }
            _ => at = open + 1,
        }
    }
    if text_start < template.len() {
        out.push(Piece::Text(&template[text_start..]));
    }
    out
}

/// Matches `text` against `template`, returning each placeholder's value. A value runs to
/// the first occurrence of the literal after it, or to the end of the text when the
/// literal ends the template (it must then be the text's suffix); two adjacent
/// placeholders never match.
pub fn match_template<'a, 't>(template: &'a str, text: &'t str) -> Option<Vec<(&'a str, &'t str)>> {
    let parts = pieces(template);
    let mut values = Vec::new();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        match *part {
            Piece::Text(literal) => rest = rest.strip_prefix(literal)?,
            Piece::Name(name) => {
                let end = match parts.get(i + 1) {
                    None => rest.len(),
                    Some(Piece::Text(next)) if i + 2 == parts.len() => {
                        rest.strip_suffix(next)?.len()
                    }
                    Some(Piece::Text(next)) => rest.find(next)?,
                    Some(Piece::Name(_)) => return None,
                };
                values.push((name, &rest[..end]));
                rest = &rest[end..];
            }
        }
    }
    rest.is_empty().then_some(values)
}

/// Flattens nested tables into dotted keys (`[nav] overview` -> `nav.overview`).
pub fn parse_catalogue(text: &str) -> Result<Catalogue, String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Catalogue) -> Result<(), String> {
        for (key, value) in table {
            let full = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::String(s) => {
                    out.insert(full, s.clone());
                }
                toml::Value::Table(t) => walk(&full, t, out)?,
                _ => return Err(format!("{full}: only strings and tables are allowed")),
            }
        }
        Ok(())
    }
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Catalogue::new();
    walk("", &table, &mut out)?;
    Ok(out)
}

fn catalogue(lang: Lang) -> &'static Catalogue {
    static DE: OnceLock<Catalogue> = OnceLock::new();
    static EN: OnceLock<Catalogue> = OnceLock::new();
    match lang {
        Lang::De => DE.get_or_init(|| parse_catalogue(DE_TOML).expect("de.toml is valid (tested)")),
        Lang::En => EN.get_or_init(|| parse_catalogue(EN_TOML).expect("en.toml is valid (tested)")),
    }
}

/// Translations and formats of one language; templates call `tr.t("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
    messages: &'static Catalogue,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr {
            lang,
            messages: catalogue(lang),
        }
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// The message for `key`, or the key itself when it is missing.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        self.messages.get(key).map_or(key, String::as_str)
    }

    /// The column of a rejected row: the names the store gives its own checks (`order id`,
    /// `customer`, ...) from the `column.*` messages, a file's own header as it is.
    pub fn column(&self, name: &str) -> String {
        self.message_or(&format!("column.{}", name.replace(' ', "_")), name)
    }

    /// A code the store keeps in English (`party` `b2c`, `consent_channel` `email`,
    /// `consent_status` `granted`, `model` `bgnbd`) in this language, from the `code.GROUP.CODE` messages; a
    /// code without a message is shown as it is.
    pub fn label(&self, group: &str, code: &str) -> String {
        self.message_or(&format!("code.{group}.{code}"), code)
    }

    fn message_or(&self, key: &str, fallback: &str) -> String {
        self.messages
            .get(key)
            .map_or_else(|| fallback.to_owned(), String::clone)
    }

    /// An importer's reason for rejecting a row (worded in English for the command line,
    /// the reject file and the API) in this language: the `reason.*` template of the
    /// English catalogue that matches it with the most literal text names the message, and
    /// its placeholders' values fill this language's template. A reason no template
    /// matches is shown as it is.
    pub fn reason(&self, english: &str) -> String {
        if self.lang == Lang::En {
            return english.to_owned();
        }
        // (literal length, message key, placeholder values) of the best match so far.
        type Match<'a> = (usize, &'a str, Vec<(&'a str, &'a str)>);
        let mut best: Option<Match> = None;
        for (key, template) in catalogue(Lang::En).range::<str, _>((
            std::ops::Bound::Included("reason."),
            std::ops::Bound::Unbounded,
        )) {
            if !key.starts_with("reason.") {
                break;
            }
            if let Some(values) = match_template(template, english) {
                let literal = pieces(template)
                    .iter()
                    .map(|p| match p {
                        Piece::Text(t) => t.len(),
                        Piece::Name(_) => 0,
                    })
                    .sum();
                if best.as_ref().is_none_or(|b| literal > b.0) {
                    best = Some((literal, key, values));
                }
            }
        }
        let Some((_, key, values)) = best else {
            return english.to_owned();
        };
        pieces(self.t(key))
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t,
                Piece::Name(n) => values
                    .iter()
                    .find(|(name, _)| *name == n)
                    .map_or("", |(_, v)| v),
            })
            .collect()
    }

    /// The message with `{name}` placeholders replaced.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut out = self.t(key).to_owned();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    pub fn num(&self, n: impl Count) -> String {
        group(n.as_i64(), self.thousands())
    }

    /// `1.234,56 €` / `€1,234.56`
    pub fn money(&self, cents: impl Borrow<i64>) -> String {
        let cents = *cents.borrow();
        let sign = if cents < 0 { "-" } else { "" };
        let abs = cents.unsigned_abs();
        let units = group((abs / 100) as i64, self.thousands());
        let frac = abs % 100;
        match self.lang {
            Lang::De => format!("{sign}{units},{frac:02}\u{a0}€"),
            Lang::En => format!("{sign}€{units}.{frac:02}"),
        }
    }

    /// `24.11.2026` / `2026-11-24`
    pub fn date(&self, date: impl Borrow<NaiveDate>) -> String {
        let date = *date.borrow();
        match self.lang {
            Lang::De => date.format("%d.%m.%Y").to_string(),
            Lang::En => date.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn opt_date(&self, date: impl Borrow<Option<NaiveDate>>) -> String {
        date.borrow().map(|d| self.date(d)).unwrap_or_default()
    }

    /// An instant as a local date and time in the company's zone.
    pub fn datetime(&self, at: impl Borrow<DateTime<Utc>>) -> String {
        let at = *at.borrow();
        let offset = LocalZone::EuropeBerlin.offset_secs_at_utc(at.naive_utc());
        let local = at.naive_utc() + chrono::Duration::seconds(i64::from(offset));
        match self.lang {
            Lang::De => local.format("%d.%m.%Y %H:%M").to_string(),
            Lang::En => local.format("%Y-%m-%d %H:%M").to_string(),
        }
    }

    /// An instant's local calendar date.
    pub fn day(&self, at: impl Borrow<DateTime<Utc>>) -> String {
        let at = *at.borrow();
        let offset = LocalZone::EuropeBerlin.offset_secs_at_utc(at.naive_utc());
        self.date((at.naive_utc() + chrono::Duration::seconds(i64::from(offset))).date())
    }

    pub fn opt_datetime(&self, at: impl Borrow<Option<DateTime<Utc>>>) -> String {
        at.borrow().map(|a| self.datetime(a)).unwrap_or_default()
    }

    /// A decimal number with `places` digits after the separator: `1.234,5` / `1,234.5`.
    pub fn dec(&self, value: impl Borrow<f64>, places: usize) -> String {
        let value = *value.borrow();
        if !value.is_finite() {
            return String::new();
        }
        let text = format!("{:.*}", places, value.abs());
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let units: i64 = int.parse().unwrap_or(0);
        let sign = if value < 0.0 && text.chars().any(|c| c != '0' && c != '.') {
            "-"
        } else {
            ""
        };
        let units = group(units, self.thousands());
        if frac.is_empty() {
            return format!("{sign}{units}");
        }
        let point = match self.lang {
            Lang::De => ',',
            Lang::En => '.',
        };
        format!("{sign}{units}{point}{frac}")
    }

    /// A probability as a whole percentage: `12 %` / `12%`.
    pub fn pct(&self, p: impl Borrow<f64>) -> String {
        let value = self.dec(*p.borrow() * 100.0, 0);
        match self.lang {
            Lang::De => format!("{value}\u{a0}%"),
            Lang::En => format!("{value}%"),
        }
    }

    fn thousands(&self) -> char {
        match self.lang {
            Lang::De => '.',
            Lang::En => ',',
        }
    }
}

/// Whole numbers the templates format (by value or by reference, as askama passes them).
pub trait Count {
    fn as_i64(&self) -> i64;
}

macro_rules! count {
    ($($t:ty),*) => {$(
        impl Count for $t {
            fn as_i64(&self) -> i64 {
                i64::try_from(*self).unwrap_or(i64::MAX)
            }
        }
        impl Count for &$t {
            fn as_i64(&self) -> i64 {
                i64::try_from(**self).unwrap_or(i64::MAX)
            }
        }
        impl Count for &&$t {
            fn as_i64(&self) -> i64 {
                i64::try_from(***self).unwrap_or(i64::MAX)
            }
        }
    )*};
}
count!(i64, u64, usize, u32, i32);

fn group(n: i64, sep: char) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (idx, c) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_at_placeholders_and_match_text() {
        assert_eq!(
            pieces("a {x} b {y_1}{ not} {}"),
            vec![
                Piece::Text("a "),
                Piece::Name("x"),
                Piece::Text(" b "),
                Piece::Name("y_1"),
                Piece::Text("{ not} {}"),
            ]
        );
        assert_eq!(
            match_template(
                "unknown order {id}; import the orders first",
                "unknown order O-7; x; import the orders first"
            ),
            Some(vec![("id", "O-7; x")])
        );
        assert_eq!(
            match_template(
                "'{value}' is not an amount",
                "'x' is not an amount in this file"
            ),
            None
        );
        assert_eq!(match_template("{a}{b}", "ab"), None);
    }

    #[test]
    fn import_reasons_are_translated_the_most_specific_template_first() {
        let de = Tr::new(Lang::De);
        assert_eq!(
            de.reason("'31.02.2026' is not a valid date (dd.mm.yyyy)"),
            "„31.02.2026“ ist kein gültiges Datum (dd.mm.yyyy)"
        );
        // "is not an amount in this file's format" also matches the general "is not an
        // amount" template with a longer value; the longer literal wins.
        assert_eq!(
            de.reason(
                "'12x' is not an amount in this file's format (decimal comma, e.g. 1.234,56)"
            ),
            "„12x“ ist kein Betrag im Format dieser Datei (Dezimalkomma, z. B. 1.234,56)"
        );
        assert_eq!(
            de.reason("duplicate: order id O1 appears earlier in the file, on line 2"),
            "doppelt: order id O1 steht schon weiter oben in der Datei, in Zeile 2"
        );
        assert_eq!(de.reason("something new"), "something new");
        assert_eq!(
            Tr::new(Lang::En).reason("'x' is not an amount"),
            "'x' is not an amount"
        );
    }

    /// Every reason the real reader gives for a file full of mistakes has a German
    /// template: a new wording in the importer without one fails here.
    #[test]
    fn every_reason_of_the_reader_has_a_german_translation() {
        use winback_formats::{ReadOptions, Reader};
        let dir = tempfile::tempdir().unwrap();
        let cases: [(winback_engine::Kind, &str); 4] = [
            (
                winback_engine::Kind::Orders,
                "Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag;Storniert;Kanal\n\
                 O1;K1;31.02.2026;1,00;nein;web\n\
                 O2;K1;01.03.2026;12x;nein;web\n\
                 O3;K1;01.03.2026 25:00:00;1,00;nein;web\n\
                 O4;K1;gestern;1,00;nein;web\n\
                 O5;K1;01.03.2026;1,00;vielleicht;web\n\
                 O6;;01.03.2026;1,00;nein;web\n\
                 O7;K1;01.03.2026;1,00;nein\n\
                 O8;K1;;1,00;nein;web\n",
            ),
            (
                winback_engine::Kind::Customers,
                "Kundennummer;Name;E-Mail;Kundenart\nK1;A;keine-mail;b2c\nK2;B;b@example.de;privat\n;C;;b2c\n",
            ),
            (
                winback_engine::Kind::OrderLines,
                "Bestellnummer;Position;Artikelnummer;Menge;Einzelpreis\nO1;0;A-1;1;1,00\nO1;2;A-1;1,5;1,00\n",
            ),
            (
                winback_engine::Kind::Complaints,
                "Ticket;Kundennummer;Eröffnet am;Zufrieden\nT1;K1;01.03.2026;sehr\n",
            ),
        ];
        let de = Tr::new(Lang::De);
        let mut reasons = Vec::new();
        for (i, (kind, text)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("case{i}.csv"));
            std::fs::write(&path, text).unwrap();
            let reader = Reader::open(&path, ReadOptions::new(*kind)).unwrap();
            reasons.extend(reader.filter_map(Result::err).map(|e| e.reason));
        }
        assert!(reasons.len() >= 12, "the cases are rejected: {reasons:#?}");
        // Files that cannot be read at all.
        let files: [(winback_engine::Kind, &str); 3] = [
            (winback_engine::Kind::Orders, ""),
            (
                winback_engine::Kind::Orders,
                "Kundennummer;Name;E-Mail\nK1;A;a@example.de\n",
            ),
            (
                winback_engine::Kind::Orders,
                "Bestellnummer;Kundennummer;Bruttobetrag\nO1;K1;1,00\n",
            ),
        ];
        for (i, (kind, text)) in files.iter().enumerate() {
            let path = dir.path().join(format!("file{i}.csv"));
            std::fs::write(&path, text).unwrap();
            match Reader::open(&path, ReadOptions::new(*kind)) {
                Err(e) => reasons.push(e.to_string()),
                Ok(_) => panic!("file {i} is refused"),
            }
        }
        let untranslated: Vec<_> = reasons.iter().filter(|r| de.reason(r) == **r).collect();
        assert!(
            untranslated.is_empty(),
            "reasons without a German template: {untranslated:#?}"
        );
    }

    #[test]
    fn money_numbers_and_dates_follow_the_language() {
        let (de, en) = (Tr::new(Lang::De), Tr::new(Lang::En));
        assert_eq!(de.money(123_456), "1.234,56\u{a0}€");
        assert_eq!(en.money(123_456), "€1,234.56");
        assert_eq!(de.money(-5), "-0,05\u{a0}€");
        assert_eq!(en.money(100_000_000), "€1,000,000.00");
        assert_eq!(de.num(1_234_567), "1.234.567");
        assert_eq!(en.num(999), "999");
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(de.date(day), "24.11.2026");
        assert_eq!(en.date(day), "2026-11-24");
        let at = DateTime::parse_from_rfc3339("2026-11-24T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            de.datetime(at),
            "25.11.2026 00:30",
            "shown in the company's zone"
        );
    }

    #[test]
    fn the_language_follows_accept_language() {
        assert_eq!(
            Lang::from_accept_language(Some("en-US,en;q=0.9,de;q=0.8")),
            Lang::En
        );
        assert_eq!(
            Lang::from_accept_language(Some("fr-FR,de;q=0.5,en;q=0.7")),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language(Some("de-AT")), Lang::De);
        assert_eq!(Lang::from_accept_language(None), Lang::De);
    }

    #[test]
    fn placeholders_are_filled() {
        let en = Tr::new(Lang::En);
        assert_eq!(en.f("customer.title", &[("id", "K1")]), "Customer K1");
        assert_eq!(en.t("no.such.key"), "no.such.key");
    }
}
