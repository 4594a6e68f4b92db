//! Measures how fast the demo company is generated and prints its mix.
//!
//! `cargo run --release -p winback-engine --example demo_speed -- [customers] [b2b]`

use std::time::Instant;

use chrono::NaiveDate;
use winback_engine::demo::{Demo, DemoConfig, TruthStatus};

fn main() {
    let mut args = std::env::args().skip(1);
    let customers: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let b2b = args.next().is_some_and(|a| a == "b2b");
    let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).expect("a valid date");
    let demo = Demo::new(DemoConfig::new(customers, 1, b2b, as_of));
    let started = Instant::now();
    let (mut orders, mut lines, mut gross, mut margin) = (0u64, 0u64, 0i64, 0i64);
    let mut status = [0u64; 4];
    let (mut complaints, mut contracts, mut consents, mut referrals, mut bargain) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for c in demo.customers() {
        orders += c.orders.len() as u64;
        lines += c.lines.len() as u64;
        for o in &c.orders {
            gross += o.gross.cents();
            margin += o.margin.map_or(0, |m| m.cents());
        }
        complaints += c.complaints.len() as u64;
        contracts += c.contracts.len() as u64;
        consents += c.consents.len() as u64;
        referrals += c.referrals.len() as u64;
        bargain += c.truth.bargain_hunter as u64;
        status[TruthStatus::ALL
            .iter()
            .position(|s| *s == c.truth.status)
            .unwrap_or(0)] += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{customers} customers, {orders} orders, {lines} lines in {secs:.2} s: \
         {:.0} customers/s, {:.0} orders/s",
        customers as f64 / secs,
        orders as f64 / secs
    );
    let n = customers.max(1) as f64;
    println!(
        "orders/customer {:.2}, lines/order {:.2}, mean gross {:.2} EUR, margin share {:.1} %",
        orders as f64 / n,
        lines as f64 / orders.max(1) as f64,
        gross as f64 / 100.0 / orders.max(1) as f64,
        100.0 * margin as f64 / gross.max(1) as f64
    );
    for (s, count) in TruthStatus::ALL.iter().zip(status) {
        println!("{:<9} {:5.1} %", s.as_str(), 100.0 * count as f64 / n);
    }
    println!(
        "per customer: complaints {:.3}, contracts {:.3}, consents {:.3}, referrals {:.3}, \
         bargain hunters {:.3}",
        complaints as f64 / n,
        contracts as f64 / n,
        consents as f64 / n,
        referrals as f64 / n,
        bargain as f64 / n
    );
}
