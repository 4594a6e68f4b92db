//! Parse speed of the orders import: writes N demo-like orders with `GermanCsvWriter` into
//! memory (German Excel dialect, Windows-1252), then reads them back with `Reader` and
//! prints rows per second. Figures go to BENCHMARKS.md.
//!
//! `cargo run --release -p winback-formats --example parse_speed -- 2000000 [FILE]`
//!
//! With FILE, the generated orders are saved there (if it does not exist yet) and read back
//! from disk with `Reader::open`, which also measures file IO; an existing FILE (for example
//! the demo company's orders file) is read as is.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use winback_engine::{CustomerRef, Money, OrderRecord};
use winback_formats::{GermanCsvWriter, Kind, ReadOptions, Reader, Record};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let path = std::env::args().nth(2).map(std::path::PathBuf::from);
    if let Some(path) = path.as_ref().filter(|p| p.exists()) {
        read(
            Reader::open(path, ReadOptions::new(Kind::Orders)).expect("readable"),
            std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        );
        return;
    }
    let start = DateTime::<Utc>::from_timestamp(1_600_000_000, 0).expect("a valid timestamp");
    let channels = ["Webshop", "Telefon", "Außendienst", "Marktplatz"];

    let t0 = Instant::now();
    let mut writer =
        GermanCsvWriter::new(Vec::with_capacity(n as usize * 110), Kind::Orders).expect("memory");
    for i in 0..n {
        let order = OrderRecord {
            external_id: format!("B{:08}", i),
            customer: CustomerRef::ExternalId(format!("K{:06}", i % 250_000)),
            ordered_at: start + TimeDelta::seconds((i * 37) as i64),
            gross: Money::from_cents(1_000 + (i * 7_919 % 500_000) as i64),
            margin: Some(Money::from_cents((i * 3_571 % 150_000) as i64)),
            cost: None,
            discount: Money::from_cents(if i % 5 == 0 { 500 } else { 0 }),
            voucher_code: (i % 9 == 0).then(|| "SOMMER10".to_string()),
            delivery_promised_on: Some(
                (start + TimeDelta::days((i % 900) as i64 + 3)).date_naive(),
            ),
            delivered_on: Some((start + TimeDelta::days((i % 900) as i64 + 4)).date_naive()),
            channel: Some(channels[(i % 4) as usize].to_string()),
            currency: Some("EUR".to_string()),
            returned: i % 17 == 0,
            cancelled: i % 53 == 0,
            customer_details: None,
        };
        writer.write(&Record::Order(order)).expect("memory");
    }
    let bytes = writer.finish().expect("memory");
    let mib = bytes.len() as f64 / (1024.0 * 1024.0);
    println!(
        "generated {n} orders, {mib:.1} MiB, in {:.2} s",
        t0.elapsed().as_secs_f64()
    );

    let len = bytes.len() as u64;
    match path {
        Some(path) => {
            std::fs::write(&path, &bytes).expect("writable path");
            drop(bytes);
            read(
                Reader::open(&path, ReadOptions::new(Kind::Orders)).expect("readable"),
                len,
            );
        }
        None => read(
            Reader::from_bytes("orders.csv", bytes, ReadOptions::new(Kind::Orders))
                .expect("readable"),
            len,
        ),
    }
}

fn read(reader: Reader, len: u64) {
    let mib = len as f64 / (1024.0 * 1024.0);
    let t1 = Instant::now();
    let mut rows = 0u64;
    let mut errors = 0u64;
    let mut gross = 0i64;
    for item in reader {
        match item {
            Ok(row) => {
                rows += 1;
                if let Record::Order(o) = row.record {
                    gross += o.gross.cents();
                }
            }
            Err(_) => errors += 1,
        }
    }
    let secs = t1.elapsed().as_secs_f64();
    println!(
        "parsed {rows} rows ({errors} row errors) in {secs:.2} s: {:.0} rows/s, {:.0} MiB/s (checksum {gross})",
        rows as f64 / secs,
        mib / secs
    );
}
