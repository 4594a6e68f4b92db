//! Many small files, one rule each: row errors with line and column, file errors with what
//! to do, and the detection decisions.

use chrono::{DateTime, Utc};
use winback_engine::{CustomerRef, Money};
use winback_formats::{
    DateOrder, DecimalSep, FileError, Kind, Layout, ReadOptions, Reader, Record, RowError,
    TextEncoding,
};

use crate::helpers::{Outcome, read_bytes};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn orders(text: &str) -> Outcome {
    read_bytes("bestellungen.csv", text.as_bytes(), Kind::Orders, None).unwrap()
}

fn errors(out: &Outcome) -> Vec<String> {
    out.errors.iter().map(RowError::to_string).collect()
}

const HEADER: &str = "Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag;Storniert\r\n";

#[test]
fn bad_values_become_row_errors_with_line_column_and_reason_and_reading_goes_on() {
    let text = format!(
        "{HEADER}\
         1;K1;31.02.2022;10,00;\r\n\
         2;K1;01.02.2022 29:18:53;10,00;\r\n\
         3;K1;01.02.2022;zehn;\r\n\
         4;;01.02.2022;10,00;\r\n\
         5;K1;01.02.2022;10,00;vielleicht\r\n\
         6;K1;01.02.2022;1.5;\r\n\
         ;K1;01.02.2022;10,00;\r\n\
         8;K1;01.02.2022\r\n\
         9;K1;\"01.02.2022\";\"1.234,50\";02.02.2022\r\n"
    );
    let out = orders(&text);
    assert_eq!(
        errors(&out),
        [
            "bestellungen.csv:2: Bestelldatum: '31.02.2022' is not a valid date (dd.mm.yyyy)",
            "bestellungen.csv:3: Bestelldatum: '01.02.2022 29:18:53' is not a valid time (HH:MM:SS)",
            "bestellungen.csv:4: Bruttobetrag: 'zehn' is not an amount in this file's format (decimal comma, e.g. 1.234,56)",
            "bestellungen.csv:5: Kundennummer: names no customer: every row needs a customer number or an e-mail address",
            "bestellungen.csv:6: Storniert: 'vielleicht' is not yes or no (ja/nein, yes/no, 1/0, x, or a date)",
            "bestellungen.csv:7: Bruttobetrag: '1.5' is not an amount in this file's format (decimal comma, e.g. 1.234,56)",
            "bestellungen.csv:8: Bestellnummer: is empty, but every row needs a value here (external_id)",
            "bestellungen.csv:9: this row has 3 fields, the header has 5; a delimiter or a quote is probably missing or extra in this row",
        ]
    );
    assert_eq!(out.rows.len(), 1);
    let Record::Order(o) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(out.rows[0].line, 10);
    assert_eq!(o.gross, Money::from_cents(123450));
    assert!(o.cancelled, "a date in a cancelled column means cancelled");
    assert_eq!(
        o.ordered_at,
        utc("2022-01-31T23:00:00Z"),
        "a bare date is local midnight"
    );
}

#[test]
fn row_errors_serialise_to_json_for_the_cli() {
    let out = orders(&format!("{HEADER}1;K1;31.02.2022;10,00;\r\n"));
    let json = serde_json::to_string(&out.errors[0]).unwrap();
    assert_eq!(
        json,
        r#"{"file":"bestellungen.csv","line":2,"column":"Bestelldatum","reason":"'31.02.2022' is not a valid date (dd.mm.yyyy)"}"#
    );
}

#[test]
fn line_numbers_count_quoted_line_breaks_blank_lines_and_a_preamble() {
    let text = "Bestellungen Januar\n\nBestellnummer,Kundennummer,Bestelldatum,Betrag,Notiz\n\
                1,K1,2022-01-03,\"5.00\",\"eins\nzwei\r\ndrei\"\n\n\n\
                2,K2,2022-01-03,x,\n";
    let out = read_bytes("x.csv", text.as_bytes(), Kind::Orders, None).unwrap();
    assert_eq!(out.rows[0].line, 4);
    assert_eq!(out.errors[0].line, 9);
    assert_eq!(out.errors[0].column.as_deref(), Some("Betrag"));
}

#[test]
fn slashed_dates_are_decided_from_the_data_or_need_a_mapping_file() {
    let head = "Order ID,Customer ID,Order Date,Total\n";
    let dmy = orders(&format!(
        "{head}1,K1,03/04/2022,5.00\n2,K1,13/04/2022,5.00\n"
    ));
    let Record::Order(o) = &dmy.rows[0].record else {
        panic!()
    };
    assert_eq!(o.ordered_at, utc("2022-04-02T22:00:00Z"));

    let mdy = read_bytes(
        "x.csv",
        format!("{head}1,K1,03/04/2022,5.00\n2,K1,04/13/2022,5.00\n").as_bytes(),
        Kind::Orders,
        None,
    )
    .unwrap();
    let Record::Order(o) = &mdy.rows[0].record else {
        panic!()
    };
    assert_eq!(o.ordered_at, utc("2022-03-03T23:00:00Z"));

    let ambiguous = format!("{head}1,K1,03/04/2022,5.00\n");
    let err = read_bytes("x.csv", ambiguous.as_bytes(), Kind::Orders, None)
        .err()
        .expect("ambiguous");
    assert!(matches!(err, FileError::AmbiguousDateOrder { .. }), "{err}");
    assert!(err.to_string().contains("date_order = \"dmy\""), "{err}");

    let out = read_bytes(
        "x.csv",
        ambiguous.as_bytes(),
        Kind::Orders,
        Some("[format]\ndate_order = \"mdy\""),
    )
    .unwrap();
    let Record::Order(o) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(o.ordered_at, utc("2022-03-03T23:00:00Z"));
}

#[test]
fn the_decimal_decision_is_file_wide_so_one_ambiguous_value_cannot_flip() {
    // 1,234 alone could be either; the other rows show a decimal point, so it is 1234.00.
    let out = orders(
        "Order ID,Customer ID,Order Date,Total\n1,K1,2022-01-01,\"1,234\"\n2,K1,2022-01-01,12.50\n",
    );
    let Record::Order(o) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(o.gross, Money::from_cents(123400));
    // With a decimal comma elsewhere it is 1,23 (rounded), never silently 1234.
    let out = orders(&format!(
        "{HEADER}1;K1;01.01.2022;1,234;\r\n2;K1;01.01.2022;12,50;\r\n"
    ));
    let Record::Order(o) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(o.gross, Money::from_cents(123));
}

#[test]
fn delimiters_and_encodings_are_detected() {
    let cases: &[(&[u8], char, TextEncoding, DecimalSep)] = &[
        (b"Bestellnummer;Kundennummer;Bestelldatum;Betrag\r\n1;K\xFCller;01.01.2022;5,00\r\n", ';', TextEncoding::Windows1252, DecimalSep::Comma),
        ("Order ID\tEmail\tDate\tTotal\n1\tA@Example.com\t2022-01-01\t5.00\n".as_bytes(), '\t', TextEncoding::Utf8, DecimalSep::Point),
        ("\u{feff}\"Bestellnummer\",\"E-Mail\",\"Datum\",\"Betrag\"\n\"1\",\"a@example.com\",\"01.01.2022\",\"5,00\"\n".as_bytes(), ',', TextEncoding::Utf8Bom, DecimalSep::Comma),
        (b"Auftragsnummer|Kd-Nr.|Auftragsdatum|Umsatz\n1|K1|01.01.2022|5\n", '|', TextEncoding::Utf8, DecimalSep::Point),
    ];
    for (bytes, delimiter, encoding, decimal) in cases {
        let reader =
            Reader::from_bytes("x.csv", bytes.to_vec(), ReadOptions::new(Kind::Orders)).unwrap();
        assert_eq!(reader.format().delimiter, Some(*delimiter), "{bytes:?}");
        assert_eq!(reader.format().encoding, Some(*encoding), "{bytes:?}");
        assert_eq!(reader.format().decimal, *decimal, "{bytes:?}");
        let out = crate::helpers::drain(reader);
        assert_eq!(out.rows.len(), 1, "{:?}", out.errors);
        assert_eq!(out.rows[0].record.kind(), Kind::Orders);
    }
    let out = read_bytes("x.csv", cases[0].0, Kind::Orders, None).unwrap();
    let Record::Order(o) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(o.customer, CustomerRef::ExternalId("Küller".into()));
    let out = read_bytes("x.csv", cases[1].0, Kind::Orders, None).unwrap();
    let Record::Order(o) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(
        o.customer,
        CustomerRef::Email("a@example.com".into()),
        "e-mail addresses are lower-cased"
    );
}

#[test]
fn a_utf8_character_split_at_the_sniffing_boundary_is_still_utf8() {
    let mut text = String::from("Kundennummer;Name\n");
    let mut i = 0;
    // Pad so that a two-byte 'ü' straddles the 64 KiB sample boundary.
    while text.len() < 64 * 1024 - 8 {
        text.push_str(&format!("K{i};Name\n"));
        i += 1;
    }
    while text.len() != 64 * 1024 - 1 {
        text.push('x');
    }
    text.push_str("ü;Müller\nK-last;Jürgen\n");
    assert!(!text.is_char_boundary(64 * 1024));
    let reader = Reader::from_bytes(
        "big.csv",
        text.into_bytes(),
        ReadOptions::new(Kind::Customers),
    )
    .unwrap();
    assert_eq!(reader.format().encoding, Some(TextEncoding::Utf8));
    let out = crate::helpers::drain(reader);
    let Record::Customer(last) = &out.rows.last().unwrap().record else {
        panic!()
    };
    assert_eq!(last.name.as_deref(), Some("Jürgen"));
}

#[test]
fn an_ascii_sample_does_not_reject_later_windows_1252_rows() {
    let mut bytes = b"Kundennummer;Name\n".to_vec();
    for i in 0..7000 {
        bytes.extend_from_slice(format!("K{i};Name\n").as_bytes());
    }
    bytes.extend_from_slice(b"K-late;M\xFCller\n");
    let out = read_bytes("late.csv", &bytes, Kind::Customers, None).unwrap();
    assert!(out.errors.is_empty());
    let Record::Customer(last) = &out.rows.last().unwrap().record else {
        panic!()
    };
    assert_eq!(last.name.as_deref(), Some("Müller"));
}

#[test]
fn files_that_cannot_be_read_say_what_to_do() {
    let cases: &[(&[u8], Kind, &str)] = &[
        (b"", Kind::Orders, "the file is empty"),
        (b"  \r\n\r\n", Kind::Orders, "the file is empty"),
        (b"\xFF\xFEa\0b\0", Kind::Orders, "UTF-16"),
        (
            b"foo;bar\n1;2\n",
            Kind::Orders,
            "does not look like an orders file",
        ),
        (
            b"Bestellnummer;Kundennummer;Betrag\n1;2;3\n",
            Kind::Orders,
            "has no column for ordered_at",
        ),
        (
            b"Kundennummer;Name\nK1;A\n",
            Kind::Consents,
            "does not look like a consents file",
        ),
    ];
    for (bytes, kind, needle) in cases {
        let err = read_bytes("datei.csv", bytes, *kind, None)
            .err()
            .expect("a file error");
        let text = err.to_string();
        assert!(text.contains(needle), "{bytes:?}: {text}");
        assert!(text.starts_with("datei.csv: "), "{text}");
    }
    let err = Reader::open(
        std::path::Path::new("/nonexistent/x.csv"),
        ReadOptions::new(Kind::Orders),
    )
    .err()
    .unwrap();
    assert!(matches!(err, FileError::NotFound { .. }), "{err}");
    let err = read_bytes(
        "x.csv",
        b"Kundennummer;Name\nK1;A\n",
        Kind::Customers,
        Some("[columns]\nfoo = \"Name\""),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("no field of that name"), "{err}");
    let err = read_bytes(
        "x.csv",
        b"Kundennummer;Name\nK1;A\n",
        Kind::Customers,
        Some("[columns]\nname = \"Nachname\""),
    )
    .err()
    .unwrap();
    assert!(
        matches!(err, FileError::MappedColumnNotFound { .. }),
        "{err}"
    );
}

#[test]
fn a_missing_column_error_names_the_field_and_the_accepted_headers() {
    let err = read_bytes(
        "x.csv",
        b"Bestellnummer;Kundennummer;Bestelldatum;Rabatt;Kanal\n1;K1;01.01.2022;0;web\n",
        Kind::Orders,
        None,
    )
    .err()
    .unwrap();
    let text = err.to_string();
    assert!(text.contains("no column for gross"), "{text}");
    assert!(
        text.contains("\"Bruttobetrag\"") && text.contains("--mapping FILE"),
        "{text}"
    );
}

#[test]
fn woocommerce_and_shopware_order_exports_read_without_a_mapping_file() {
    let woo = "Order Number,Order Status,Order Date,Email (Billing),Customer User ID,Cart Discount Amount,Order Total Amount,Coupon Code,Item #,Item Name\n\
               101,wc-completed,2022-05-01 10:00:00,Kunde@Example.com,0,2.00,49.90,SPRING,1,Shirt\n\
               101,wc-completed,2022-05-01 10:00:00,Kunde@Example.com,0,2.00,49.90,SPRING,2,Socks\n\
               102,wc-refunded,2022-05-02 11:00:00,b@example.com,7,0.00,10.00,,1,Cap\n";
    let reader = Reader::from_bytes(
        "woo.csv",
        woo.as_bytes().to_vec(),
        ReadOptions::new(Kind::Orders),
    )
    .unwrap();
    assert_eq!(reader.format().layout, Layout::WooCommerce);
    let out = crate::helpers::drain(reader);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.rows.len(), 2, "one order per order number");
    let Record::Order(first) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(
        first.customer,
        CustomerRef::Email("kunde@example.com".into()),
        "customer id 0 is a guest"
    );
    assert_eq!(first.gross, Money::from_cents(4990));
    assert_eq!(first.voucher_code.as_deref(), Some("SPRING"));
    let Record::Order(second) = &out.rows[1].record else {
        panic!()
    };
    assert_eq!(second.customer, CustomerRef::ExternalId("7".into()));
    assert!(second.returned);

    let shopware = "id;orderNumber;orderCustomer.firstName;orderCustomer.lastName;orderCustomer.email;amountTotal;orderDateTime\n\
                    0a1b;10001;Erika;Mustermann;erika@example.com;119.99;2022-05-01T08:00:00.000+00:00\n";
    let reader = Reader::from_bytes(
        "sw.csv",
        shopware.as_bytes().to_vec(),
        ReadOptions::new(Kind::Orders),
    )
    .unwrap();
    assert_eq!(reader.format().layout, Layout::Shopware6);
    assert_eq!(reader.format().date_order, Some(DateOrder::Ymd));
    let out = crate::helpers::drain(reader);
    let Record::Order(o) = &out.rows[0].record else {
        panic!("{:?}", out.errors)
    };
    assert_eq!(o.external_id, "10001");
    assert_eq!(o.ordered_at, utc("2022-05-01T08:00:00Z"));
    assert_eq!(
        o.customer_details.as_ref().and_then(|d| d.name.as_deref()),
        Some("Erika Mustermann")
    );
}

#[test]
fn consent_files_accept_german_and_english_words() {
    let text = "Kundennummer;Kanal;Status;Erfasst am;Quelle;Nachweis\n\
                K1;E-Mail;erteilt;01.03.2022 10:00;Shop;DOI-Mail\n\
                K2;WhatsApp;Opt-out;2022-03-01;;\n\
                K3;Brief;Widerspruch;01.03.2022;;\n\
                K4;Fax;erteilt;01.03.2022;;\n";
    let out = read_bytes("einwilligungen.csv", text.as_bytes(), Kind::Consents, None).unwrap();
    assert_eq!(out.rows.len(), 3);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].line, 5);
    assert!(
        out.errors[0]
            .reason
            .starts_with("'Fax' is not a contact channel; accepted: email, telefon"),
        "{}",
        out.errors[0]
    );
}

#[test]
fn the_mapping_and_format_are_described_for_the_user() {
    let input = b"Bestellnummer;Kd-Nr.;Datum;Uhrzeit;Umsatz;Lager\n1;K1;01.01.2022;10:00;5,00;A\n";
    let reader = Reader::from_bytes(
        "x.csv",
        input.to_vec(),
        crate::helpers::options(
            Kind::Orders,
            Some("[columns]\nordered_at = [\"Datum\", \"Uhrzeit\"]"),
        ),
    )
    .unwrap();
    let mapping = reader.mapping().describe();
    assert!(
        mapping.contains("  \"Bestellnummer\" -> external_id"),
        "{mapping}"
    );
    assert!(
        mapping.contains("  \"Datum\" + \"Uhrzeit\" -> ordered_at"),
        "{mapping}"
    );
    assert!(mapping.contains("ignored: \"Lager\""), "{mapping}");
    let format = reader.format().describe();
    assert!(
        format.contains("delimiter:  ';'") && format.contains("header:     line 1"),
        "{format}"
    );
    assert!(
        serde_json::to_string(reader.format())
            .unwrap()
            .contains("\"decimal\":\"comma\"")
    );
    assert!(
        serde_json::to_string(reader.mapping())
            .unwrap()
            .contains("\"field\":\"external_id\"")
    );
    let total = reader.progress().1;
    let out: Vec<_> = reader.collect();
    assert_eq!(out.len(), 1);
    assert_eq!(total, Some(input.len() as u64));
}

#[test]
fn progress_reaches_the_end_of_the_file() {
    let text = format!("{HEADER}1;K1;01.01.2022;5,00;\r\n");
    let mut reader = Reader::from_bytes(
        "x.csv",
        text.clone().into_bytes(),
        ReadOptions::new(Kind::Orders),
    )
    .unwrap();
    assert!(reader.next().is_some());
    assert!(reader.next().is_none());
    assert_eq!(
        reader.progress(),
        (text.len() as u64, Some(text.len() as u64))
    );
}
