//! Times `analyze` on N demo customers (fit, statuses, P(alive), CLV, alerts), excluding the
//! demo generation, for BENCHMARKS.md.
//!
//! `cargo run --release -p winback-engine --example analysis_speed -- [customers] [threads] [b2b]`

use std::time::Instant;

/// The allocator of the `winback` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::NaiveDate;
use winback_engine::analysis::{CustomerHistory, ProductFact, Settings, analyze};
use winback_engine::demo::{Demo, DemoConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let customers: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let threads: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let b2b = args.next().is_some_and(|a| a == "b2b");
    let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).expect("a valid date");
    let demo = Demo::new(DemoConfig::new(customers, 1, b2b, as_of));

    // Generate and convert in parallel; every customer is a pure function of its index.
    let started = Instant::now();
    let workers = u64::from(threads.max(1));
    let chunk = customers.div_ceil(workers);
    let histories: Vec<CustomerHistory> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let demo = &demo;
                scope.spawn(move || {
                    let (lo, hi) = (w * chunk, ((w + 1) * chunk).min(customers));
                    (lo..hi)
                        .map(|i| CustomerHistory::from_demo(&demo.customer(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("generator thread"))
            .collect()
    });
    let products = ProductFact::from_demo(&demo.products());
    let orders: usize = histories.iter().map(|h| h.orders.len()).sum();
    let lines: usize = histories.iter().map(|h| h.lines.len()).sum();
    eprintln!(
        "generated {customers} customers ({orders} orders, {lines} lines) in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let settings = Settings {
        threads,
        ..Settings::default()
    };
    let runs: u32 = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    for run in 1..=runs {
        let rss_before = rss_mib();
        let started = Instant::now();
        let analysis = analyze(&histories, &products, as_of, &settings).expect("analysis");
        let secs = started.elapsed().as_secs_f64();
        let [active, at_risk, sleeping, lost] = analysis.status_counts();
        println!(
            "run {run}: analysed {customers} customers on {threads} threads in {secs:.2} s \
             ({:.0} customers/s): active {active}, at risk {at_risk}, sleeping {sleeping}, \
             lost {lost}, {} alerts; resident memory {rss_before} -> {} MiB (peak {} MiB)",
            customers as f64 / secs,
            analysis.alerts.len(),
            rss_mib(),
            peak_mib(),
        );
    }
}

/// A field of /proc/self/status in MiB (0 where there is none, e.g. not on Linux).
fn status_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn rss_mib() -> u64 {
    status_mib("VmRSS:")
}

fn peak_mib() -> u64 {
    status_mib("VmHWM:")
}
