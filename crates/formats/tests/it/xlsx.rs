//! XLSX import: typed cells (dates, numbers) are read as what they are, a preamble row is
//! skipped, and the file type is decided by its bytes, not its name.

use chrono::{DateTime, NaiveDate, Utc};
use rust_xlsxwriter::{Format, Workbook};
use winback_engine::{CustomerRef, Money};
use winback_formats::{Container, Kind, Reader, Record};

use crate::helpers::{drain, options};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn workbook() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Bestellungen").unwrap();
    let date_format = Format::new().set_num_format("dd.mm.yyyy hh:mm");
    sheet
        .write_string(0, 0, "Export aus der Warenwirtschaft")
        .unwrap();
    let header = [
        "Bestellnummer",
        "Kundennummer",
        "Bestelldatum",
        "Bruttobetrag",
        "Rabatt",
        "Gutscheincode",
        "Retoure",
    ];
    for (col, name) in header.iter().enumerate() {
        sheet.write_string(2, col as u16, *name).unwrap();
    }
    let rows: [(&str, f64, NaiveDate, u32, f64, &str, &str); 3] = [
        (
            "A-1",
            4711.0,
            NaiveDate::from_ymd_opt(2022, 7, 1).unwrap(),
            10,
            99.999,
            "",
            "nein",
        ),
        (
            "A-2",
            815.0,
            NaiveDate::from_ymd_opt(2022, 1, 2).unwrap(),
            23,
            0.1 + 0.2,
            "WINTER",
            "ja",
        ),
        (
            "A-3",
            815.0,
            NaiveDate::from_ymd_opt(2022, 1, 3).unwrap(),
            0,
            1234.5,
            "",
            "",
        ),
    ];
    for (i, (id, customer, date, hour, gross, voucher, returned)) in rows.iter().enumerate() {
        let row = 3 + i as u32;
        sheet.write_string(row, 0, *id).unwrap();
        sheet.write_number(row, 1, *customer).unwrap();
        let when = date.and_hms_opt(*hour, 30, 0).unwrap();
        sheet
            .write_datetime_with_format(row, 2, when, &date_format)
            .unwrap();
        sheet.write_number(row, 3, *gross).unwrap();
        sheet.write_string(row, 4, "1,50").unwrap();
        if !voucher.is_empty() {
            sheet.write_string(row, 5, *voucher).unwrap();
        }
        if !returned.is_empty() {
            sheet.write_string(row, 6, *returned).unwrap();
        }
    }
    workbook.save_to_buffer().unwrap()
}

#[test]
fn an_xlsx_sheet_reads_as_orders_with_typed_cells() {
    // The name says .csv; the bytes say XLSX, and the bytes win.
    let reader =
        Reader::from_bytes("bestellungen.csv", workbook(), options(Kind::Orders, None)).unwrap();
    assert_eq!(reader.format().container, Container::Xlsx);
    assert_eq!(reader.format().sheet.as_deref(), Some("Bestellungen"));
    assert_eq!(reader.format().header_line, 3);
    let out = drain(reader);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let orders: Vec<_> = out
        .rows
        .iter()
        .map(|r| match &r.record {
            Record::Order(o) => (r.line, o.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        orders.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        [4, 5, 6]
    );
    let (_, first) = &orders[0];
    assert_eq!(first.external_id, "A-1");
    assert_eq!(
        first.customer,
        CustomerRef::ExternalId("4711".into()),
        "a number cell as id prints without .0"
    );
    assert_eq!(
        first.ordered_at,
        utc("2022-07-01T08:30:00Z"),
        "a date cell is Berlin wall-clock time"
    );
    assert_eq!(
        first.gross,
        Money::from_cents(10000),
        "99.999 rounds to the cent"
    );
    assert_eq!(
        first.discount,
        Money::from_cents(150),
        "a text cell uses the decided decimal comma"
    );
    assert!(!first.returned);
    let (_, second) = &orders[1];
    assert_eq!(
        second.gross,
        Money::from_cents(30),
        "0.1 + 0.2 is 30 cents exactly"
    );
    assert_eq!(second.ordered_at, utc("2022-01-02T22:30:00Z"));
    assert_eq!(second.voucher_code.as_deref(), Some("WINTER"));
    assert!(second.returned);
    assert_eq!(orders[2].1.gross, Money::from_cents(123450));
}

#[test]
fn an_xlsx_file_on_disk_is_recognised_by_its_magic_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.dat");
    std::fs::write(&path, workbook()).unwrap();
    let out = crate::helpers::read_path(&path, Kind::Orders, None).unwrap();
    assert_eq!(out.rows.len(), 3);
}

#[test]
fn a_damaged_xlsx_file_is_a_file_error_not_a_panic() {
    let mut bytes = workbook();
    let cut = bytes.len() / 2;
    bytes.truncate(cut);
    let err = Reader::from_bytes("kaputt.xlsx", bytes, options(Kind::Orders, None))
        .err()
        .expect("damaged");
    assert!(err.to_string().contains("kaputt.xlsx"), "{err}");
}
