//! The published real exports in `shared/samples` (copied byte-exact into
//! `tests/data/samples`): what a good importer makes of each.

use chrono::{DateTime, Utc};
use winback_engine::{CustomerRef, Money};
use winback_formats::{FileError, Kind, Layout, Record, TextEncoding};

use crate::helpers::{read_path, sample, shared_sample};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn the_copies_are_byte_identical_to_the_shared_samples_when_those_exist() {
    for (copy, original) in [
        ("orders_export_1.csv", "shopify/orders_export_1.csv"),
        ("customers_export_1.csv", "shopify/customers_export_1.csv"),
        ("customers_export.csv", "shopify/customers_export.csv"),
        (
            "paypal_aktivitaeten_de.csv",
            "german_bank_paypal/paypal_aktivitaeten_de.csv",
        ),
        (
            "volksbank_umsatzanzeige.csv",
            "german_bank_paypal/volksbank_umsatzanzeige.csv",
        ),
    ] {
        let Ok(shared) = std::fs::read(shared_sample(original)) else {
            continue;
        };
        assert_eq!(
            std::fs::read(sample(copy)).unwrap(),
            shared,
            "{copy} differs from {original}"
        );
    }
}

#[test]
fn shopify_orders_become_six_orders_grouped_by_name_with_no_rejected_row() {
    let out = read_path(&sample("orders_export_1.csv"), Kind::Orders, None).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let ids: Vec<(u64, String)> = out
        .rows
        .iter()
        .map(|r| match &r.record {
            Record::Order(o) => (r.line, o.external_id.clone()),
            other => panic!("not an order: {other:?}"),
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (2, "#1411"),
        (3, "#1410"),
        (9, "#1409"),
        (14, "#1408"),
        (17, "#1407"),
        (21, "#1406"),
    ]
    .into_iter()
    .map(|(l, id)| (l, id.to_string()))
    .collect();
    assert_eq!(ids, expected);

    let Record::Order(first) = &out.rows[0].record else {
        unreachable!()
    };
    assert_eq!(
        first.customer,
        CustomerRef::Email("kunde001@example.com".into())
    );
    assert_eq!(first.ordered_at, utc("2022-01-11T09:32:30Z"));
    assert_eq!(first.gross, Money::from_cents(12540));
    assert_eq!(first.discount, Money::from_cents(6360));
    assert_eq!(first.voucher_code.as_deref(), Some("ENVTPARTNER40"));
    assert_eq!(first.currency.as_deref(), Some("USD"));
    assert_eq!(first.channel.as_deref(), Some("web"));
    assert!(!first.cancelled && !first.returned);
    let details = first
        .customer_details
        .as_ref()
        .expect("billing columns give customer details");
    assert_eq!(details.external_id, "kunde001@example.com");
    assert_eq!(details.name.as_deref(), Some("Erika Mustermann"));
    assert_eq!(
        details.phone.as_deref(),
        Some("+46 79 538 22 11"),
        "the leading ' is Shopify's guard"
    );
    assert_eq!(details.address.street.as_deref(), Some("Musterstraße 1"));
    assert_eq!(details.address.postal_code.as_deref(), Some("18496"));
    assert_eq!(details.address.country.as_deref(), Some("SE"));

    let Record::Order(no_voucher) = &out.rows[1].record else {
        unreachable!()
    };
    assert_eq!(
        no_voucher.voucher_code, None,
        "an empty quoted field is no voucher"
    );
    assert_eq!(no_voucher.gross, Money::from_cents(50900));
}

#[test]
fn shopify_orders_are_detected_as_shopify_utf8_comma_point() {
    let reader = winback_formats::Reader::open(
        &sample("orders_export_1.csv"),
        winback_formats::ReadOptions::new(Kind::Orders),
    )
    .unwrap();
    let format = reader.format();
    assert_eq!(format.layout, Layout::Shopify);
    assert_eq!(format.delimiter, Some(','));
    assert_eq!(format.encoding, Some(TextEncoding::Utf8));
    assert_eq!(format.decimal, winback_formats::DecimalSep::Point);
    assert_eq!(format.header_line, 1);
    let described = reader.mapping().describe();
    assert!(described.contains("\"Name\" -> external_id"), "{described}");
    assert!(described.contains("\"Total\" -> gross"), "{described}");
    assert!(described.contains("ignored:"), "{described}");
}

#[test]
fn shopify_orders_read_as_order_lines_give_twenty_lines_numbered_within_each_order() {
    let out = read_path(&sample("orders_export_1.csv"), Kind::OrderLines, None).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.rows.len(), 20);
    let lines: Vec<(String, u32)> = out
        .rows
        .iter()
        .map(|r| match &r.record {
            Record::OrderLine(l) => (l.order_external_id.clone(), l.line_no),
            other => panic!("not an order line: {other:?}"),
        })
        .collect();
    let numbers_1410: Vec<u32> = lines
        .iter()
        .filter(|(o, _)| o == "#1410")
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(numbers_1410, vec![1, 2, 3, 4, 5, 6]);
    let Record::OrderLine(first) = &out.rows[0].record else {
        unreachable!()
    };
    assert_eq!(first.sku.as_deref(), Some("ENPT007BRL"));
    assert_eq!(
        first.product_name.as_deref(),
        Some("Velour Wide-Leg Pant - Tanned Brown / L")
    );
    assert_eq!(first.quantity, 1);
    assert_eq!(first.unit_price, Money::from_cents(15900));
    assert_eq!(first.discount, Money::ZERO);
}

#[test]
fn the_old_shopify_customer_layout_reads_without_a_mapping_file() {
    let out = read_path(&sample("customers_export_1.csv"), Kind::Customers, None).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.rows.len(), 20);
    let Record::Customer(erika) = &out.rows[1].record else {
        panic!()
    };
    assert_eq!(
        erika.external_id, "kunde001@example.com",
        "no id column: the e-mail is the id"
    );
    assert_eq!(erika.name.as_deref(), Some("Erika Mustermann"));
    assert_eq!(erika.phone.as_deref(), Some("+49 967 76316919"));
    assert_eq!(
        erika.address.country.as_deref(),
        Some("DE"),
        "the country code is preferred"
    );
    assert_eq!(erika.address.postal_code.as_deref(), Some("49299"));
    let Record::Customer(signup) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(signup.name, None);
    assert_eq!(signup.email.as_deref(), Some("kunde007@example.com"));
}

#[test]
fn the_new_shopify_customer_layout_reads_and_the_unterminated_quote_is_rejected_at_line_5() {
    let out = read_path(&sample("customers_export.csv"), Kind::Customers, None).unwrap();
    let ids: Vec<String> = out
        .rows
        .iter()
        .map(|r| match &r.record {
            Record::Customer(c) => c.external_id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, ["3565933522401", "0562014049617", "7110020874020"]);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    let error = &out.errors[0];
    assert_eq!(error.line, 5);
    assert_eq!(error.column.as_deref(), Some("Note"));
    assert!(error.reason.contains("never closed"), "{error}");
    assert!(error.to_string().starts_with(&format!(
        "{}:5: Note: ",
        sample("customers_export.csv").display()
    )));
    let Record::Customer(first) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(first.phone.as_deref(), Some("+924652309553"));
    assert_eq!(first.email, None);
    assert_eq!(first.name.as_deref(), Some("Jane Beispiel"));
}

const PAYPAL_MAPPING: &str = r#"
[columns]
external_id = "Transaktionscode"
customer_email = "Empfänger E-Mail-Adresse"
ordered_at = ["Datum", "Uhrzeit"]
gross = "Brutto"
"#;

#[test]
fn paypal_read_as_orders_by_a_mapping_file_rejects_the_impossible_time_at_line_4() {
    let out = read_path(
        &sample("paypal_aktivitaeten_de.csv"),
        Kind::Orders,
        Some(PAYPAL_MAPPING),
    )
    .unwrap();
    assert_eq!(out.rows.len(), 6, "{:?}", out.errors);
    assert_eq!(out.errors.len(), 1);
    let error = &out.errors[0];
    assert_eq!(error.line, 4);
    assert_eq!(error.column.as_deref(), Some("Datum"));
    assert_eq!(
        error.reason,
        "'19.11.2019 29:18:53' is not a valid time (HH:MM:SS)"
    );
    let Record::Order(first) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(
        first.gross,
        Money::from_cents(-4100),
        "decimal comma in a comma-separated file"
    );
    assert_eq!(
        first.ordered_at,
        utc("2019-10-15T18:32:01Z"),
        "CEST wall-clock time"
    );
    assert_eq!(
        first.customer,
        CustomerRef::Email("empfaenger@example.com".into())
    );
}

#[test]
fn paypal_without_a_mapping_file_is_refused_with_what_an_orders_file_needs() {
    let err = read_path(&sample("paypal_aktivitaeten_de.csv"), Kind::Orders, None)
        .err()
        .expect("no order number column");
    assert!(matches!(err, FileError::NotThisKind { .. }), "{err}");
    assert!(
        !err.to_string().contains("it looks like"),
        "no far-fetched hint: {err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("external_id")
            && text.contains("Bestellnummer")
            && text.contains("--mapping"),
        "{text}"
    );
}

#[test]
fn paypal_sender_addresses_with_spaces_are_row_errors_in_an_email_field() {
    let mapping = PAYPAL_MAPPING.replace("Empfänger E-Mail-Adresse", "Absender E-Mail-Adresse");
    let out = read_path(
        &sample("paypal_aktivitaeten_de.csv"),
        Kind::Orders,
        Some(&mapping),
    )
    .unwrap();
    let bad: Vec<(u64, Option<&str>)> = out
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_deref()))
        .collect();
    assert!(
        bad.contains(&(2, Some("Absender E-Mail-Adresse"))),
        "{:?}",
        out.errors
    );
    assert!(
        out.errors
            .iter()
            .any(|e| e.reason == "'meine email@example.com' is not an e-mail address")
    );
}

#[test]
fn the_volksbank_statement_is_not_a_customers_or_orders_file() {
    for kind in [Kind::Customers, Kind::Orders] {
        let err = read_path(&sample("volksbank_umsatzanzeige.csv"), kind, None)
            .err()
            .expect("a bank statement");
        assert!(matches!(err, FileError::NotThisKind { .. }), "{err}");
        let text = err.to_string();
        let article = if kind == Kind::Orders { "an" } else { "a" };
        assert!(
            text.contains(&format!("does not look like {article} {kind} file")),
            "{text}"
        );
        assert!(
            text.contains("line 13") && text.contains("\"Buchungstag\""),
            "{text}"
        );
        assert!(text.contains("--mapping FILE"), "{text}");
    }
}

#[test]
fn the_volksbank_statement_with_a_mapping_file_has_its_header_on_line_13_and_three_transactions() {
    let mapping = r#"
[columns]
external_id = "Vorgang/Verwendungszweck"
customer_id = "Empfänger/Zahlungspflichtiger"
ordered_at = "Buchungstag"
gross = "Umsatz"
"#;
    let reader = winback_formats::Reader::open(
        &sample("volksbank_umsatzanzeige.csv"),
        crate::helpers::options(Kind::Orders, Some(mapping)),
    )
    .unwrap();
    assert_eq!(reader.format().header_line, 13);
    assert_eq!(reader.format().encoding, Some(TextEncoding::Windows1252));
    assert_eq!(reader.format().delimiter, Some(';'));
    assert_eq!(reader.format().layout, Layout::MappingFile);
    let out = crate::helpers::drain(reader);
    let lines: Vec<u64> = out.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [14, 20, 26]);
    let Record::Order(first) = &out.rows[0].record else {
        panic!()
    };
    assert_eq!(first.gross, Money::from_cents(100000));
    assert_eq!(first.customer, CustomerRef::ExternalId("Empfänger".into()));
    assert!(
        first.external_id.starts_with("SEPA-Überweisung\n"),
        "{:?}",
        first.external_id
    );
    // The two balance lines after the blank line are not transactions.
    let error_lines: Vec<u64> = out.errors.iter().map(|e| e.line).collect();
    assert_eq!(error_lines, [28, 29], "{:?}", out.errors);
}
