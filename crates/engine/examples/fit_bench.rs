//! The winback side of `bench/models/run.sh` (side by side with the Python `lifetimes` package).
//!
//! `fit_bench write DIR` writes the CDNOW summary and a 1,000,000-customer summary (CDNOW
//! replicated with deterministic jitter, see [`replicate`]) as `id,frequency,recency,T,monetary_value`
//! CSV files, the one input both tools read.
//! `fit_bench time FILE MODEL REPS` loads such a file and times the fit alone (`bgnbd` or
//! `pareto-nbd`), once to warm up and then `REPS` times; it prints one line of JSON with the
//! median and fastest time, the log-likelihood and the parameters.
//! Run with `cargo run --release -p winback-engine --example fit_bench -- ...`.

use std::fmt::Write as _;
use std::time::Instant;

use winback_engine::models::{CustomerSummary, FitOptions, ModelKind, fit_bgnbd, fit_pareto_nbd};

fn read_csv(path: &str) -> Vec<CustomerSummary> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("a header line")
        .split(',')
        .map(|h| h.trim().to_lowercase())
        .collect();
    let col = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.contains(&h.as_str()))
            .unwrap_or_else(|| panic!("{path}: no column {names:?}"))
    };
    let (fx, fr, ft) = (
        col(&["frequency", "x"]),
        col(&["recency", "t_x"]),
        col(&["t"]),
    );
    let fm = col(&["monetary_value"]);
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<f64> = line
                .split(',')
                .map(|v| v.trim().parse().expect("numeric cell"))
                .collect();
            CustomerSummary::new(cells[fx], cells[fr], cells[ft], cells[fm]).expect("valid row")
        })
        .collect()
}

/// The CDNOW summary replicated to `n` customers. Replica `k` ends its calibration
/// `(k mod 7) - 3` days later plus a deterministic sub-day offset (golden-ratio sequence), so
/// that almost no two rows are identical (nothing for the pattern aggregation to merge: the
/// worst case for winback) while the data keep CDNOW's shape; `T` never falls below `t_x`.
fn replicate(base: &[CustomerSummary], n: usize) -> Vec<CustomerSummary> {
    (0..n)
        .map(|i| {
            let (k, c) = (i / base.len(), base[i % base.len()]);
            let extra = ((k % 7) as f64 - 3.0) / 7.0
                + ((i as f64 * 0.618_033_988_749_895) % 1.0 - 0.5) / 7.0;
            CustomerSummary {
                age: (c.age + extra).max(c.recency),
                ..c
            }
        })
        .collect()
}

fn write_csv(path: &str, customers: &[CustomerSummary]) {
    let mut out = String::with_capacity(customers.len() * 64);
    out.push_str("id,frequency,recency,T,monetary_value\n");
    for (i, c) in customers.iter().enumerate() {
        // `{}` prints the shortest text that reads back to the same f64.
        writeln!(
            out,
            "{},{},{},{},{}",
            i + 1,
            c.frequency,
            c.recency,
            c.age,
            c.monetary
        )
        .expect("writing to a String");
    }
    std::fs::write(path, out).unwrap_or_else(|e| panic!("{path}: {e}"));
}

/// The tests' loaders of the data in `tests/data/` (one copy for tests and examples).
#[path = "../tests/it/models_common.rs"]
mod models_common;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("write") => {
            let dir = args.get(1).expect("fit_bench write DIR");
            let base = models_common::cdnow_summaries();
            write_csv(&format!("{dir}/cdnow_summary.csv"), &base);
            write_csv(&format!("{dir}/cdnow_1m.csv"), &replicate(&base, 1_000_000));
        }
        Some("time") => {
            let (Some(path), Some(model)) = (args.get(1), args.get(2)) else {
                panic!("fit_bench time FILE MODEL [REPS]");
            };
            let reps: usize = args.get(3).map_or(5, |r| r.parse().expect("REPS"));
            let kind = ModelKind::parse(model).expect("bgnbd or pareto-nbd");
            let customers = read_csv(path);
            let opts = FitOptions::default();
            let fit = || -> (f64, Vec<(&'static str, f64)>, bool) {
                match kind {
                    ModelKind::BgNbd => {
                        let f = fit_bgnbd(&customers, &opts).expect("fit");
                        (f.loglik, f.params.named(), f.converged())
                    }
                    ModelKind::ParetoNbd => {
                        let f = fit_pareto_nbd(&customers, &opts).expect("fit");
                        (f.loglik, f.params.named(), f.converged())
                    }
                    _ => panic!("only bgnbd and pareto-nbd"),
                }
            };
            let (loglik, params, converged) = fit();
            let mut times: Vec<f64> = (0..reps)
                .map(|_| {
                    let t0 = Instant::now();
                    std::hint::black_box(fit());
                    t0.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let params: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("\"{k}\": {v}"))
                .collect();
            println!(
                "{{\"model\": \"{}\", \"customers\": {}, \"reps\": {reps}, \"median_s\": {}, \"min_s\": {}, \"loglik\": {loglik}, \"converged\": {converged}, \"params\": {{{}}}}}",
                kind.as_str(),
                customers.len(),
                times[times.len() / 2],
                times[0],
                params.join(", ")
            );
        }
        _ => {
            eprintln!("usage: fit_bench write DIR | fit_bench time FILE MODEL [REPS]");
            std::process::exit(2);
        }
    }
}
