//! Writing records as CSV in the German Excel dialect, and the formula-injection escape
//! every export uses.
//!
//! The dialect is what German Excel opens with a double click: `;` between fields, CRLF
//! line ends, decimal comma, `dd.mm.yyyy` dates (instants as `dd.mm.yyyy HH:MM:SS` in
//! Europe/Berlin wall-clock time), Windows-1252 text. Headers are the first German name of
//! each field in `fields.rs`, so this crate's reader reads the output back unchanged. The
//! writer must never emit a text cell that a spreadsheet could run as a formula.

use std::borrow::Cow;
use std::io::{self, Write};

use winback_engine::{
    Channel, ConsentStatus, CustomerRef, Kind, Money, Party, Record, Satisfaction,
};

use crate::fields::{
    self, complaints, consents, contracts, customers, order_lines, orders, products, referrals,
};
use crate::parse::{DecimalSep, LocalZone, format_date_de, format_instant_de, format_money_plain};

/// Prefixes `'` to a cell that starts with `=`, `+`, `-`, `@`, TAB, CR, LF or NUL, so that
/// Excel and LibreOffice show it as text instead of evaluating it (OWASP "CSV Injection").
pub fn escape_formula(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n' | 0) => {
            Cow::Owned(format!("'{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// The writer's escape: [`escape_formula`], and also a second `'` before text that already
/// starts with a guard the reader would strip (`'+49`, `'0815`), so that the reader's
/// "remove exactly one `'`" gives the original text back.
fn escape_text(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes() {
        [
            b'\'',
            b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n' | 0 | b'(' | b'\'' | b'0'..=b'9',
            ..,
        ] => Cow::Owned(format!("'{cell}")),
        _ => escape_formula(cell),
    }
}

/// One cell: text is escaped against formulas, values (numbers, dates) are written as is.
enum Cell {
    Text(String),
    Value(String),
    Empty,
}

fn text(s: &Option<String>) -> Cell {
    match s {
        Some(s) => Cell::Text(s.clone()),
        None => Cell::Empty,
    }
}

fn money(m: Money) -> Cell {
    Cell::Value(format_money_plain(m, DecimalSep::Comma))
}

fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
    v.map(f).unwrap_or(Cell::Empty)
}

fn yes_no(b: bool) -> Cell {
    Cell::Value(if b { "ja" } else { "nein" }.to_string())
}

fn ref_cells(r: &CustomerRef) -> (Cell, Cell) {
    match r {
        CustomerRef::ExternalId(id) => (Cell::Text(id.clone()), Cell::Empty),
        CustomerRef::Email(e) => (Cell::Empty, Cell::Text(e.clone())),
    }
}

/// Streams records of one kind as a German Excel CSV.
pub struct GermanCsvWriter<W: Write> {
    out: W,
    kind: Kind,
    zone: LocalZone,
    line: String,
    bytes: Vec<u8>,
}

/// The fields each kind writes, in column order (indices into `fields(kind)`).
fn columns(kind: Kind) -> &'static [usize] {
    match kind {
        Kind::Customers => {
            use customers::*;
            &[
                EXTERNAL_ID,
                NAME,
                PARTY,
                EMAIL,
                PHONE,
                STREET,
                POSTAL_CODE,
                CITY,
                COUNTRY,
                SEGMENT,
                INDUSTRY,
                ACCOUNT_OWNER,
                CREATED_AT,
            ]
        }
        Kind::Orders => {
            use orders::*;
            &[
                EXTERNAL_ID,
                CUSTOMER_ID,
                CUSTOMER_EMAIL,
                ORDERED_AT,
                GROSS,
                MARGIN,
                COST,
                DISCOUNT,
                VOUCHER_CODE,
                DELIVERY_PROMISED_ON,
                DELIVERED_ON,
                CHANNEL,
                CURRENCY,
                RETURNED,
                CANCELLED,
                CUSTOMER_NAME,
                CUSTOMER_PHONE,
                CUSTOMER_STREET,
                CUSTOMER_POSTAL_CODE,
                CUSTOMER_CITY,
                CUSTOMER_COUNTRY,
            ]
        }
        Kind::OrderLines => {
            use order_lines::*;
            &[
                ORDER_EXTERNAL_ID,
                LINE_NO,
                SKU,
                PRODUCT_NAME,
                QUANTITY,
                UNIT_PRICE,
                DISCOUNT,
            ]
        }
        Kind::Products => {
            use products::*;
            &[SKU, NAME, CATEGORY, PRICE, DELISTED_ON]
        }
        Kind::Complaints => {
            use complaints::*;
            &[
                EXTERNAL_ID,
                CUSTOMER_ID,
                CUSTOMER_EMAIL,
                ORDER_EXTERNAL_ID,
                OPENED_AT,
                FIRST_RESPONSE_AT,
                RESOLVED_AT,
                SATISFIED,
                CATEGORY,
                TEXT,
            ]
        }
        Kind::Contracts => {
            use contracts::*;
            &[
                EXTERNAL_ID,
                CUSTOMER_ID,
                CUSTOMER_EMAIL,
                PRODUCT,
                STARTED_ON,
                ENDS_ON,
                RENEWAL_ON,
                MONTHLY_VALUE,
                CANCELLATION_RECEIVED_AT,
                CANCELLATION_EFFECTIVE_ON,
                CANCELLATION_REASON,
            ]
        }
        Kind::Consents => {
            use consents::*;
            &[
                CUSTOMER_ID,
                CUSTOMER_EMAIL,
                CHANNEL,
                STATUS,
                RECORDED_AT,
                SOURCE,
                PROOF,
            ]
        }
        Kind::Referrals => {
            use referrals::*;
            &[
                REFERRER_ID,
                REFERRER_EMAIL,
                REFERRED_ID,
                REFERRED_EMAIL,
                REFERRED_ON,
                THANKED_AT,
            ]
        }
    }
}

impl<W: Write> GermanCsvWriter<W> {
    /// Writes the header row for `kind`.
    pub fn new(out: W, kind: Kind) -> io::Result<Self> {
        let mut writer = GermanCsvWriter {
            out,
            kind,
            zone: LocalZone::EuropeBerlin,
            line: String::with_capacity(256),
            bytes: Vec::with_capacity(256),
        };
        let specs = fields::fields(kind);
        let header: Vec<Cell> = columns(kind)
            .iter()
            .map(|&idx| Cell::Value(specs[idx].synonyms[0].to_string()))
            .collect();
        writer.write_cells(&header)?;
        Ok(writer)
    }

    /// Writes one record; it must be of the writer's kind.
    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        if record.kind() != self.kind {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a {} record cannot go into a {} file",
                    record.kind(),
                    self.kind
                ),
            ));
        }
        let cells = self.cells(record);
        self.write_cells(&cells)
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn instant(&self, t: Option<chrono::DateTime<chrono::Utc>>) -> Cell {
        opt(t, |t| Cell::Value(format_instant_de(t, self.zone)))
    }

    fn cells(&self, record: &Record) -> Vec<Cell> {
        let date = |d: Option<chrono::NaiveDate>| opt(d, |d| Cell::Value(format_date_de(d)));
        match record {
            Record::Customer(c) => vec![
                Cell::Text(c.external_id.clone()),
                text(&c.name),
                opt(c.party, |p| {
                    Cell::Value(
                        match p {
                            Party::Business => "B2B",
                            Party::Consumer => "B2C",
                        }
                        .to_string(),
                    )
                }),
                text(&c.email),
                text(&c.phone),
                text(&c.address.street),
                text(&c.address.postal_code),
                text(&c.address.city),
                text(&c.address.country),
                text(&c.segment),
                text(&c.industry),
                text(&c.account_owner),
                self.instant(c.created_at),
            ],
            Record::Order(o) => {
                let (id, mut email) = ref_cells(&o.customer);
                let details = o.customer_details.as_ref();
                if let (Cell::Empty, Some(e)) = (&email, details.and_then(|d| d.email.as_ref())) {
                    email = Cell::Text(e.clone());
                }
                let detail = |f: fn(&winback_engine::CustomerRecord) -> &Option<String>| {
                    details.map(|d| text(f(d))).unwrap_or(Cell::Empty)
                };
                vec![
                    Cell::Text(o.external_id.clone()),
                    id,
                    email,
                    self.instant(Some(o.ordered_at)),
                    money(o.gross),
                    opt(o.margin, money),
                    opt(o.cost, money),
                    money(o.discount),
                    text(&o.voucher_code),
                    date(o.delivery_promised_on),
                    date(o.delivered_on),
                    text(&o.channel),
                    text(&o.currency),
                    yes_no(o.returned),
                    yes_no(o.cancelled),
                    detail(|d| &d.name),
                    detail(|d| &d.phone),
                    detail(|d| &d.address.street),
                    detail(|d| &d.address.postal_code),
                    detail(|d| &d.address.city),
                    detail(|d| &d.address.country),
                ]
            }
            Record::OrderLine(l) => vec![
                Cell::Text(l.order_external_id.clone()),
                Cell::Value(l.line_no.to_string()),
                text(&l.sku),
                text(&l.product_name),
                Cell::Value(l.quantity.to_string()),
                money(l.unit_price),
                money(l.discount),
            ],
            Record::Product(p) => vec![
                Cell::Text(p.sku.clone()),
                text(&p.name),
                text(&p.category),
                opt(p.price, money),
                date(p.delisted_on),
            ],
            Record::Complaint(c) => {
                let (id, email) = ref_cells(&c.customer);
                vec![
                    Cell::Text(c.external_id.clone()),
                    id,
                    email,
                    text(&c.order_external_id),
                    self.instant(Some(c.opened_at)),
                    self.instant(c.first_response_at),
                    self.instant(c.resolved_at),
                    match c.satisfied {
                        Satisfaction::Yes => Cell::Value("ja".to_string()),
                        Satisfaction::No => Cell::Value("nein".to_string()),
                        Satisfaction::Unknown => Cell::Empty,
                    },
                    text(&c.category),
                    text(&c.text),
                ]
            }
            Record::Contract(c) => {
                let (id, email) = ref_cells(&c.customer);
                vec![
                    Cell::Text(c.external_id.clone()),
                    id,
                    email,
                    text(&c.product),
                    date(Some(c.started_on)),
                    date(c.ends_on),
                    date(c.renewal_on),
                    opt(c.monthly_value, money),
                    self.instant(c.cancellation_received_at),
                    date(c.cancellation_effective_on),
                    text(&c.cancellation_reason),
                ]
            }
            Record::Consent(c) => {
                let (id, email) = ref_cells(&c.customer);
                vec![
                    id,
                    email,
                    Cell::Value(
                        match c.channel {
                            Channel::Email => "E-Mail",
                            Channel::Phone => "Telefon",
                            Channel::Post => "Post",
                            Channel::Messenger => "Messenger",
                        }
                        .to_string(),
                    ),
                    Cell::Value(
                        match c.status {
                            ConsentStatus::Granted => "erteilt",
                            ConsentStatus::Revoked => "widerrufen",
                            ConsentStatus::Objection => "Widerspruch",
                        }
                        .to_string(),
                    ),
                    self.instant(Some(c.recorded_at)),
                    text(&c.source),
                    text(&c.proof),
                ]
            }
            Record::Referral(r) => {
                let (referrer_id, referrer_email) = ref_cells(&r.referrer);
                let (referred_id, referred_email) = ref_cells(&r.referred);
                vec![
                    referrer_id,
                    referrer_email,
                    referred_id,
                    referred_email,
                    date(Some(r.referred_on)),
                    self.instant(r.thanked_at),
                ]
            }
        }
    }

    fn write_cells(&mut self, cells: &[Cell]) -> io::Result<()> {
        self.line.clear();
        for (idx, cell) in cells.iter().enumerate() {
            if idx > 0 {
                self.line.push(';');
            }
            let value: Cow<'_, str> = match cell {
                Cell::Text(s) => escape_text(s),
                Cell::Value(s) => Cow::Borrowed(s.as_str()),
                Cell::Empty => Cow::Borrowed(""),
            };
            let needs_quotes = value
                .bytes()
                .any(|b| matches!(b, b';' | b'"' | b'\r' | b'\n'));
            if needs_quotes {
                self.line.push('"');
                for ch in value.chars() {
                    if ch == '"' {
                        self.line.push('"');
                    }
                    self.line.push(ch);
                }
                self.line.push('"');
            } else {
                self.line.push_str(&value);
            }
        }
        self.line.push_str("\r\n");
        encode_1252(&self.line, &mut self.bytes);
        self.out.write_all(&self.bytes)
    }
}

/// Encodes to Windows-1252; characters it cannot represent become `?`.
fn encode_1252(text: &str, out: &mut Vec<u8>) {
    out.clear();
    if text.is_ascii() {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let mut encoder = encoding_rs::WINDOWS_1252.new_encoder();
    // Windows-1252 is one byte per character, so the UTF-8 length always suffices.
    out.resize(text.len() + 1, 0);
    let mut read = 0;
    let mut written = 0;
    loop {
        let (result, r, w) =
            encoder.encode_from_utf8_without_replacement(&text[read..], &mut out[written..], true);
        read += r;
        written += w;
        match result {
            encoding_rs::EncoderResult::InputEmpty => break,
            encoding_rs::EncoderResult::Unmappable(_) => {
                out[written] = b'?';
                written += 1;
            }
            encoding_rs::EncoderResult::OutputFull => {
                let len = out.len();
                out.resize(len * 2, 0);
            }
        }
    }
    out.truncate(written);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_escaped_and_others_left_alone() {
        let cases: &[(&str, &str)] = &[
            ("=SUM(1)", "'=SUM(1)"),
            ("+49 30 1234", "'+49 30 1234"),
            ("-5", "'-5"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("\nx", "'\nx"),
            ("\0x", "'\0x"),
            ("Erika", "Erika"),
            ("", ""),
            ("a=b", "a=b"),
        ];
        for (input, expected) in cases {
            assert_eq!(escape_formula(input), *expected, "input {input:?}");
        }
        assert_eq!(escape_text("'+49"), "''+49");
        assert_eq!(escape_text("'Tis"), "'Tis");
    }

    #[test]
    fn text_outside_windows_1252_becomes_a_question_mark() {
        let mut out = Vec::new();
        encode_1252("Straße € 😀 ok", &mut out);
        assert_eq!(out, b"Stra\xDFe \x80 ? ok");
    }
}
