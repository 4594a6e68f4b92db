//! Properties of the hand-written parsers: printing and parsing are inverse in both
//! locales, and no input makes a parser panic.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;
use winback_engine::Money;
use winback_formats::parse::{
    format_date_de, format_instant_de, format_money_de, format_money_en, format_money_plain,
    parse_date, parse_date_time, parse_instant, parse_integer, parse_money,
};
use winback_formats::{
    DateOrder, DecimalSep, GermanCsvWriter, Kind, LocalZone, ReadOptions, Reader,
};

const MAX_CENTS: i64 = 999_999_999_999_999;

proptest! {
    #[test]
    fn german_amounts_parse_back(cents in -MAX_CENTS..MAX_CENTS) {
        let m = Money::from_cents(cents);
        prop_assert_eq!(parse_money(&format_money_de(m), DecimalSep::Comma), Some(m));
        prop_assert_eq!(parse_money(&format_money_plain(m, DecimalSep::Comma), DecimalSep::Comma), Some(m));
    }

    #[test]
    fn english_amounts_parse_back(cents in -MAX_CENTS..MAX_CENTS) {
        let m = Money::from_cents(cents);
        prop_assert_eq!(parse_money(&format_money_en(m), DecimalSep::Point), Some(m));
        prop_assert_eq!(parse_money(&format_money_plain(m, DecimalSep::Point), DecimalSep::Point), Some(m));
    }

    #[test]
    fn dates_parse_back_in_german_and_iso_form(days in 0i64..80_000) {
        let d = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + TimeDelta::days(days);
        prop_assert_eq!(parse_date(&format_date_de(d), None), Ok(d));
        prop_assert_eq!(parse_date(&d.format("%Y-%m-%d").to_string(), None), Ok(d));
        prop_assert_eq!(parse_date(&d.format("%d/%m/%Y").to_string(), Some(DateOrder::Dmy)), Ok(d));
        prop_assert_eq!(parse_date(&d.format("%m/%d/%Y").to_string(), Some(DateOrder::Mdy)), Ok(d));
    }

    #[test]
    fn instants_parse_back_from_berlin_wall_clock_and_rfc3339(secs in 0i64..2_000_000_000) {
        let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
        let zone = LocalZone::EuropeBerlin;
        let back = parse_instant(&format_instant_de(t, zone), None, zone).unwrap();
        // Only the autumn hour that happens twice is ambiguous in wall-clock time.
        prop_assert!(back == t || back == t - TimeDelta::hours(1), "{} became {}", t, back);
        prop_assert_eq!(parse_instant(&t.to_rfc3339(), None, zone), Ok(t));
    }

    #[test]
    fn the_parsers_never_panic(s in ".{0,40}") {
        for dec in [DecimalSep::Comma, DecimalSep::Point] {
            let _ = parse_money(&s, dec);
            let _ = parse_integer(&s, dec);
        }
        for order in [None, Some(DateOrder::Dmy), Some(DateOrder::Mdy), Some(DateOrder::Ymd)] {
            let _ = parse_date_time(&s, order);
        }
    }

    #[test]
    fn the_number_parser_never_panics_on_number_like_noise(s in "[-+0-9.,' €]{0,30}") {
        for dec in [DecimalSep::Comma, DecimalSep::Point] {
            if let Some(m) = parse_money(&s, dec) {
                prop_assert!(m.cents().abs() < 100 * 1_000_000_000_000_000);
            }
        }
    }

    #[test]
    fn the_reader_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), kind_idx in 0usize..8) {
        let kind = Kind::ALL[kind_idx];
        let mut input = b"Kundennummer;E-Mail;Name;Bestellnummer;Datum;Betrag\n".to_vec();
        input.extend_from_slice(&bytes);
        if let Ok(reader) = Reader::from_bytes("noise.csv", input, ReadOptions::new(kind)) {
            for _ in reader {}
        }
    }

    #[test]
    fn written_text_comes_back_identical(name in "[a-zA-Z0-9 =+@'\"; äöüß€-]{1,20}") {
        let name = name.trim().to_string();
        prop_assume!(!name.is_empty());
        let mut c = winback_engine::CustomerRecord::new("K1");
        c.name = Some(name.clone());
        let mut writer = GermanCsvWriter::new(Vec::new(), Kind::Customers).unwrap();
        writer.write(&winback_engine::Record::Customer(c)).unwrap();
        let bytes = writer.finish().unwrap();
        let mut reader = Reader::from_bytes("x.csv", bytes, ReadOptions::new(Kind::Customers)).unwrap();
        let row = reader.next().unwrap().unwrap();
        let winback_engine::Record::Customer(back) = row.record else { panic!() };
        prop_assert_eq!(back.name, Some(name));
    }
}
