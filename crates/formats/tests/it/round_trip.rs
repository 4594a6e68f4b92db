//! Records written by `GermanCsvWriter` come back identical through `Reader`, for every
//! kind, with umlauts, the euro sign, quotes, line breaks and formula-looking text.

use chrono::{DateTime, NaiveDate, Utc};
use winback_engine::{
    Channel, ComplaintRecord, ConsentRecord, ConsentStatus, ContractRecord, CustomerRecord,
    CustomerRef, Money, OrderLineRecord, OrderRecord, Party, PostalAddress, ProductRecord,
    ReferralRecord, Satisfaction,
};
use winback_formats::{DecimalSep, GermanCsvWriter, Kind, Reader, Record, TextEncoding};

use crate::helpers::{drain, options};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Tricky text: formula-looking, umlauts, euro, quotes, delimiter, line break, guards.
const TRICKY: [&str; 10] = [
    "=SUM(1)",
    "+49 30 123456",
    "-minus",
    "@mention",
    "Jürgen Müßig-Öztürk",
    "Preis: 5 € \"netto\"; zzgl. MwSt.",
    "zwei\r\nZeilen",
    "'=already guarded",
    "'0815",
    "O'Brien",
];

fn customers() -> Vec<Record> {
    let mut out = Vec::new();
    for (i, tricky) in TRICKY.iter().enumerate() {
        let mut c = CustomerRecord::new(format!("K{:05}", i + 1));
        c.name = Some(tricky.to_string());
        c.party = [Some(Party::Business), Some(Party::Consumer), None][i % 3];
        c.email = (i % 2 == 0).then(|| format!("kunde{i}@example.com"));
        c.phone = Some(format!("+49 {} 555{i}", 30 + i));
        c.address = PostalAddress {
            street: Some("Hauptstraße 1".into()),
            postal_code: Some(format!("0{}123", i % 10)),
            city: Some("Köln".into()),
            country: Some("DE".into()),
        };
        c.segment = Some("Stammkunde".into());
        c.industry = (i % 2 == 1).then(|| "Großhandel".to_string());
        c.account_owner = Some("vertrieb@example.com".into());
        c.created_at = Some(at(&format!("2021-0{}-15T0{}:30:00Z", 1 + i % 9, i % 10)));
        out.push(Record::Customer(c));
    }
    out
}

fn orders() -> Vec<Record> {
    let mut out = Vec::new();
    for i in 0..12i64 {
        let by_email = i % 3 == 0;
        let customer = if by_email {
            CustomerRef::Email(format!("kunde{i}@example.com"))
        } else {
            CustomerRef::ExternalId(format!("K{:05}", i))
        };
        let customer_details = (i % 2 == 0).then(|| {
            let mut d = CustomerRecord::new(match &customer {
                CustomerRef::ExternalId(id) => id.clone(),
                CustomerRef::Email(e) => e.clone(),
            });
            d.name = Some(TRICKY[i as usize % TRICKY.len()].to_string());
            d.email = Some(format!("kunde{i}@example.com"));
            d.phone = Some("'+49 171 1234567".into());
            d.address.city = Some("München".into());
            d.address.postal_code = Some("80331".into());
            d
        });
        out.push(Record::Order(OrderRecord {
            external_id: format!("B-{}", 1000 + i),
            customer,
            ordered_at: at(&format!(
                "2022-{:02}-0{}T1{}:04:05Z",
                1 + i % 12,
                1 + i % 9,
                i % 10
            )),
            gross: Money::from_cents(123_456 * (i + 1) - 7),
            margin: (i % 2 == 0).then(|| Money::from_cents(-5_00 + i * 1_000)),
            cost: (i % 3 == 1).then(|| Money::from_cents(99)),
            discount: Money::from_cents(i * 150),
            voucher_code: (i % 4 == 0).then(|| "SOMMER-10".to_string()),
            delivery_promised_on: Some(day(2022, 3, 1 + i as u32)),
            delivered_on: (i % 2 == 1).then(|| day(2022, 3, 5 + i as u32)),
            channel: Some(["Webshop", "Telefon", "Außendienst"][i as usize % 3].into()),
            currency: Some("EUR".into()),
            returned: i % 5 == 0,
            cancelled: i % 7 == 0,
            customer_details,
        }));
    }
    out
}

fn order_lines() -> Vec<Record> {
    (0..6)
        .map(|i| {
            Record::OrderLine(OrderLineRecord {
                order_external_id: format!("B-{}", 1000 + i / 3),
                line_no: 1 + (i % 3) as u32,
                sku: Some(format!("0{}-ART", i)),
                product_name: Some(TRICKY[i % TRICKY.len()].into()),
                quantity: [1, 2, -1][i % 3],
                unit_price: Money::from_cents(1_999 + i as i64),
                discount: Money::from_cents(if i == 0 { 0 } else { 250 }),
            })
        })
        .collect()
}

fn products() -> Vec<Record> {
    (0..4)
        .map(|i| {
            Record::Product(ProductRecord {
                sku: format!("ART-{i}"),
                name: Some(TRICKY[(i + 4) % TRICKY.len()].into()),
                category: (i % 2 == 0).then(|| "Küche & Bad".to_string()),
                price: (i != 3).then(|| Money::from_cents(1_234_567 * i as i64)),
                delisted_on: (i == 1).then(|| day(2023, 12, 31)),
            })
        })
        .collect()
}

fn complaints() -> Vec<Record> {
    [Satisfaction::Yes, Satisfaction::No, Satisfaction::Unknown]
        .into_iter()
        .enumerate()
        .map(|(i, satisfied)| {
            Record::Complaint(ComplaintRecord {
                external_id: format!("R-{i}"),
                customer: if i == 1 {
                    CustomerRef::Email("a@example.com".into())
                } else {
                    CustomerRef::ExternalId("K1".into())
                },
                order_external_id: (i != 2).then(|| "B-1000".to_string()),
                opened_at: at("2022-06-01T07:00:00Z"),
                first_response_at: Some(at("2022-06-01T09:15:00Z")),
                resolved_at: (i == 0).then(|| at("2022-12-24T23:59:59Z")),
                satisfied,
                category: Some("Lieferverzug".into()),
                text: Some(TRICKY[i + 5].into()),
            })
        })
        .collect()
}

fn contracts() -> Vec<Record> {
    (0..3)
        .map(|i| {
            Record::Contract(ContractRecord {
                external_id: format!("V-{i}"),
                customer: CustomerRef::ExternalId(format!("K{i}")),
                product: Some("Wartung Premium".into()),
                started_on: day(2020, 1 + i as u32, 1),
                ends_on: (i == 0).then(|| day(2024, 12, 31)),
                renewal_on: Some(day(2025, 1, 1)),
                monthly_value: Some(Money::from_cents(4_990)),
                cancellation_received_at: (i == 1).then(|| at("2023-03-26T00:30:00Z")),
                cancellation_effective_on: (i == 1).then(|| day(2023, 6, 30)),
                cancellation_reason: (i == 1)
                    .then(|| "zu teuer; Wettbewerber günstiger".to_string()),
            })
        })
        .collect()
}

fn consents() -> Vec<Record> {
    let statuses = [
        ConsentStatus::Granted,
        ConsentStatus::Revoked,
        ConsentStatus::Objection,
    ];
    Channel::ALL
        .into_iter()
        .enumerate()
        .map(|(i, channel)| {
            Record::Consent(ConsentRecord {
                customer: if i % 2 == 0 {
                    CustomerRef::ExternalId(format!("K{i}"))
                } else {
                    CustomerRef::Email(format!("k{i}@example.com"))
                },
                channel,
                status: statuses[i % 3],
                recorded_at: at("2022-10-30T00:59:59Z"),
                source: Some("Checkout v3".into()),
                proof: (i == 0)
                    .then(|| "Double-Opt-In bestätigt am 30.10.2022; IP 203.0.113.7".to_string()),
            })
        })
        .collect()
}

fn referrals() -> Vec<Record> {
    vec![
        Record::Referral(ReferralRecord {
            referrer: CustomerRef::ExternalId("K1".into()),
            referred: CustomerRef::Email("neu@example.com".into()),
            referred_on: day(2022, 2, 28),
            thanked_at: Some(at("2022-03-01T12:00:00Z")),
        }),
        Record::Referral(ReferralRecord {
            referrer: CustomerRef::Email("alt@example.com".into()),
            referred: CustomerRef::ExternalId("K2".into()),
            referred_on: day(2022, 3, 1),
            thanked_at: None,
        }),
    ]
}

fn write(kind: Kind, records: &[Record]) -> Vec<u8> {
    let mut writer = GermanCsvWriter::new(Vec::new(), kind).unwrap();
    for record in records {
        writer.write(record).unwrap();
    }
    writer.finish().unwrap()
}

fn round_trip(kind: Kind, records: Vec<Record>) {
    let bytes = write(kind, &records);
    let reader = Reader::from_bytes("export.csv", bytes, options(kind, None)).unwrap();
    assert_eq!(reader.format().delimiter, Some(';'));
    assert_eq!(reader.format().decimal, DecimalSep::Comma);
    let out = drain(reader);
    assert!(out.errors.is_empty(), "{kind}: {:?}", out.errors);
    let back: Vec<Record> = out.rows.into_iter().map(|r| r.record).collect();
    assert_eq!(back.len(), records.len(), "{kind}");
    for (got, want) in back.iter().zip(&records) {
        assert_eq!(got, want, "{kind}");
    }
}

#[test]
fn customers_round_trip() {
    round_trip(Kind::Customers, customers());
}

#[test]
fn orders_round_trip() {
    round_trip(Kind::Orders, orders());
}

#[test]
fn order_lines_round_trip() {
    round_trip(Kind::OrderLines, order_lines());
}

#[test]
fn products_round_trip() {
    round_trip(Kind::Products, products());
}

#[test]
fn complaints_round_trip() {
    round_trip(Kind::Complaints, complaints());
}

#[test]
fn contracts_round_trip() {
    round_trip(Kind::Contracts, contracts());
}

#[test]
fn consents_round_trip() {
    round_trip(Kind::Consents, consents());
}

#[test]
fn referrals_round_trip() {
    round_trip(Kind::Referrals, referrals());
}

#[test]
fn the_writer_speaks_german_excel() {
    let bytes = write(Kind::Orders, &orders()[..2]);
    let header_end = bytes.windows(2).position(|w| w == b"\r\n").unwrap();
    let header = encoding_rs::WINDOWS_1252
        .decode(&bytes[..header_end])
        .0
        .into_owned();
    assert!(
        header.contains(";Währung;") && header.ends_with(";Straße;PLZ;Ort;Land"),
        "{header}"
    );
    assert!(
        header.starts_with("Bestellnummer;Kundennummer;E-Mail;Bestelldatum;Bruttobetrag;"),
        "{header}"
    );
    // Every line ends in CRLF, and there is no bare LF outside quotes in this data.
    assert!(bytes.ends_with(b"\r\n"));
    let text = encoding_rs::WINDOWS_1252.decode(&bytes).0;
    assert!(
        text.contains(";1234,49;"),
        "amounts with decimal comma: {text}"
    );
    assert!(
        text.contains("01.01.2022 11:04:05"),
        "instants in Berlin time: {text}"
    );
    assert!(
        text.contains("'+49 171 1234567") || text.contains("''+49 171 1234567"),
        "{text}"
    );
    let reader =
        Reader::from_bytes("export.csv", bytes.clone(), options(Kind::Orders, None)).unwrap();
    assert_eq!(reader.format().encoding, Some(TextEncoding::Windows1252));
}

#[test]
fn formula_text_is_escaped_in_the_file_and_identical_after_import() {
    let mut c = CustomerRecord::new("=HYPERLINK(\"http://evil\")");
    c.name = Some("@SUM(A1)".into());
    let bytes = write(Kind::Customers, &[Record::Customer(c.clone())]);
    let text = encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned();
    let row = text.lines().nth(1).unwrap();
    for cell in row.split(';') {
        let unquoted = cell.trim_start_matches('"');
        assert!(
            !unquoted.starts_with(['=', '+', '-', '@']),
            "unescaped formula cell {cell:?} in {row}"
        );
    }
    let out =
        drain(Reader::from_bytes("export.csv", bytes, options(Kind::Customers, None)).unwrap());
    assert_eq!(out.rows[0].record, Record::Customer(c));
}

#[test]
fn characters_outside_windows_1252_become_question_marks() {
    let mut c = CustomerRecord::new("K1");
    c.name = Some("Zoë Ωmega 😀".into());
    let bytes = write(Kind::Customers, &[Record::Customer(c)]);
    let out =
        drain(Reader::from_bytes("export.csv", bytes, options(Kind::Customers, None)).unwrap());
    let Record::Customer(back) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(back.name.as_deref(), Some("Zoë ?mega ?"));
}
