//! Measures the store's import commit alone (no parsing): N orders of N/10 customers into
//! a fresh SQLite file (or the PostgreSQL URL given as the second argument).
//! `cargo run --release -p winback-store --example bulk_orders -- 1000000`

use std::time::Instant;

use chrono::{TimeZone, Utc};
use winback_engine::*;
use winback_store::{Db, DbUrl, ImportMeta, ImportOptions};

#[tokio::main]
async fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("winback_bulk_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = std::env::args()
        .nth(2)
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("bulk.db").display()));
    let db = Db::connect(&DbUrl::new(url)).await.unwrap();
    let meta = |rows| ImportMeta {
        file_name: "bulk".into(),
        file_bytes: 0,
        rows_read: rows,
        rows_rejected: 0,
        started_at: Utc::now(),
    };
    let n_customers = (n / 10).max(1);
    let t = Instant::now();
    let mut session = db
        .begin_import(Kind::Customers, ImportOptions::default())
        .await
        .unwrap();
    for idx in 0..n_customers {
        let mut c = CustomerRecord::new(format!("K{idx:07}"));
        c.name = Some(format!("Kunde {idx}"));
        c.email = Some(format!("k{idx}@example.de"));
        session.push(idx + 2, Record::Customer(c)).await.unwrap();
    }
    assert!(session.resolve().await.unwrap().is_empty());
    session.commit(meta(n_customers)).await.unwrap();
    println!(
        "customers: {n_customers} in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut session = db
        .begin_import(Kind::Orders, ImportOptions::default())
        .await
        .unwrap();
    let base = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    for idx in 0..n {
        let customer = idx / 10;
        let order = OrderRecord {
            external_id: format!("A{idx:08}"),
            customer: CustomerRef::ExternalId(format!("K{customer:07}")),
            ordered_at: base + chrono::Duration::minutes(idx as i64),
            gross: Money::from_cents(1000 + (idx % 9000) as i64),
            margin: Some(Money::from_cents(300)),
            cost: None,
            discount: Money::ZERO,
            voucher_code: None,
            delivery_promised_on: None,
            delivered_on: None,
            channel: Some("web".into()),
            currency: None,
            returned: false,
            cancelled: false,
            customer_details: None,
        };
        session.push(idx + 2, Record::Order(order)).await.unwrap();
    }
    let staged = t.elapsed().as_secs_f64();
    let problems = session.resolve().await.unwrap();
    assert!(problems.is_empty());
    let resolved = t.elapsed().as_secs_f64();
    let counts = session.commit(meta(n)).await.unwrap();
    let total = t.elapsed().as_secs_f64();
    println!(
        "orders: {n} staged {staged:.2} s, resolved {:.2} s, merged {:.2} s; total {total:.2} s = {:.0} rows/s ({counts:?})",
        resolved - staged,
        total - resolved,
        n as f64 / total
    );
    let _ = std::fs::remove_dir_all(&dir);
}
